"""Amazon Reviews 2023 JSON lines, plain or gzipped: ``<Category>.jsonl(.gz)`` and ``meta_<Category>.jsonl(.gz)``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from momorec.data.problems import ProblemLog
from momorec.data.raw_log import INTERACTION_COLUMNS, ITEM_COLUMNS, RawLog
from momorec.data.readers.common import (
    assemble_raw_log,
    exact_json,
    finish_interactions,
    finish_items,
    iter_json_lines,
    require_file,
)
from momorec.data.readers.text import category_path, ids_as_text, join_text, to_float
from momorec.data.readers.timestamps import check_timestamp_unit, to_seconds

# The review fields kept per chunk; everything else on the line (text, images, ...) is dropped at once.
_REVIEW_FIELDS = ("user_id", "parent_asin", "asin", "timestamp", "rating")
_META_FIELDS = ("item_id", "title", "category", "brand", "description", "price")
#: The id fields: kept as parsed Python values until they are turned into text.
_REVIEW_ID_FIELDS = ("user_id", "parent_asin", "asin")


def _chunk_frame(rows: list[tuple], columns: tuple[str, ...], id_columns: tuple[str, ...]) -> pd.DataFrame:
    """One column per field; id columns keep the parsed Python values, because pandas would turn integer
    ids with a gap into floats. The other columns get their natural dtype."""
    chunk = pd.DataFrame(rows, columns=list(columns), dtype=object)
    for name in columns:
        if name not in id_columns:
            chunk[name] = chunk[name].infer_objects()
    return chunk


def _review_chunk(rows: list[tuple], problems: ProblemLog, timestamp_unit: str | None) -> pd.DataFrame:
    """Turn one chunk of (line, user_id, parent_asin, asin, timestamp, rating) tuples into a typed frame."""
    chunk = _chunk_frame(rows, ("line", *_REVIEW_FIELDS), _REVIEW_ID_FIELDS)
    lines = chunk["line"].to_numpy(dtype=np.int64)
    user, user_rejected = ids_as_text(chunk["user_id"], lines, problems, "user_id")
    item, item_rejected = ids_as_text(chunk["parent_asin"], lines, problems, "parent_asin")
    # parent_asin is the item id; an older line without it falls back to its variant asin, reported.
    asin, _ = ids_as_text(chunk["asin"], lines, problems, "asin")
    use_asin = (item.isna() & asin.notna()).to_numpy() & ~item_rejected
    problems.add("parent_asin_missing_used_asin", lines[use_asin])
    item = item.where(~use_asin, asin)
    no_user = user.isna().to_numpy()
    no_item = item.isna().to_numpy()
    problems.add("missing_user_id", lines[no_user & ~user_rejected])
    problems.add("missing_item_id", lines[no_item & ~no_user & ~item_rejected])
    timestamp, ts_ok = to_seconds(chunk["timestamp"], lines, problems, timestamp_unit)
    rating = to_float(chunk["rating"])
    problems.add(
        "unparseable_rating_set_to_null", lines[(rating.isna() & chunk["rating"].notna()).to_numpy()]
    )
    keep = ~no_user & ~no_item & ts_ok
    out = pd.DataFrame(
        {"user_id": user[keep], "item_id": item[keep], "timestamp": timestamp[keep], "rating": rating[keep]}
    )
    return finish_interactions(out)


def _review_row(line_no: int, record: dict, raw: bytes) -> tuple:
    get = record.get
    user, parent_asin, asin = get("user_id"), get("parent_asin"), get("asin")
    if float in (type(user), type(parent_asin), type(asin)):  # maybe a long integer orjson rounded
        get = exact_json(raw).get
        user, parent_asin, asin = get("user_id"), get("parent_asin"), get("asin")
    return (line_no, user, parent_asin, asin, get("timestamp"), get("rating"))


def _meta_chunk(rows: list[tuple], problems: ProblemLog) -> pd.DataFrame:
    chunk = _chunk_frame(rows, ("line", *_META_FIELDS), ("item_id",))
    lines = chunk["line"].to_numpy(dtype=np.int64)
    chunk["item_id"], rejected = ids_as_text(chunk["item_id"], lines, problems, "parent_asin")
    missing_id = chunk["item_id"].isna().to_numpy()
    problems.add("missing_parent_asin", lines[missing_id & ~rejected])
    price = to_float(chunk["price"].astype("object"))
    problems.add("unparseable_price_set_to_null", lines[(price.isna() & chunk["price"].notna()).to_numpy()])
    chunk["price"] = price
    return finish_items(chunk[~missing_id].drop(columns="line"))


def _meta_row(line_no: int, record: dict, raw: bytes) -> tuple:
    get = record.get
    if type(get("parent_asin")) is float:  # maybe a long integer orjson rounded
        get = exact_json(raw).get
    # The category path when present, else the top-level category; `bought_together` is never read.
    category = category_path(get("categories")) or join_text(get("main_category"), " ")
    return (
        line_no,
        get("parent_asin"),
        join_text(get("title"), " "),
        category,
        join_text(get("store"), " "),
        join_text(get("description"), " "),
        get("price"),
    )


def _read_in_chunks(
    path: Path,
    problems: ProblemLog,
    chunk_size: int,
    row_of: Callable[[int, dict, bytes], tuple],
    frame_of: Callable[[list[tuple]], pd.DataFrame],
    empty: pd.DataFrame,
) -> pd.DataFrame:
    """Parse the lines one at a time and turn every ``chunk_size`` of them into a typed frame."""
    chunks: list[pd.DataFrame] = []
    rows: list[tuple] = []
    for line_no, record, raw in iter_json_lines(path, problems):
        rows.append(row_of(line_no, record, raw))
        if len(rows) >= chunk_size:
            chunks.append(frame_of(rows))
            rows = []
    if rows:
        chunks.append(frame_of(rows))
    frame = pd.concat(chunks, ignore_index=True) if chunks else empty
    problems.rows_kept = len(frame)
    return frame


def read_amazon2023(
    reviews_path: str | Path,
    meta_path: str | Path,
    chunk_size: int = 100_000,
    *,
    max_bad_fraction: float = 0.5,
    timestamp_unit: str | None = None,
) -> RawLog:
    """Read an Amazon Reviews 2023 category: ``<Category>.jsonl(.gz)`` and ``meta_<Category>.jsonl(.gz)``.

    Lines are parsed one at a time and gathered ``chunk_size`` at a time into small typed frames holding only
    the needed fields, so a multi-GB file is never held in memory as text and as a table at once.
    ``parent_asin`` is the item id; timestamps are converted to seconds (``timestamp_unit``, or detected from
    each value's magnitude, see :mod:`momorec.data.readers.timestamps`); prices that are not numbers ("—")
    become null; ``categories`` is joined into a path (falling back to ``main_category``), ``store`` is the
    brand, the ``description`` list is joined into one text.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    unit = check_timestamp_unit(timestamp_unit)
    reviews_path, meta_path = require_file(reviews_path), require_file(meta_path)
    review_problems, meta_problems = ProblemLog(reviews_path), ProblemLog(meta_path)

    def review_frame(rows: list[tuple]) -> pd.DataFrame:
        return _review_chunk(rows, review_problems, unit)

    def meta_frame(rows: list[tuple]) -> pd.DataFrame:
        return _meta_chunk(rows, meta_problems)

    no_reviews = finish_interactions(pd.DataFrame(columns=list(INTERACTION_COLUMNS)))
    interactions = _read_in_chunks(
        reviews_path, review_problems, chunk_size, _review_row, review_frame, no_reviews
    )
    review_problems.check_usable(max_bad_fraction, "review lines")
    no_items = finish_items(pd.DataFrame(columns=list(ITEM_COLUMNS)))
    items = _read_in_chunks(meta_path, meta_problems, chunk_size, _meta_row, meta_frame, no_items)
    meta_problems.check_usable(max_bad_fraction, "item lines")
    return assemble_raw_log(
        interactions, items, f"amazon2023:{reviews_path}", [review_problems, meta_problems]
    )
