"""Requests as users send them (product-id histories) to ranked answers, one row per request.

Input: a DataFrame with ``history`` (a list of product ids, oldest first) and optionally ``k`` and
``exclude`` (product ids never to recommend). Output: ``product_ids``, ``titles``, ``scores`` (lists, best
first), ``unknown_items`` (ids of the history or of ``exclude`` the model does not know: ignored, reported)
and ``popularity_fallback`` (no known item in the history: ranked by training popularity).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from momorec.serving.recommender import Histories, Recommender

DEFAULT_K = 10
ANSWER_COLUMNS = ["product_ids", "titles", "scores", "unknown_items", "popularity_fallback"]


class RequestError(ValueError):
    """A request the model cannot answer as sent (the caller's mistake: HTTP 400 when served)."""


def _id_lists(frame: pd.DataFrame, column: str) -> pd.Series:
    """Each row's ids as a flat Series indexed by row position (missing column/cell = no ids)."""
    if column not in frame.columns:
        return pd.Series([], dtype=object, index=pd.Index([], dtype=np.int64))
    cells = frame[column].reset_index(drop=True)
    cells = cells.where(cells.map(lambda cell: not (isinstance(cell, float) and np.isnan(cell))), None)
    bad = cells.map(lambda cell: not (cell is None or isinstance(cell, list | tuple | np.ndarray)))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise RequestError(
            f"{column}: row {row} is {type(cells[row]).__name__}, expected a list of product ids"
        )
    flat = cells.explode().dropna()
    return flat.astype(str)


def _histories(recommender: Recommender, ids: pd.Series, n_rows: int) -> tuple[Histories, pd.Series]:
    item_idx = recommender.item_indices(ids.to_numpy())
    known = item_idx >= 0
    rows = ids.index.to_numpy(dtype=np.int64)
    unknown = ids[~known]
    return Histories(n_rows, rows[known], item_idx[known]), unknown


def _requested_k(frame: pd.DataFrame, default_k: int) -> np.ndarray:
    if "k" not in frame.columns:
        return np.full(len(frame), default_k, dtype=np.int64)
    k = pd.to_numeric(frame["k"], errors="coerce")
    given = frame["k"].notna()
    if k[given].isna().any() or (k[given] < 1).any() or (k[given] % 1 != 0).any():
        raise RequestError(f"k: expected whole numbers >= 1, got {frame['k'].tolist()}")
    return k.fillna(default_k).to_numpy(dtype=np.int64)


def answer_requests(
    recommender: Recommender,
    requests: pd.DataFrame,
    mask_history: bool = True,
    default_k: int = DEFAULT_K,
    chunk_size: int = 1024,
) -> pd.DataFrame:
    """One answer row per request row (columns :data:`ANSWER_COLUMNS`), in the requests' order."""
    if "history" not in requests.columns:
        raise RequestError(f"requests: missing column 'history'; got {list(requests.columns)}")
    n_rows = len(requests)
    histories, unknown_history = _histories(recommender, _id_lists(requests, "history"), n_rows)
    exclude, unknown_excluded = _histories(recommender, _id_lists(requests, "exclude"), n_rows)
    ranked = recommender.top_k(
        histories, _requested_k(requests, default_k), exclude, mask_history, chunk_size
    )
    by_row = ranked.groupby("row", sort=True)
    answers = pd.DataFrame(index=pd.RangeIndex(n_rows))
    for column, source in (("product_ids", "product_id"), ("titles", "title"), ("scores", "score")):
        answers[column] = by_row[source].agg(list).reindex(answers.index)
    unknown = pd.concat([unknown_history, unknown_excluded]).groupby(level=0).agg(list)
    answers["unknown_items"] = unknown.reindex(answers.index)
    for column in ("product_ids", "titles", "scores", "unknown_items"):
        answers[column] = answers[column].map(lambda cell: cell if isinstance(cell, list) else [])
    answers["popularity_fallback"] = histories.lengths == 0
    return answers[ANSWER_COLUMNS]
