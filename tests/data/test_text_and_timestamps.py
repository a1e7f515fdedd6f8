"""Ids as text and timestamps as seconds (src/momorec/data/readers/text.py, timestamps.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from momorec.data.problems import ProblemLog
from momorec.data.readers.text import JSON_BYTE_ESCAPE, ids_as_text
from momorec.data.readers.timestamps import (
    check_timestamp_unit,
    flag_mixed_units,
    infer_date_format,
    to_seconds,
)


def test_ids_as_text_writes_integers_in_full_and_rejects_what_is_no_id():
    values = pd.Series(["a", 10**29, 7.0, 7.5, True, ["x"], None, "  "], dtype=object)
    problems = ProblemLog("f")
    text, rejected = ids_as_text(values, np.arange(1, 9), problems, "user_id")
    assert text.tolist()[:3] == ["a", str(10**29), "7"]
    assert rejected.tolist() == [False, False, False, True, True, True, False, False]
    assert text[3:].isna().all()
    assert problems.problems["user_id_not_text"] == {"count": 3, "first_lines": [4, 5, 6]}


def test_json_byte_escape_keeps_broken_bytes_distinct_inside_json_strings():
    lines = [b'"Jos' + byte + b'"' for byte in (b"\xe9", b"\xe8")]
    decoded = [json.loads(line.decode("utf-8", errors=JSON_BYTE_ESCAPE)) for line in lines]
    assert decoded == ["Jos\\xe9", "Jos\\xe8"]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["01/02/2019", "13/01/2019"], "%d/%m/%Y"),
        (["01/02/2019", "12/31/2019"], "%m/%d/%Y"),
        (["2019-01-05", "2019-01-06T10:00:00Z"], "ISO8601"),
        (["someday", "never"], None),
    ],
)
def test_infer_date_format_picks_the_format_that_parses_most(dates, expected):
    assert infer_date_format(pd.Series(dates, dtype="string")) == expected


def test_to_seconds_with_an_explicit_unit_and_mixed_units_flagged():
    problems = ProblemLog("f")
    seconds, ok = to_seconds(
        pd.Series([1_600_000_000_000, 1_600_000_001_000]), np.array([1, 2]), problems, "ms"
    )
    assert seconds.tolist() == [1_600_000_000, 1_600_000_001] and ok.all()
    mixed = ProblemLog("g")
    to_seconds(pd.Series([1_600_000_000_000, 1_600_000_001_000, 1_600_000_002]), np.array([1, 2, 3]), mixed)
    flag_mixed_units(mixed)
    assert mixed.problems["mixed_timestamp_units"] == {"count": 1, "first_lines": [3]}
    assert mixed.notes["timestamp_units"] == {"seconds": 1, "milliseconds": 2}
    with pytest.raises(ValueError, match="timestamp_unit"):
        check_timestamp_unit("hours")
