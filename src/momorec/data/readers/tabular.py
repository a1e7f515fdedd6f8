"""Generic CSV / TSV / Parquet tables with the common column names (or a ``column_map`` to them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from momorec.data.problems import LogFormatError, ProblemLog, require_columns
from momorec.data.raw_log import RawLog
from momorec.data.readers.common import (
    assemble_raw_log,
    blank_to_na,
    complete_interactions,
    finish_items,
    id_columns,
    require_file,
    timestamps_to_seconds,
    to_float,
)


def _read_table(path: Path, problems: ProblemLog) -> pd.DataFrame:
    path = require_file(path)
    if path.stat().st_size == 0:
        raise LogFormatError(f"{path}: the file is empty")
    suffixes = "".join(path.suffixes).lower()
    if ".parquet" in suffixes or ".pq" in suffixes:
        return pd.read_parquet(path)
    if not (".csv" in suffixes or ".tsv" in suffixes or ".txt" in suffixes):
        raise LogFormatError(f"{path}: unknown table format (expected .csv, .tsv or .parquet)")
    options = {"sep": "\t" if ".tsv" in suffixes else ",", "dtype": str, "keep_default_na": False}
    try:
        try:
            return pd.read_csv(path, encoding="utf-8", **options)
        except UnicodeDecodeError:
            table = pd.read_csv(path, encoding="utf-8", encoding_errors="replace", **options)
    except pd.errors.ParserError as error:
        raise LogFormatError(f"{path}: cannot be parsed as a table: {error}") from error
    # Record which rows had bytes that are not UTF-8 (now U+FFFD) instead of repairing them silently.
    replaced = np.zeros(len(table), dtype=bool)
    for column in table.columns:
        replaced |= (
            table[column].astype("string").str.contains("\ufffd", regex=False).fillna(False).to_numpy()
        )
    problems.add("non_utf8_bytes_replaced", np.flatnonzero(replaced) + 1)
    return table


def _text_timestamps(text: pd.Series) -> pd.Series:
    """Numeric strings as numbers, other strings parsed as date-times (to seconds); the rest marked bad."""
    number = pd.to_numeric(text, errors="coerce").astype("float64")
    needs_date = (number.isna() & text.notna()).to_numpy()
    if needs_date.any():
        dates = pd.to_datetime(text[needs_date], errors="coerce", utc=True, format="mixed")
        number[needs_date] = ((dates - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy()
    marked = number.astype("object")
    # A value that is present but neither a number nor a date stays non-null so it is counted as bad.
    marked[(number.isna() & text.notna()).to_numpy()] = "unparseable"
    return marked.where(marked.notna(), None)


def read_tabular(
    interactions_path: str | Path,
    items_path: str | Path | None = None,
    column_map: dict[str, str] | None = None,
    *,
    max_bad_fraction: float = 0.5,
) -> RawLog:
    """Read the common tables from CSV or Parquet (chosen by the file suffix).

    ``column_map`` renames the files' columns to the common names, ``{"the file's column": "common name"}``,
    e.g. ``{"customer": "user_id", "sku": "item_id", "ts": "timestamp"}``. ``user_id``, ``item_id`` and
    ``timestamp`` are required in the interactions (numbers in seconds or milliseconds, or date-time strings);
    ``rating`` is optional. ``items_path`` may be None, giving items with ids only. Line numbers in the report
    are data-row numbers (1-based, header excluded).
    """
    interactions_path = Path(interactions_path)
    column_map = dict(column_map or {})
    inter_problems = ProblemLog(interactions_path)
    interactions = _read_interactions(interactions_path, column_map, inter_problems)
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


def _read_interactions(path: Path, column_map: dict[str, str], problems: ProblemLog) -> pd.DataFrame:
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
    timestamp, ts_ok = timestamps_to_seconds(_table_timestamps(table["timestamp"]), lines, problems)
    rating = _table_ratings(table, lines, problems)
    interactions = complete_interactions(user, item, timestamp, ts_ok, rating)
    problems.rows_kept = len(interactions)
    return interactions


def _table_timestamps(raw_ts: pd.Series) -> pd.Series:
    """Date-time columns as whole seconds since the epoch, text as numbers or parsed dates."""
    if isinstance(raw_ts.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw_ts):
        # Parquet date-times: whole seconds since the epoch (naive values are taken as UTC).
        as_utc = raw_ts.dt.tz_localize("UTC") if raw_ts.dt.tz is None else raw_ts
        return ((as_utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("Float64")
    if not pd.api.types.is_numeric_dtype(raw_ts):
        return _text_timestamps(blank_to_na(raw_ts))
    return raw_ts


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
    ids = blank_to_na(catalogue["item_id"])
    problems.add("missing_item_id", item_lines[ids.isna().to_numpy()])
    items = finish_items(catalogue[ids.notna().to_numpy()].copy())
    problems.rows_kept = len(items)
    return items
