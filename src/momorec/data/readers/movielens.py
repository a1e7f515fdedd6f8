"""MovieLens 100K original files: ``u.data``, ``u.item`` (latin-1) and ``u.genre``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from momorec.data.problems import ProblemLog
from momorec.data.raw_log import RawLog
from momorec.data.readers.common import (
    assemble_raw_log,
    complete_interactions,
    finish_items,
    id_columns,
    require_file,
)
from momorec.data.readers.text import ESCAPED_BYTE_PATTERN, blank_to_na, to_float
from momorec.data.readers.timestamps import check_timestamp_unit, to_seconds


def _read_delimited(
    path: Path, sep: str, names: list[str], encoding: str, problems: ProblemLog
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a headerless delimited file as strings; lines with the wrong field count are recorded.

    Returns the frame and the 1-based line number of each row.
    """
    raw = require_file(path).read_bytes()
    try:
        text, escaped = raw.decode(encoding), False
    except UnicodeDecodeError:
        # Broken bytes are kept as escapes (\xe9), so ids that differ only there stay distinct.
        text, escaped = raw.decode(encoding, errors="backslashreplace"), True
    lines = pd.Series(text.splitlines(), dtype="object")
    line_numbers = np.arange(1, len(lines) + 1)
    if escaped:
        has_escape = lines.str.contains(ESCAPED_BYTE_PATTERN, regex=True).to_numpy()
        problems.add("non_utf8_bytes_escaped", line_numbers[has_escape])
    blank = lines.str.strip().eq("").to_numpy()
    lines, line_numbers = lines[~blank], line_numbers[~blank]
    problems.rows_read = len(lines)
    fields = lines.str.split(sep, regex=False)
    right_width = fields.str.len().eq(len(names)).to_numpy()
    problems.add("wrong_number_of_fields", line_numbers[~right_width])
    frame = (
        pd.DataFrame(fields[right_width].tolist(), columns=names)
        if right_width.any()
        else pd.DataFrame(columns=names)
    )
    return frame, line_numbers[right_width]


def read_movielens(
    data_dir: str | Path, *, max_bad_fraction: float = 0.5, timestamp_unit: str | None = None
) -> RawLog:
    """Read MovieLens 100K: ``u.data`` (tab-separated ratings, Unix seconds), ``u.item`` (latin-1) and ``u.genre``.

    Every rating is an interaction. An item's genres, joined with ", " in ``u.genre`` order, are its category;
    MovieLens has no brand, description or price. The placeholder title "unknown" (item 267 of ML-100K) is
    reported and set to null, so validation counts it as an item without a title.
    """
    data_dir = Path(data_dir)
    data_path, item_path, genre_path = data_dir / "u.data", data_dir / "u.item", data_dir / "u.genre"
    data_problems, item_problems = ProblemLog(data_path), ProblemLog(item_path)

    ratings, lines = _read_delimited(
        data_path, "\t", ["user_id", "item_id", "rating", "timestamp"], "utf-8", data_problems
    )
    user, item = id_columns(ratings, lines, data_problems)
    unit = check_timestamp_unit(timestamp_unit)
    timestamp, ts_ok = to_seconds(blank_to_na(ratings["timestamp"]), lines, data_problems, unit)
    rating = to_float(blank_to_na(ratings["rating"]))
    data_problems.add(
        "unparseable_rating_set_to_null", lines[(rating.isna() & ratings["rating"].notna()).to_numpy()]
    )
    interactions = complete_interactions(user, item, timestamp, ts_ok, rating)
    data_problems.rows_kept = len(interactions)
    data_problems.check_usable(max_bad_fraction, "ratings")

    genre_table = pd.read_csv(
        require_file(genre_path), sep="|", header=None, names=["genre", "index"], dtype=str
    )
    genre_table = genre_table.dropna().astype({"index": int}).sort_values("index")
    genres = genre_table["genre"].tolist()
    base = ["item_id", "title", "release_date", "video_release_date", "imdb_url"]
    catalogue, item_lines = _read_delimited(item_path, "|", base + genres, "latin-1", item_problems)
    flags = catalogue[genres].apply(pd.to_numeric, errors="coerce").fillna(0).astype(bool)
    # Vectorised "join the names of the set flags": each True contributes "name, ".
    category = flags.dot(pd.Series([g + ", " for g in genres], index=genres)).str.rstrip(", ")
    # MovieLens marks a film it could not identify with the title "unknown": that is a missing title.
    placeholder = catalogue["title"].str.strip().str.lower().eq("unknown").to_numpy()
    item_problems.add("placeholder_title_unknown_set_to_null", item_lines[placeholder])
    title = catalogue["title"].mask(placeholder)
    items = finish_items(
        pd.DataFrame({"item_id": catalogue["item_id"], "title": title, "category": category})
    )
    item_problems.rows_kept = len(items)
    item_problems.check_usable(max_bad_fraction, "items")
    return assemble_raw_log(interactions, items, f"movielens:{data_dir}", [data_problems, item_problems])
