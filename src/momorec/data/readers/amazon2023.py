"""Amazon Reviews 2023 JSON lines, plain or gzipped: ``<Category>.jsonl(.gz)`` and ``meta_<Category>.jsonl(.gz)``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from momorec.data.problems import ProblemLog
from momorec.data.raw_log import INTERACTION_COLUMNS, RawLog
from momorec.data.readers.common import (
    assemble_raw_log,
    blank_to_na,
    category_path,
    finish_interactions,
    finish_items,
    iter_json_lines,
    join_text,
    require_file,
    timestamps_to_seconds,
    to_float,
)

# The review fields kept per chunk; everything else on the line (text, images, ...) is dropped at once.
_REVIEW_FIELDS = ("user_id", "parent_asin", "asin", "timestamp", "rating")


def _review_chunk(rows: list[tuple], problems: ProblemLog) -> pd.DataFrame:
    """Turn one chunk of (line, user_id, parent_asin, asin, timestamp, rating) tuples into a typed frame."""
    chunk = pd.DataFrame(rows, columns=("line", *_REVIEW_FIELDS))
    lines = chunk["line"].to_numpy()
    user = blank_to_na(chunk["user_id"].astype("string"))
    item = blank_to_na(chunk["parent_asin"].astype("string"))
    # parent_asin is the item id; an older line without it falls back to its variant asin, reported.
    asin = blank_to_na(chunk["asin"].astype("string"))
    use_asin = item.isna() & asin.notna()
    problems.add("parent_asin_missing_used_asin", lines[use_asin.to_numpy()])
    item = item.where(~use_asin, asin)
    no_user = user.isna().to_numpy()
    no_item = item.isna().to_numpy()
    problems.add("missing_user_id", lines[no_user])
    problems.add("missing_item_id", lines[no_item & ~no_user])
    timestamp, ts_ok = timestamps_to_seconds(chunk["timestamp"], lines, problems)
    rating = to_float(chunk["rating"])
    problems.add(
        "unparseable_rating_set_to_null", lines[(rating.isna() & chunk["rating"].notna()).to_numpy()]
    )
    keep = ~no_user & ~no_item & ts_ok
    out = pd.DataFrame(
        {"user_id": user[keep], "item_id": item[keep], "timestamp": timestamp[keep], "rating": rating[keep]}
    )
    return finish_interactions(out)


def _read_reviews(path: Path, chunk_size: int, problems: ProblemLog) -> pd.DataFrame:
    chunks: list[pd.DataFrame] = []
    rows: list[tuple] = []
    for line_no, record in iter_json_lines(path, problems):
        get = record.get
        rows.append(
            (line_no, get("user_id"), get("parent_asin"), get("asin"), get("timestamp"), get("rating"))
        )
        if len(rows) >= chunk_size:
            chunks.append(_review_chunk(rows, problems))
            rows = []
    if rows:
        chunks.append(_review_chunk(rows, problems))
    frame = (
        pd.concat(chunks, ignore_index=True)
        if chunks
        else finish_interactions(pd.DataFrame(columns=list(INTERACTION_COLUMNS)))
    )
    problems.rows_kept = len(frame)
    return frame


def _meta_chunk(rows: list[tuple], problems: ProblemLog) -> pd.DataFrame:
    chunk = pd.DataFrame(
        rows, columns=("line", "item_id", "title", "category", "brand", "description", "price")
    )
    lines = chunk["line"].to_numpy()
    chunk["item_id"] = blank_to_na(chunk["item_id"].astype("string"))
    missing_id = chunk["item_id"].isna().to_numpy()
    problems.add("missing_parent_asin", lines[missing_id])
    price = to_float(chunk["price"].astype("object"))
    problems.add("unparseable_price_set_to_null", lines[(price.isna() & chunk["price"].notna()).to_numpy()])
    chunk["price"] = price
    return finish_items(chunk[~missing_id].drop(columns="line"))


def _read_meta(path: Path, chunk_size: int, problems: ProblemLog) -> pd.DataFrame:
    chunks: list[pd.DataFrame] = []
    rows: list[tuple] = []
    for line_no, record in iter_json_lines(path, problems):
        get = record.get
        # The category path when present, else the top-level category; `bought_together` is never read.
        category = category_path(get("categories")) or join_text(get("main_category"), " ")
        rows.append(
            (
                line_no,
                get("parent_asin"),
                join_text(get("title"), " "),
                category,
                join_text(get("store"), " "),
                join_text(get("description"), " "),
                get("price"),
            )
        )
        if len(rows) >= chunk_size:
            chunks.append(_meta_chunk(rows, problems))
            rows = []
    if rows:
        chunks.append(_meta_chunk(rows, problems))
    frame = pd.concat(chunks, ignore_index=True) if chunks else finish_items(pd.DataFrame())
    problems.rows_kept = len(frame)
    return frame


def read_amazon2023(
    reviews_path: str | Path,
    meta_path: str | Path,
    chunk_size: int = 100_000,
    *,
    max_bad_fraction: float = 0.5,
) -> RawLog:
    """Read an Amazon Reviews 2023 category: ``<Category>.jsonl(.gz)`` and ``meta_<Category>.jsonl(.gz)``.

    Lines are parsed one at a time and gathered ``chunk_size`` at a time into small typed frames holding only
    the needed fields, so a multi-GB file is never held in memory as text and as a table at once.
    ``parent_asin`` is the item id; millisecond timestamps are converted to seconds (detected per value);
    prices that are not numbers ("—") become null; ``categories`` is joined into a path (falling back to
    ``main_category``), ``store`` is the brand, the ``description`` list is joined into one text.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    reviews_path, meta_path = require_file(reviews_path), require_file(meta_path)
    review_problems, meta_problems = ProblemLog(reviews_path), ProblemLog(meta_path)
    interactions = _read_reviews(reviews_path, chunk_size, review_problems)
    review_problems.check_usable(max_bad_fraction, "review lines")
    items = _read_meta(meta_path, chunk_size, meta_problems)
    meta_problems.check_usable(max_bad_fraction, "item lines")
    return assemble_raw_log(
        interactions, items, f"amazon2023:{reviews_path}", [review_problems, meta_problems]
    )
