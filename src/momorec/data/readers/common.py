"""Helpers shared by the readers: opening files, JSON lines, text cleaning, typed output tables."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.problems import LogFormatError, ProblemLog
from momorec.data.raw_log import INTERACTION_COLUMNS, ITEM_COLUMNS, RawLog

try:  # orjson parses review lines several times faster; the stdlib parser is the fallback.
    import orjson

    json_loads = orjson.loads
    JSON_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError)
except ImportError:  # pragma: no cover - orjson ships with mlflow's dependencies
    import json

    json_loads = json.loads
    JSON_ERRORS = (ValueError,)

#: Timestamps at or above this are milliseconds: 1e11 s is the year 5138, 1e11 ms is March 1973.
MILLISECONDS_THRESHOLD = 100_000_000_000
#: Separator used when a category path arrives as a list or a comma-joined string.
CATEGORY_PATH_SEPARATOR = " > "


def require_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise LogFormatError(f"{path}: file not found")
    return path


def open_binary(path: Path) -> io.BufferedIOBase:
    """Open plain or gzipped files alike (gzip is detected from the magic bytes, not the name)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        # GzipFile.readline is pure Python; a BufferedReader on top splits lines in C (about 3x faster).
        return io.BufferedReader(gzip.GzipFile(path, "rb"), buffer_size=1 << 20)
    return path.open("rb", buffering=1 << 20)


def iter_json_lines(path: Path, problems: ProblemLog) -> Iterator[tuple[int, dict]]:
    """Yield (1-based line number, object) for each JSON-object line; record everything else.

    Blank lines are skipped without counting. Bytes that are not UTF-8 are replaced (U+FFFD) and the line
    is kept, because the broken bytes usually sit in free text the reader does not use.
    """
    with open_binary(path) as handle:
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            problems.rows_read += 1
            try:
                record = json_loads(raw)  # bytes straight in: the parser checks UTF-8 itself
            except JSON_ERRORS:
                record = _parse_bad_line(raw, line_no, problems)
                if record is None:
                    continue
            if not isinstance(record, dict):
                problems.add("not_a_json_object", line_no)
                continue
            yield line_no, record


def _parse_bad_line(raw: bytes, line_no: int, problems: ProblemLog) -> Any:
    """A line the fast path refused: retry with non-UTF-8 bytes replaced, else record it as malformed."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.add("non_utf8_bytes_replaced", line_no)
        try:
            return json_loads(raw.decode("utf-8", errors="replace"))
        except JSON_ERRORS:
            pass
    problems.add("malformed_json", line_no)
    return None


def blank_to_na(values: pd.Series) -> pd.Series:
    """Strings that are empty or only whitespace count as missing."""
    values = values.astype("string").str.strip()
    return values.mask(values == "")


def timestamps_to_seconds(
    values: pd.Series, line_numbers: np.ndarray, problems: ProblemLog
) -> tuple[pd.Series, np.ndarray]:
    """Coerce to int64 Unix seconds; values that look like milliseconds are divided by 1000.

    Returns the converted values and a mask of usable rows; unusable ones are recorded as
    ``missing_timestamp`` or ``bad_timestamp``.
    """
    missing = values.isna().to_numpy()
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna().to_numpy() & ~missing
    negative = (numeric < 0).fillna(False).to_numpy()
    problems.add("missing_timestamp", line_numbers[missing])
    problems.add("bad_timestamp", line_numbers[bad | negative])
    ok = ~(missing | bad | negative)
    as_float = numeric.to_numpy(dtype="float64", na_value=np.nan)
    is_ms = ok & (as_float >= MILLISECONDS_THRESHOLD)
    seconds = np.where(is_ms, np.floor_divide(np.nan_to_num(as_float), 1000), np.nan_to_num(as_float))
    units = problems.notes.setdefault("timestamp_units", {"seconds": 0, "milliseconds": 0})
    units["milliseconds"] += int(is_ms.sum())
    units["seconds"] += int((ok & ~is_ms).sum())
    return pd.Series(seconds.astype("int64"), index=values.index), ok


def to_float(values: pd.Series) -> pd.Series:
    """Numbers, numeric strings and prices like "$1,299.00" to float; anything else ("—", "N/A") to NaN."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.replace(r"[$,\s]", "", regex=True)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def join_text(value: Any, sep: str) -> Any:
    """A list of strings joined with ``sep``; a plain string kept; anything empty becomes None."""
    if isinstance(value, list):
        parts = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return sep.join(parts) if parts else None
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def category_path(value: Any) -> Any:
    """A category path as ``A > B > C`` whether it arrives as a list or a comma-joined string."""
    if isinstance(value, str):
        value = value.split(",")
    return join_text(value, CATEGORY_PATH_SEPARATOR)


def finish_interactions(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(INTERACTION_COLUMNS)].astype(INTERACTION_COLUMNS).reset_index(drop=True)


def finish_items(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ITEM_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame = frame[list(ITEM_COLUMNS)].copy()
    for column in ("item_id", "title", "category", "brand", "description"):
        frame[column] = blank_to_na(frame[column])
    frame["price"] = to_float(frame["price"])
    return frame.astype(ITEM_COLUMNS).reset_index(drop=True)


def id_columns(table: pd.DataFrame, lines: np.ndarray, problems: ProblemLog) -> tuple[pd.Series, pd.Series]:
    """The user and item id columns with blanks as missing; rows missing either are recorded."""
    user = blank_to_na(table["user_id"])
    item = blank_to_na(table["item_id"])
    problems.add("missing_user_id", lines[user.isna().to_numpy()])
    problems.add("missing_item_id", lines[(item.isna() & user.notna()).to_numpy()])
    return user, item


def complete_interactions(
    user: pd.Series, item: pd.Series, timestamp: pd.Series, timestamp_ok: np.ndarray, rating: pd.Series
) -> pd.DataFrame:
    """The typed interactions table of the rows with a user, an item and a usable timestamp."""
    keep = user.notna().to_numpy() & item.notna().to_numpy() & timestamp_ok
    return finish_interactions(
        pd.DataFrame({"user_id": user, "item_id": item, "timestamp": timestamp, "rating": rating})[keep]
    )


def assemble_raw_log(
    interactions: pd.DataFrame, items: pd.DataFrame, source: str, problem_logs: list[ProblemLog]
) -> RawLog:
    """The reader's result: both tables and, per file read, its parse report."""
    return RawLog(
        interactions=interactions,
        items=items,
        source=source,
        parse_report={problems.path: problems.as_dict() for problems in problem_logs},
    )
