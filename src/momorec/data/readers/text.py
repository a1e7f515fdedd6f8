"""Text and identifiers as the readers hand them on: bytes decoded without merging, ids exactly as written.

Bytes that are not UTF-8 are kept as backslash escapes (``\\xe9``), never replaced by U+FFFD: four user ids
that differ only in a broken byte stay four users. Identifiers are text; a number in an id field is written
out in full (a 30-digit integer keeps its 30 digits), and values that are no id (a fractional or
imprecise float, a boolean, a list) are rejected and counted, never rounded into another id.
"""

from __future__ import annotations

import codecs
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.problems import ProblemLog

#: Error handler for text that is parsed as JSON afterwards: the escape's backslash is itself escaped, so
#: the decoded JSON string holds the same ``\xe9`` that ``backslashreplace`` gives for plain text.
JSON_BYTE_ESCAPE = "momorec.json_byte_escape"
#: Separator used when a category path arrives as a list or a comma-joined string.
CATEGORY_PATH_SEPARATOR = " > "
#: Floats at or beyond this are not exact integers any more (2**53), so they cannot be ids.
_EXACT_FLOAT_LIMIT = 2.0**53
#: An escaped byte of a non-UTF-8 sequence (0x80-0xff), as ``backslashreplace`` writes it.
ESCAPED_BYTE_PATTERN = r"\\x[89a-f][0-9a-f]"


def _json_byte_escape(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    broken = error.object[error.start : error.end]
    return "".join(f"\\\\x{byte:02x}" for byte in broken), error.end


codecs.register_error(JSON_BYTE_ESCAPE, _json_byte_escape)


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def blank_to_na(values: pd.Series) -> pd.Series:
    """Strings that are empty or only whitespace count as missing."""
    values = values.astype("string").str.strip()
    return values.mask(values == "")


def ids_as_text(
    values: pd.Series, line_numbers: np.ndarray, problems: ProblemLog, field: str
) -> tuple[pd.Series, np.ndarray]:
    """Identifiers as stripped text (blank = missing), and the mask of values rejected as ``<field>_not_text``.

    Strings are kept, integers written out in full, integral floats below 2**53 written as integers; any
    other value (a fraction, a float too large to be exact, a boolean, a list or object) is rejected.
    """
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty", "integer") and not pd.api.types.is_bool_dtype(values):
        return blank_to_na(values), np.zeros(len(values), dtype=bool)
    types = values.map(type)
    missing = values.isna().to_numpy()
    text = types.eq(str).to_numpy()
    integer = types.isin([int, np.int64, np.int32]).to_numpy()
    floats = pd.to_numeric(values.where(types.isin([float, np.float64])), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    exact_float = ~missing & (np.mod(floats, 1) == 0) & (np.abs(floats) < _EXACT_FLOAT_LIMIT)
    rejected = ~(missing | text | integer | exact_float)
    out = values.astype(object).copy()
    out[integer] = values[integer].map(str)
    out[exact_float] = pd.Series(floats[exact_float]).astype("int64").astype(str).to_numpy()
    out[rejected] = None
    problems.add(f"{field}_not_text", line_numbers[rejected])
    return blank_to_na(out), rejected


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
