"""Batch scoring: top-k recommendations for every user of a data set (or a given list), in chunks.

A user's history is every interaction the data set holds for them (training, validation and test), oldest
first: batch scores are for the user's next purchase, not an evaluation. The output has one row per
(user, rank): user_id, rank (1 = best), product_id, score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from momorec.serving.recommender import Histories, Recommender

RECOMMENDATION_COLUMNS = ["user_id", "rank", "product_id", "score"]


def user_histories(
    interactions: pd.DataFrame, users: pd.DataFrame, user_ids: Sequence[str] | None = None
) -> tuple[np.ndarray, Histories]:
    """The user ids to score (all of ``users`` or ``user_ids``, in that order) and their histories.

    ``interactions``: user_idx, item_idx, position; ``users``: user_idx, user_id. An id in ``user_ids`` that
    the data set does not hold is an error naming it (a list of users to score is a deliberate choice).
    """
    for name, table, columns in (
        ("interactions", interactions, ("user_idx", "item_idx", "position")),
        ("users", users, ("user_idx", "user_id")),
    ):
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"{name}: missing column(s) {missing}")
    known = users.assign(user_id=users["user_id"].astype(str)).sort_values("user_idx")
    if user_ids is None:
        selected = known
    else:
        wanted = pd.Index([str(u) for u in user_ids])
        position = pd.Index(known["user_id"]).get_indexer(wanted)
        if (position < 0).any():
            raise ValueError(f"scoring.user_ids: unknown user id(s) {list(wanted[position < 0][:10])}")
        selected = known.iloc[position]
    row_of_user = pd.Series(np.arange(len(selected)), index=selected["user_idx"].to_numpy())
    chosen = interactions[interactions["user_idx"].isin(row_of_user.index)]
    chosen = chosen.assign(row=row_of_user.reindex(chosen["user_idx"]).to_numpy())
    chosen = chosen.sort_values(["row", "position"], kind="stable")
    histories = Histories(len(selected), chosen["row"].to_numpy(), chosen["item_idx"].to_numpy())
    return selected["user_id"].to_numpy(), histories


def score_users(
    recommender: Recommender,
    user_ids: np.ndarray,
    histories: Histories,
    k: int = 10,
    chunk_size: int = 2048,
    mask_history: bool = True,
) -> pd.DataFrame:
    """One row per (user, rank) with the columns of :data:`RECOMMENDATION_COLUMNS`."""
    if len(user_ids) != histories.n_rows:
        raise ValueError(f"{len(user_ids)} user ids for {histories.n_rows} histories")
    ranked = recommender.top_k(histories, int(k), mask_history=mask_history, chunk_size=chunk_size)
    return pd.DataFrame(
        {
            "user_id": np.asarray(user_ids, dtype=object)[ranked["row"].to_numpy(dtype=np.int64)],
            "rank": ranked["rank"].astype(np.int64),
            "product_id": ranked["product_id"].astype(str),
            "score": ranked["score"].astype(np.float64),
        },
        columns=RECOMMENDATION_COLUMNS,
    )
