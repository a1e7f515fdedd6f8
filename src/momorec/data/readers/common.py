"""Helpers shared by the readers: opening files, JSON lines, typed output tables, the assembled RawLog."""

from __future__ import annotations

import gzip
import io
import json
import logging
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.problems import LogFormatError, ProblemLog
from momorec.data.raw_log import INTERACTION_COLUMNS, ITEM_COLUMNS, RawLog
from momorec.data.readers.text import JSON_BYTE_ESCAPE, blank_to_na, ids_as_text, is_utf8, to_float
from momorec.data.readers.timestamps import flag_mixed_units

try:  # orjson parses review lines several times faster; the stdlib parser is the fallback.
    import orjson

    json_loads = orjson.loads
    JSON_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError)
except ImportError:  # pragma: no cover - orjson ships with mlflow's dependencies
    json_loads = json.loads
    JSON_ERRORS = (ValueError,)

#: What reading a damaged compressed file raises (truncated: EOFError; bad header or CRC: BadGzipFile).
COMPRESSION_ERRORS: tuple[type[Exception], ...] = (EOFError, gzip.BadGzipFile, zlib.error)

logger = logging.getLogger(__name__)


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


def iter_json_lines(path: Path, problems: ProblemLog) -> Iterator[tuple[int, dict, bytes]]:
    """Yield (1-based line number, object, raw line) for each JSON-object line; record everything else.

    Blank lines are skipped without counting. Bytes that are not UTF-8 are kept as backslash escapes and the
    line is kept (reported). The raw line lets a caller parse it again with :func:`exact_json` where an id
    field came back as a float. A truncated or corrupt compressed file raises :class:`LogFormatError`
    naming the file.
    """
    line_no = 0
    try:
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
                yield line_no, record, raw
    except COMPRESSION_ERRORS as error:
        raise LogFormatError(
            f"{path}: the compressed file is truncated or corrupt after line {line_no} "
            f"({type(error).__name__}: {error})"
        ) from error


def exact_json(raw: bytes) -> Any:
    """A line parsed by the standard library: integers of any length stay integers.

    orjson turns integers beyond 64 bits into floats, which would round distinct 30-digit ids into one.
    """
    return json.loads(raw.decode("utf-8", errors=JSON_BYTE_ESCAPE))


def _parse_bad_line(raw: bytes, line_no: int, problems: ProblemLog) -> Any:
    """A line the fast path refused: retry with non-UTF-8 bytes escaped, else record it as malformed."""
    if not is_utf8(raw):
        problems.add("non_utf8_bytes_escaped", line_no)
        try:
            return exact_json(raw)
        except ValueError:
            pass
    problems.add("malformed_json", line_no)
    return None


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
    """The user and item ids as text, blanks as missing; rows missing either are recorded (once per row)."""
    user, user_rejected = ids_as_text(table["user_id"], lines, problems, "user_id")
    item, item_rejected = ids_as_text(table["item_id"], lines, problems, "item_id")
    problems.add("missing_user_id", lines[user.isna().to_numpy() & ~user_rejected])
    problems.add("missing_item_id", lines[(item.isna() & user.notna()).to_numpy() & ~item_rejected])
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
    """The reader's result: both tables and, per file read, its parse report (each problem also logged)."""
    for problems in problem_logs:
        flag_mixed_units(problems)
        problems.log(logger, "parse")
    return RawLog(
        interactions=interactions,
        items=items,
        source=source,
        parse_report={problems.path: problems.as_dict() for problems in problem_logs},
    )
