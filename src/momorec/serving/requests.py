"""Requests as users send them (product-id histories) to ranked answers, one row per request.

Input: a DataFrame with ``history`` (a list of product ids, oldest first) and optionally ``k`` and
``exclude`` (product ids never to recommend). Output: ``product_ids``, ``titles``, ``scores`` (lists, best
first), ``unknown_items`` (ids of the history or of ``exclude`` the model does not know: ignored, reported),
``popularity_fallback`` (no known item in the history: ranked by training popularity, the scores are
training purchase counts) and ``notes`` (what was adjusted, e.g. a ``k`` above the catalogue size).

:func:`validate_requests` is the one check of a request's rows, used by the served model, ``recommend`` and
(for ``k``) the batch scorer: ids are non-empty strings (never recast: a null or a number is an error, not
``"None"``), ``k`` a whole number >= 1 (above the catalogue: clamped, with a note), ``exclude`` a list,
``mask_history`` a boolean. An error names the field and the rows, never echoes the values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from momorec.serving.recommender import Histories, Recommender

DEFAULT_K = 10
ANSWER_COLUMNS = ["product_ids", "titles", "scores", "unknown_items", "popularity_fallback", "notes"]
#: How many offending rows an error names (a 1,000-row request with one bad column stays a short message).
NAMED_ROWS = 5
LIST_TYPES = (list, tuple, np.ndarray)


class RequestError(ValueError):
    """A request the model cannot answer as sent (the caller's mistake: HTTP 400 when served)."""


def _rows(positions: np.ndarray | list[int]) -> str:
    positions = [int(p) for p in positions]
    named = ", ".join(str(p) for p in positions[:NAMED_ROWS])
    more = f" and {len(positions) - NAMED_ROWS} more" if len(positions) > NAMED_ROWS else ""
    return f"row{'s' if len(positions) > 1 else ''} {named}{more}"


def _is_missing(cell: Any) -> bool:
    return cell is None or (isinstance(cell, float) and math.isnan(cell))


def whole_number(value: Any, name: str) -> int:
    """``value`` as an int >= 1, or :class:`RequestError` naming ``name`` (5.0 is 5; 5.5, "5", True are not)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise RequestError(f"{name}: expected a whole number >= 1, got {type(value).__name__}")
    if not (isinstance(value, Integral) or (math.isfinite(value) and float(value).is_integer())):
        raise RequestError(f"{name}: expected a whole number >= 1, got a number with a fraction or inf/nan")
    number = int(value)
    if number < 1:
        raise RequestError(f"{name}: expected a whole number >= 1, got {number}")
    return number


def boolean(value: Any, name: str) -> bool:
    """``value`` if it is true or false (a JSON boolean), else :class:`RequestError` naming ``name``."""
    if not isinstance(value, bool | np.bool_):
        raise RequestError(f"{name}: expected true or false, got {type(value).__name__}")
    return bool(value)


def _id_lists(frame: pd.DataFrame, column: str, required: bool) -> tuple[pd.Series, list[str]]:
    """Each row's ids as a flat Series of strings indexed by row position, and the problems found.

    A missing cell is no ids (``exclude``) or an error (``history``: send ``[]`` for no history). Every id
    must be a non-empty string: a null, a number or a nested list is a problem of its row, never recast.
    """
    empty = pd.Series([], dtype=object, index=pd.Index([], dtype=np.int64))
    if column not in frame.columns:
        return empty, []
    cells = frame[column].reset_index(drop=True)
    missing = cells.map(_is_missing).to_numpy(dtype=bool)
    problems = []
    if required and missing.any():
        problems.append(f"{column}: {_rows(np.flatnonzero(missing))} missing (send [] for no history)")
    not_list = ~missing & ~cells.map(lambda cell: isinstance(cell, LIST_TYPES)).to_numpy(dtype=bool)
    if not_list.any():
        problems.append(f"{column}: {_rows(np.flatnonzero(not_list))} not a list of product ids")
    lists = cells[~missing & ~not_list]
    if lists.empty:
        return empty, problems
    flat = lists.map(list).explode()
    flat = flat[lists.map(len).reindex(flat.index).to_numpy() > 0]  # explode turns [] into one NaN
    good = flat.map(lambda item: isinstance(item, str) and item.strip() != "").to_numpy(dtype=bool)
    if not good.all():
        problems.append(
            f"{column}: {_rows(np.unique(flat.index[~good]))}: every product id must be a non-empty string "
            "(found a null, a number, a list or a blank)"
        )
    return flat.astype(str), problems


def _requested_k(frame: pd.DataFrame, default_k: int) -> tuple[np.ndarray, list[str]]:
    if "k" not in frame.columns:
        return np.full(len(frame), default_k, dtype=np.int64), []
    column = frame["k"].reset_index(drop=True)
    if pd.api.types.is_integer_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        k = column.to_numpy(dtype=np.int64)  # the common case, checked without a Python loop
        bad = np.flatnonzero(k < 1)
    else:
        k, bad_rows = np.full(len(frame), default_k, dtype=np.int64), []
        for row, cell in enumerate(column.tolist()):
            if _is_missing(cell):
                continue
            try:  # a k above the int64 range is clamped below, so it is kept as an upper bound here
                k[row] = min(whole_number(cell, "k"), np.iinfo(np.int64).max)
            except RequestError:
                bad_rows.append(row)
        bad = np.asarray(bad_rows, dtype=np.int64)
    if len(bad):
        return k, [f"k: {_rows(bad)} not a whole number >= 1"]
    return k, []


@dataclass
class ValidRequests:
    """The checked rows of a request: flat (row-indexed) id Series, k per row (clamped) and notes per row."""

    n_rows: int
    history: pd.Series
    exclude: pd.Series
    k: np.ndarray
    notes: list[list[str]] = field(default_factory=list)


def validate_requests(requests: pd.DataFrame, n_items: int, default_k: int = DEFAULT_K) -> ValidRequests:
    """Check every row of ``requests`` at once; raise one :class:`RequestError` listing every problem."""
    if not isinstance(requests, pd.DataFrame):
        raise RequestError(f"requests: expected a table of requests, got {type(requests).__name__}")
    if "history" not in requests.columns:
        raise RequestError(
            f"requests: missing column 'history' (a list of product ids per row); got {len(requests.columns)} "
            "other column(s)"
        )
    default_k = whole_number(default_k, "params.default_k")
    history, problems = _id_lists(requests, "history", required=True)
    exclude, exclude_problems = _id_lists(requests, "exclude", required=False)
    k, k_problems = _requested_k(requests, default_k)
    problems += exclude_problems + k_problems
    if problems:
        raise RequestError("; ".join(problems))
    notes: list[list[str]] = [[] for _ in range(len(requests))]
    for row in np.flatnonzero(k > n_items):
        notes[row].append(f"k {int(k[row])} is above the catalogue size: clamped to {n_items}")
    return ValidRequests(len(requests), history, exclude, np.minimum(k, n_items), notes)


def _histories(recommender: Recommender, ids: pd.Series, n_rows: int) -> tuple[Histories, pd.Series]:
    item_idx = recommender.item_indices(ids.to_numpy())
    known = item_idx >= 0
    rows = ids.index.to_numpy(dtype=np.int64)
    unknown = ids[~known]
    return Histories(n_rows, rows[known], item_idx[known]), unknown


def answer_requests(
    recommender: Recommender,
    requests: pd.DataFrame,
    mask_history: bool = True,
    default_k: int = DEFAULT_K,
    chunk_size: int = 1024,
) -> pd.DataFrame:
    """One answer row per request row (columns :data:`ANSWER_COLUMNS`), in the requests' order."""
    mask_history = boolean(mask_history, "params.mask_history")
    valid = validate_requests(requests, recommender.n_items, default_k)
    n_rows = valid.n_rows
    histories, unknown_history = _histories(recommender, valid.history, n_rows)
    exclude, unknown_excluded = _histories(recommender, valid.exclude, n_rows)
    ranked = recommender.top_k(histories, valid.k, exclude, mask_history, chunk_size)
    by_row = ranked.groupby("row", sort=True)
    answers = pd.DataFrame(index=pd.RangeIndex(n_rows))
    for column, source in (("product_ids", "product_id"), ("titles", "title"), ("scores", "score")):
        answers[column] = by_row[source].agg(list).reindex(answers.index)
    unknown = pd.concat([unknown_history, unknown_excluded]).groupby(level=0).agg(list)
    answers["unknown_items"] = unknown.reindex(answers.index)
    for column in ("product_ids", "titles", "scores", "unknown_items"):
        answers[column] = answers[column].map(lambda cell: cell if isinstance(cell, list) else [])
    answers["popularity_fallback"] = histories.lengths == 0
    answers["notes"] = valid.notes
    return answers[ANSWER_COLUMNS]
