"""Timestamps to Unix seconds: units detected from the value range or given, dates in one format per file.

Numbers: with ``timestamp_unit`` given (``s``, ``ms``, ``us``, ``ns``) every value of the file is read in that
unit; without it each value's magnitude says its unit (below 1e11 seconds, below 1e14 milliseconds, below
1e17 microseconds, else nanoseconds: 1e11 s is the year 5138, 1e11 ms is March 1973), and a file whose values
fall in more than one unit gets a ``mixed_timestamp_units`` problem. Booleans, negative values and values
after :data:`MAX_TIMESTAMP_SECONDS` are rejected and counted, never read as a time.

Date strings: one format per file, ``date_format`` when given, else the format that parses most of a sample
of the file's dates. A date written in another format is rejected and counted (``mixed_date_formats``)
instead of being read with a second convention (01/02 as 1 February in one row, 2 January in another).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from momorec.data.problems import MAX_EXAMPLES, ProblemLog

#: Seconds per unit, by the names ``timestamp_unit`` accepts.
UNIT_DIVISORS: dict[str, int] = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
#: Names of the units in the parse report.
UNIT_NAMES: dict[str, str] = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
#: Upper bounds of each unit when detecting from the magnitude (``s`` below 1e11, ``ms`` below 1e14, ...).
_UNIT_BOUNDS = np.array([1e11, 1e14, 1e17])
_UNIT_ORDER = ("s", "ms", "us", "ns")
#: Times after 2100-01-01 are out of range: a unit read wrongly, not an event.
MAX_TIMESTAMP_SECONDS = 4_102_444_800
#: How many distinct date strings are tried when inferring a file's date format.
_FORMAT_SAMPLE = 200
_FORMAT_CANDIDATES_FROM = 20


def check_timestamp_unit(unit: str | None) -> str | None:
    """``unit`` itself when it is None (detect) or one of ``s``, ``ms``, ``us``, ``ns``; else a ValueError."""
    if unit is not None and unit not in UNIT_DIVISORS:
        raise ValueError(
            f"timestamp_unit must be one of {list(UNIT_DIVISORS)} or null (detect), got {unit!r}"
        )
    return unit


def to_seconds(
    values: pd.Series, line_numbers: np.ndarray, problems: ProblemLog, unit: str | None = None
) -> tuple[pd.Series, np.ndarray]:
    """Raw timestamps (numbers or numeric strings) to int64 Unix seconds, and the mask of usable rows.

    Unusable rows are recorded as ``missing_timestamp``, ``boolean_timestamp``, ``bad_timestamp`` (not a
    number, or negative) or ``timestamp_out_of_range``.
    """
    missing = values.isna().to_numpy()
    boolean = _booleans(values) & ~missing
    numeric = pd.to_numeric(values.mask(boolean), errors="coerce")
    as_float = numeric.to_numpy(dtype="float64", na_value=np.nan)
    # Not a number, infinite or negative: no time at all.
    bad = ~missing & ~boolean & ~(np.isfinite(as_float) & (as_float >= 0))
    problems.add("missing_timestamp", line_numbers[missing])
    problems.add("boolean_timestamp", line_numbers[boolean])
    problems.add("bad_timestamp", line_numbers[bad])
    return _scale_to_seconds(numeric, ~(missing | boolean | bad), line_numbers, problems, unit)


def _booleans(values: pd.Series) -> np.ndarray:
    """Rows holding a boolean (JSON ``true``, a bool column): never a time, although Python reads True as 1."""
    if pd.api.types.is_bool_dtype(values):
        return np.ones(len(values), dtype=bool)
    if values.dtype != object:
        return np.zeros(len(values), dtype=bool)
    return values.map(type).isin([bool, np.bool_]).to_numpy()


def _scale_to_seconds(
    numeric: pd.Series, ok: np.ndarray, line_numbers: np.ndarray, problems: ProblemLog, unit: str | None
) -> tuple[pd.Series, np.ndarray]:
    """Divide each usable value by its unit (given, or by magnitude); times after 2100 are rejected."""
    # Signed integers are divided exactly; anything else (floats, unsigned beyond int64) as float64.
    integer = pd.api.types.is_signed_integer_dtype(numeric)
    numbers = numeric.to_numpy(dtype="int64" if integer else "float64", na_value=0 if integer else np.nan)
    numbers = np.where(ok, numbers, 0)
    if unit is None:
        codes = np.searchsorted(_UNIT_BOUNDS, numbers.astype("float64"), side="right")
    else:
        codes = np.full(len(numbers), _UNIT_ORDER.index(unit))
    divisors = np.array([UNIT_DIVISORS[u] for u in _UNIT_ORDER])[codes]
    seconds = np.floor_divide(numbers, divisors if integer else divisors.astype("float64"))
    out_of_range = ok & (seconds > MAX_TIMESTAMP_SECONDS)
    problems.add("timestamp_out_of_range", line_numbers[out_of_range])
    ok = ok & ~out_of_range
    _tally_units(codes, ok, line_numbers, problems)
    seconds = np.where(ok, seconds, 0).astype("int64")
    return pd.Series(seconds, index=numeric.index), ok


def _tally_units(codes: np.ndarray, ok: np.ndarray, line_numbers: np.ndarray, problems: ProblemLog) -> None:
    """Count the usable rows per unit, with each unit's first line numbers, in the file's notes."""
    counts = problems.notes.setdefault("timestamp_units", {})
    first_lines = problems.notes.setdefault("timestamp_unit_first_lines", {})
    for code, name in enumerate(_UNIT_ORDER):
        rows = ok & (codes == code)
        if rows.any():
            unit_name = UNIT_NAMES[name]
            counts[unit_name] = counts.get(unit_name, 0) + int(rows.sum())
            examples = first_lines.setdefault(unit_name, [])
            examples.extend(int(x) for x in line_numbers[rows][: max(0, MAX_EXAMPLES - len(examples))])


def flag_mixed_units(problems: ProblemLog) -> None:
    """After the whole file: values in more than one unit are a problem (the rows outside the main unit)."""
    first_lines = problems.notes.pop("timestamp_unit_first_lines", {})
    counts = problems.notes.get("timestamp_units", {})
    if len(counts) < 2:
        return
    main = max(counts, key=counts.get)
    others = [name for name in counts if name != main]
    lines = [line for name in others for line in first_lines[name]]
    problems.add("mixed_timestamp_units", sorted(lines), count=sum(counts[name] for name in others))


def text_to_seconds(
    text: pd.Series,
    line_numbers: np.ndarray,
    problems: ProblemLog,
    unit: str | None = None,
    date_format: str | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """A text column of numbers and/or date strings to Unix seconds, and the mask of usable rows.

    Numbers go through :func:`to_seconds`; date strings are parsed with one format for the whole file
    (``date_format``, or inferred). Dates in another format are ``mixed_date_formats``; text that is no date
    in any format is a ``bad_timestamp``.
    """
    is_date = (pd.to_numeric(text, errors="coerce").isna() & text.notna()).to_numpy()
    seconds = np.zeros(len(text), dtype="int64")
    ok = np.zeros(len(text), dtype=bool)
    number_seconds, ok[~is_date] = to_seconds(text[~is_date], line_numbers[~is_date], problems, unit)
    seconds[~is_date] = number_seconds.to_numpy()
    if is_date.any():
        seconds[is_date], ok[is_date] = _dates_to_seconds(
            text[is_date], line_numbers[is_date], problems, date_format
        )
    return pd.Series(seconds, index=text.index), ok


def _dates_to_seconds(
    dates: pd.Series, line_numbers: np.ndarray, problems: ProblemLog, date_format: str | None
) -> tuple[np.ndarray, np.ndarray]:
    fmt = date_format or infer_date_format(dates)
    problems.notes["date_format"] = fmt if date_format else f"{fmt} (inferred)"
    parsed = _parse_dates(dates, fmt)
    failed = parsed.isna().to_numpy()
    other_format = failed & _parse_dates(dates, "mixed").notna().to_numpy()
    problems.add("mixed_date_formats", line_numbers[other_format])
    problems.add("bad_timestamp", line_numbers[failed & ~other_format])
    seconds = ((parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(
        dtype="float64", na_value=np.nan
    )
    in_range = ~failed & (seconds >= 0) & (seconds <= MAX_TIMESTAMP_SECONDS)
    problems.add("timestamp_out_of_range", line_numbers[~failed & ~in_range])
    return np.where(in_range, np.nan_to_num(seconds), 0).astype("int64"), in_range


def _parse_dates(dates: pd.Series, fmt: str | None) -> pd.Series:
    if fmt is None:
        return pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns, UTC]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return pd.to_datetime(dates, errors="coerce", utc=True, format=fmt)


def infer_date_format(dates: pd.Series) -> str | None:
    """The format that parses most of a sample of the distinct date strings (ISO 8601 as one format).

    Candidates are the formats pandas guesses for the first few values, month-first before day-first, so
    01/02/2019 alone reads as 2 January unless another date of the file (13/01/2019) settles it day-first.
    """
    sample = pd.Series(dates.dropna().unique()[:_FORMAT_SAMPLE], dtype="string")
    candidates: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for value in sample[:_FORMAT_CANDIDATES_FROM]:
            for dayfirst in (False, True):
                guess = guess_datetime_format(value, dayfirst=dayfirst)
                if guess and guess.startswith("%Y-%m-%d"):
                    guess = "ISO8601"
                if guess and guess not in candidates:
                    candidates.append(guess)
    if not candidates:
        return None
    parsed_counts = [int(_parse_dates(sample, fmt).notna().sum()) for fmt in candidates]
    return candidates[int(np.argmax(parsed_counts))]
