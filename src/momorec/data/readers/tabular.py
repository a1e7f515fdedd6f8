"""Generic CSV / TSV / Parquet tables with the common column names (or a ``column_map`` to them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from momorec.data.problems import LogFormatError, ProblemLog, require_columns
from momorec.data.raw_log import RawLog
from momorec.data.readers.common import (
    COMPRESSION_ERRORS,
    assemble_raw_log,
    complete_interactions,
    finish_items,
    id_columns,
    require_file,
)
from momorec.data.readers.text import ESCAPED_BYTE_PATTERN, blank_to_na, ids_as_text, to_float
from momorec.data.readers.timestamps import check_timestamp_unit, text_to_seconds, to_seconds


def _read_table(path: Path, problems: ProblemLog) -> pd.DataFrame:
    """The file as a table of strings (CSV / TSV) or typed columns (Parquet); damaged files raise naming it."""
    path = require_file(path)
    if path.stat().st_size == 0:
        raise LogFormatError(f"{path}: the file is empty")
    suffixes = "".join(path.suffixes).lower()
    if ".parquet" in suffixes or ".pq" in suffixes:
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid / ArrowIOError
            raise LogFormatError(
                f"{path}: cannot be read as Parquet ({type(error).__name__}: {error})"
            ) from error
    if not (".csv" in suffixes or ".tsv" in suffixes or ".txt" in suffixes):
        raise LogFormatError(f"{path}: unknown table format (expected .csv, .tsv or .parquet)")
    options = {"sep": "\t" if ".tsv" in suffixes else ",", "dtype": str, "keep_default_na": False}
    try:
        try:
            return pd.read_csv(path, encoding="utf-8", **options)
        except UnicodeDecodeError:
            # Broken bytes are kept as escapes (\xe9), so ids that differ only there stay distinct.
            table = pd.read_csv(path, encoding="utf-8", encoding_errors="backslashreplace", **options)
    except pd.errors.ParserError as error:
        raise LogFormatError(f"{path}: cannot be parsed as a table: {error}") from error
    except COMPRESSION_ERRORS as error:
        raise LogFormatError(
            f"{path}: the compressed file is truncated or corrupt ({type(error).__name__}: {error})"
        ) from error
    # Record which rows had bytes that are not UTF-8 (now escaped) instead of repairing them silently.
    escaped = np.zeros(len(table), dtype=bool)
    for column in table.columns:  # a loop over the columns, not the rows
        escaped |= table[column].str.contains(ESCAPED_BYTE_PATTERN, regex=True).fillna(False).to_numpy()
    problems.add("non_utf8_bytes_escaped", np.flatnonzero(escaped) + 1)
    return table


def read_tabular(
    interactions_path: str | Path,
    items_path: str | Path | None = None,
    column_map: dict[str, str] | None = None,
    *,
    max_bad_fraction: float = 0.5,
    timestamp_unit: str | None = None,
    date_format: str | None = None,
) -> RawLog:
    """Read the common tables from CSV or Parquet (chosen by the file suffix).

        ``column_map`` renames the files' columns to the common names, ``{"the file's column": "common name"}``,
        e.g. ``{"customer": "user_id", "sku": "item_id", "ts": "timestamp"}``. ``user_id``, ``item_id`` and
        ``timestamp`` are required in the interactions: numbers (``timestamp_unit``, or the unit detected from each
    value's magnitude) or date-time strings (one format per file: ``date_format``, or inferred; see
    :mod:`momorec.data.readers.timestamps`);
        ``rating`` is optional. ``items_path`` may be None, giving items with ids only. Line numbers in the report
        are data-row numbers (1-based, header excluded).
    """
    interactions_path = Path(interactions_path)
    column_map = dict(column_map or {})
    inter_problems = ProblemLog(interactions_path)
    time_options = {"unit": check_timestamp_unit(timestamp_unit), "date_format": date_format}
    interactions = _read_interactions(interactions_path, column_map, inter_problems, time_options)
    inter_problems.check_usable(max_bad_fraction, "interaction rows")
    problem_logs = [inter_problems]
    if items_path is None:
        items = finish_items(pd.DataFrame({"item_id": interactions["item_id"].unique()}))
    else:
        items_path = Path(items_path)
        item_problems = ProblemLog(items_path)
        items = _read_items(items_path, column_map, item_problems)
        item_problems.check_usable(max_bad_fraction, "item rows")
        problem_logs.append(item_problems)
    return assemble_raw_log(interactions, items, f"tabular:{interactions_path}", problem_logs)


def _read_interactions(
    path: Path, column_map: dict[str, str], problems: ProblemLog, time_options: dict[str, str | None]
) -> pd.DataFrame:
    table = _read_table(path, problems).rename(columns=column_map)
    require_columns(
        table,
        ("user_id", "item_id", "timestamp"),
        path,
        error=LogFormatError,
        hint=" (a column_map can rename them)",
    )
    problems.rows_read = len(table)
    lines = np.arange(1, len(table) + 1)
    user, item = id_columns(table, lines, problems)
    timestamp, ts_ok = _table_timestamps(table["timestamp"], lines, problems, **time_options)
    rating = _table_ratings(table, lines, problems)
    interactions = complete_interactions(user, item, timestamp, ts_ok, rating)
    problems.rows_kept = len(interactions)
    return interactions


def _table_timestamps(
    raw_ts: pd.Series, lines: np.ndarray, problems: ProblemLog, unit: str | None, date_format: str | None
) -> tuple[pd.Series, np.ndarray]:
    """Date-time columns as whole seconds since the epoch, numbers by their unit, text as numbers or dates."""
    if isinstance(raw_ts.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw_ts):
        # Parquet date-times: whole seconds since the epoch (naive values are taken as UTC).
        as_utc = raw_ts.dt.tz_localize("UTC") if raw_ts.dt.tz is None else raw_ts
        seconds = ((as_utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("Float64")
        return to_seconds(seconds, lines, problems, "s")
    if pd.api.types.is_numeric_dtype(raw_ts):
        return to_seconds(raw_ts, lines, problems, unit)
    return text_to_seconds(blank_to_na(raw_ts), lines, problems, unit, date_format)


def _table_ratings(table: pd.DataFrame, lines: np.ndarray, problems: ProblemLog) -> pd.Series:
    """The optional rating column as floats; given values that are not numbers become null, reported."""
    if "rating" not in table:
        return pd.Series(np.nan, index=table.index)
    raw_rating = table["rating"]
    rating = to_float(raw_rating if pd.api.types.is_numeric_dtype(raw_rating) else blank_to_na(raw_rating))
    given = raw_rating.notna() & (raw_rating.astype("string").str.strip() != "")
    problems.add("unparseable_rating_set_to_null", lines[(rating.isna() & given).to_numpy()])
    return rating


def _read_items(path: Path, column_map: dict[str, str], problems: ProblemLog) -> pd.DataFrame:
    catalogue = _read_table(path, problems).rename(columns=column_map)
    require_columns(catalogue, ("item_id",), path, error=LogFormatError)
    problems.rows_read = len(catalogue)
    item_lines = np.arange(1, len(catalogue) + 1)
    ids, rejected = ids_as_text(catalogue["item_id"], item_lines, problems, "item_id")
    problems.add("missing_item_id", item_lines[ids.isna().to_numpy() & ~rejected])
    catalogue = catalogue.assign(item_id=ids)
    items = finish_items(catalogue[ids.notna().to_numpy()].copy())
    problems.rows_kept = len(items)
    return items
