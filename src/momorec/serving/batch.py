"""Batch scoring: top-k recommendations for every user of a data set (or a given list), in chunks.

A user's history is every interaction the data set holds for them (training, validation and test), oldest
first: batch scores are for the user's next purchase, not an evaluation. The output has one row per
(user, rank): user_id, rank (1 = best), product_id, score, popularity_fallback. For a user with no history
the ranking is the training popularity and ``score`` is a purchase count, not a model score: the
``popularity_fallback`` column says which rows those are.

:func:`score_dataset` is what the scoring pipeline runs: it refuses a model whose item vocabulary is not the
data set's item index, refuses a user list that names a user twice, and leaves out users whose history it
cannot read (an item index outside the vocabulary, a null) as long as they stay within the failure budget
``max_bad_fraction``; what it left out is counted, with examples, in its report.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.problems import ProblemLog
from momorec.serving.recommender import Histories, Recommender
from momorec.serving.requests import boolean, whole_number

logger = logging.getLogger(__name__)

RECOMMENDATION_COLUMNS = ["user_id", "rank", "product_id", "score", "popularity_fallback"]


class ScoringError(ValueError):
    """Batch scoring cannot go on: wrong model for the data, a bad user list, or too many unreadable users."""


def vocabulary_fingerprint(item_ids: Sequence[str] | np.ndarray | pd.Series) -> str:
    """A short hash of the product ids in item_idx order: equal exactly when two vocabularies are."""
    text = "\n".join(pd.Series(item_ids, dtype=object).astype(str).tolist())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_vocabulary(recommender: Recommender, items: pd.DataFrame, model_label: str) -> None:
    """Raise :class:`ScoringError` unless ``items`` (item_idx, item_id) is the model's item vocabulary.

    The scorer feeds the data set's item indices to the network: another vocabulary (a model trained on
    another shop or another environment) would give recommendations that look valid and are not.
    """
    for column in ("item_idx", "item_id"):
        if column not in items.columns:
            raise ScoringError(f"items (the data set's item index): missing column {column!r}")
    dataset = items.sort_values("item_idx")
    model_ids = recommender.items["item_id"].astype(str).to_numpy()
    dataset_ids = dataset["item_id"].astype(str).to_numpy()
    contiguous = np.array_equal(dataset["item_idx"].to_numpy(), np.arange(len(dataset)))
    if contiguous and np.array_equal(model_ids, dataset_ids):
        return
    common = min(len(model_ids), len(dataset_ids))
    differing = np.flatnonzero(model_ids[:common] != dataset_ids[:common])
    first = (
        f"first difference at item_idx {int(differing[0])}: model {model_ids[differing[0]]!r}, "
        f"data set {dataset_ids[differing[0]]!r}"
        if len(differing)
        else "the shorter one is a prefix of the other"
        if contiguous
        else "the data set's item_idx are not 0..n-1"
    )
    raise ScoringError(
        f"the model {model_label} does not share its item vocabulary with the data set's item index "
        f"(`items`): model {len(model_ids)} items (fingerprint {vocabulary_fingerprint(model_ids)}), data set "
        f"{len(dataset_ids)} items (fingerprint {vocabulary_fingerprint(dataset_ids)}); {first}. Score this "
        "data set with a model trained on it (run the recommender stage in the same environment, or point "
        "params:scoring.alias at such a model)."
    )


def _selected_users(users: pd.DataFrame, user_ids: Sequence[str] | None) -> pd.DataFrame:
    ids = (
        users["user_id"].where(users["user_id"].notna(), "").astype(str)
    )  # a null id stays blank, not "None"
    known = users.assign(user_id=ids).sort_values("user_idx")
    named = known["user_id"][known["user_id"].str.strip() != ""]
    repeated = named[named.duplicated()].unique()
    if len(repeated):
        raise ScoringError(
            f"users: {len(repeated)} user id(s) appear under several user_idx (first: {list(repeated[:5])}); "
            "the data set's users must be unique"
        )
    if user_ids is None:
        return known
    if isinstance(user_ids, str):
        raise ScoringError("scoring.user_ids: expected a list of user ids, got one string")
    wanted = pd.Index([str(u) for u in user_ids])
    if wanted.has_duplicates:
        twice = wanted[wanted.duplicated()].unique()
        raise ScoringError(
            f"scoring.user_ids: {len(twice)} user id(s) listed more than once (first: {list(twice[:5])}); "
            "list each user once"
        )
    position = pd.Index(known["user_id"]).get_indexer(wanted)
    if (position < 0).any():
        raise ScoringError(f"scoring.user_ids: unknown user id(s) {list(wanted[position < 0][:10])}")
    return known.iloc[position]


def user_histories(
    interactions: pd.DataFrame, users: pd.DataFrame, user_ids: Sequence[str] | None = None
) -> tuple[np.ndarray, Histories]:
    """The user ids to score (all of ``users`` or ``user_ids``, in that order) and their histories.

    ``interactions``: user_idx, item_idx, position; ``users``: user_idx, user_id. An id in ``user_ids`` that
    the data set does not hold, or one listed twice, is an error naming it (a list of users to score is a
    deliberate choice).
    """
    for name, table, columns in (
        ("interactions", interactions, ("user_idx", "item_idx", "position")),
        ("users", users, ("user_idx", "user_id")),
    ):
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ScoringError(f"{name}: missing column(s) {missing}")
    selected = _selected_users(users, user_ids)
    row_of_user = pd.Series(np.arange(len(selected)), index=selected["user_idx"].to_numpy())
    chosen = interactions[interactions["user_idx"].isin(row_of_user.index)]
    chosen = chosen.assign(row=row_of_user.reindex(chosen["user_idx"]).to_numpy())
    chosen = chosen.sort_values(["row", "position"], kind="stable")
    item_idx = pd.to_numeric(chosen["item_idx"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    histories = Histories(len(selected), chosen["row"].to_numpy(), item_idx)
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
    k = min(whole_number(k, "scoring.k"), recommender.n_items)
    ranked = recommender.top_k(histories, k, mask_history=mask_history, chunk_size=chunk_size)
    return pd.DataFrame(
        {
            "user_id": np.asarray(user_ids, dtype=object)[ranked["row"].to_numpy(dtype=np.int64)],
            "rank": ranked["rank"].astype(np.int64),
            "product_id": ranked["product_id"].astype(str),
            "score": ranked["score"].astype(np.float64),
            "popularity_fallback": ranked["popularity_fallback"].astype(bool),
        },
        columns=RECOMMENDATION_COLUMNS,
    )


def _unreadable_rows(
    recommender: Recommender, user_ids: np.ndarray, histories: Histories
) -> dict[str, np.ndarray]:
    """Per problem, a boolean mask over the rows (users) that cannot be scored as they are."""
    outside = (histories.items < 0) | (histories.items >= recommender.n_items)
    bad_history = np.bincount(histories.rows[outside], minlength=histories.n_rows) > 0
    blank_id = (pd.Series(user_ids, dtype=object).astype(str).str.strip() == "").to_numpy()
    return {"item_idx_outside_vocabulary_or_null": bad_history & ~blank_id, "blank_user_id": blank_id}


def score_dataset(
    recommender: Recommender,
    interactions: pd.DataFrame,
    users: pd.DataFrame,
    items: pd.DataFrame,
    params: Mapping[str, Any],
    model_label: str = "",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``recommendations`` for the users ``params`` selects, and a report of what was scored and left out.

    ``params``: ``params:scoring`` (k, chunk_size, mask_history, user_ids, max_bad_fraction). Raises
    :class:`ScoringError` for another vocabulary, a user listed twice, or more unreadable users than
    ``max_bad_fraction`` of those selected.
    """
    check_vocabulary(recommender, items, model_label or f"({recommender.variant})")
    user_ids, histories = user_histories(interactions, users, params.get("user_ids"))
    problems = ProblemLog("scoring", example_key="first_user_ids")
    bad = np.zeros(histories.n_rows, dtype=bool)
    for problem, mask in _unreadable_rows(recommender, user_ids, histories).items():
        problems.add_examples(problem, [str(u) for u in user_ids[mask][:5]], int(mask.sum()))
        bad |= mask
    problems.rows_read, problems.rows_kept = histories.n_rows, int((~bad).sum())
    max_bad_fraction = float(params.get("max_bad_fraction", 0.0))
    if bad.any():
        examples = "; ".join(
            f"{name}: {entry['count']} (first user ids {entry['first_user_ids']})"
            for name, entry in problems.problems.items()
        )
        share = bad.sum() / histories.n_rows
        if share > max_bad_fraction:
            raise ScoringError(
                f"scoring: {int(bad.sum())} of {histories.n_rows} users cannot be scored ({share:.1%}, above "
                f"the failure budget params:scoring.max_bad_fraction = {max_bad_fraction:.1%}): "
                f"{examples}"
            )
        problems.log(logger, "scoring: left out users")
    keep = np.flatnonzero(~bad)
    row_map = np.full(histories.n_rows, -1, dtype=np.int64)
    row_map[keep] = np.arange(len(keep))
    in_kept = row_map[histories.rows] >= 0
    kept = Histories(len(keep), row_map[histories.rows[in_kept]], histories.items[in_kept])
    logger.info("scoring %d users with the %s recommender", len(keep), recommender.variant)
    recommendations = score_users(
        recommender,
        user_ids[keep],
        kept,
        params["k"],
        int(params["chunk_size"]),
        boolean(params["mask_history"], "scoring.mask_history"),
    )
    report = {
        "model": model_label,
        "variant": recommender.variant,
        "vocabulary": {
            "n_items": recommender.n_items,
            "fingerprint": vocabulary_fingerprint(recommender.items["item_id"]),
        },
        "users_selected": int(histories.n_rows),
        "users_scored": int(len(keep)),
        "users_popularity_fallback": int((kept.lengths == 0).sum()),
        "max_bad_fraction": max_bad_fraction,
        **problems.as_dict(),
    }
    return recommendations, report
