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


@dataclass
class IdLists:
    """Every row's ids, flattened: ``rows[i]`` is the request row of ``ids[i]`` (rows ascending)."""

    rows: np.ndarray
    ids: np.ndarray

    @classmethod
    def empty(cls) -> IdLists:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))


def _is_product_id(item: Any) -> bool:
    return isinstance(item, str) and item.strip() != ""


def _id_lists(frame: pd.DataFrame, column: str, required: bool) -> tuple[IdLists, list[str]]:
    """Each row's ids as :class:`IdLists`, and the problems found.

    A missing cell is no ids (``exclude``) or an error (``history``: send ``[]`` for no history). Every id
    must be a non-empty string: a null, a number or a nested list is a problem of its row, never recast.
    Plain Python over the cells: a request's rows are few, and pandas' map/explode cost more than the model.
    """
    if column not in frame.columns:
        return IdLists.empty(), []
    cells = frame[column].tolist()
    missing = np.fromiter((_is_missing(cell) for cell in cells), dtype=bool, count=len(cells))
    is_list = np.fromiter((isinstance(cell, LIST_TYPES) for cell in cells), dtype=bool, count=len(cells))
    problems = []
    if required and missing.any():
        problems.append(f"{column}: {_rows(np.flatnonzero(missing))} missing (send [] for no history)")
    not_list = ~missing & ~is_list
    if not_list.any():
        problems.append(f"{column}: {_rows(np.flatnonzero(not_list))} not a list of product ids")
    lists = [list(cell) if listed else [] for cell, listed in zip(cells, is_list, strict=True)]
    lengths = np.fromiter((len(ids) for ids in lists), dtype=np.int64, count=len(lists))
    ids = np.empty(int(lengths.sum()), dtype=object)
    ids[:] = [item for row in lists for item in row]
    rows = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    good = np.fromiter((_is_product_id(item) for item in ids), dtype=bool, count=len(ids))
    if not good.all():
        problems.append(
            f"{column}: {_rows(np.unique(rows[~good]))}: every product id must be a non-empty string "
            "(found a null, a number, a list or a blank)"
        )
    return IdLists(rows, ids), problems


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
    """The checked rows of a request: flat ids with their rows, k per row (clamped) and notes per row."""

    n_rows: int
    history: IdLists
    exclude: IdLists
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


def _histories(recommender: Recommender, ids: IdLists, n_rows: int) -> tuple[Histories, IdLists]:
    item_idx = recommender.item_indices(ids.ids)
    known = item_idx >= 0
    unknown = IdLists(ids.rows[~known], ids.ids[~known])
    return Histories(n_rows, ids.rows[known], item_idx[known]), unknown


def _per_row(rows: np.ndarray, values: np.ndarray, n_rows: int) -> list[list]:
    """``values`` (sorted by ``rows``) as one list per row, empty lists for rows without any."""
    bounds = np.searchsorted(rows, np.arange(1, n_rows))
    return [part.tolist() for part in np.split(values, bounds)] if n_rows else []


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
    rows, _, item_idx, scores = recommender.ranked(histories, valid.k, exclude, mask_history, chunk_size)
    unknown_rows = np.concatenate([unknown_history.rows, unknown_excluded.rows])
    order = np.argsort(unknown_rows, kind="stable")  # per row: the history's unknown ids, then exclude's
    unknown_ids = np.concatenate([unknown_history.ids, unknown_excluded.ids])
    answers = {
        "product_ids": _per_row(rows, recommender.items["item_id"].to_numpy()[item_idx], n_rows),
        "titles": _per_row(rows, recommender.items["title"].to_numpy()[item_idx], n_rows),
        "scores": _per_row(rows, scores, n_rows),
        "unknown_items": _per_row(unknown_rows[order], unknown_ids[order], n_rows),
        "popularity_fallback": histories.lengths == 0,
        "notes": valid.notes,
    }
    return pd.DataFrame(answers, columns=ANSWER_COLUMNS)
