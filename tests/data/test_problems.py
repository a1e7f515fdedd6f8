"""The one problem log and the one required-column check (src/momorec/data/problems.py)."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from momorec.data.problems import MAX_EXAMPLES, LogFormatError, ProblemLog, require_columns


def test_line_problems_keep_a_count_and_the_first_lines():
    problems = ProblemLog("f.jsonl")
    problems.add("malformed_json", [3, 7])
    problems.add("malformed_json", range(10, 20))
    problems.add("missing_user_id", [])
    assert problems.problems == {"malformed_json": {"count": 12, "first_lines": [3, 7, 10, 11, 12]}}
    assert problems.counts() == {"malformed_json": 12}


def test_row_problems_keep_rows_as_examples():
    frame = pd.DataFrame({"user_id": ["a", "b", "c"], "timestamp": [1, 2, 3]})
    problems = ProblemLog("interactions", example_key="examples")
    problems.add_rows("bad_timestamp", frame, [False, True, True])
    problems.add_rows("nothing", frame, [False, False, False])
    assert problems.problems == {
        "bad_timestamp": {
            "count": 2,
            "examples": [{"user_id": "b", "timestamp": 2}, {"user_id": "c", "timestamp": 3}],
        }
    }
    assert len(ProblemLog("x", "examples").problems) == 0 and MAX_EXAMPLES == 5


def test_check_usable_raises_naming_the_file_and_the_problems():
    problems = ProblemLog("f.csv")
    problems.rows_read, problems.rows_kept = 4, 1
    problems.add("bad_timestamp", [1, 2, 3])
    with pytest.raises(LogFormatError, match=r"f\.csv: 3 of 4 rows are unusable.*bad_timestamp: 3"):
        problems.check_usable(0.5)
    problems.check_usable(0.8)


def test_every_problem_is_logged(caplog):
    problems = ProblemLog("f.csv")
    problems.add("bad_timestamp", [2])
    with caplog.at_level(logging.WARNING):
        problems.log(logging.getLogger("test"), "parse")
    assert "parse (f.csv) bad_timestamp: 1" in caplog.text


def test_require_columns_names_where_the_table_and_the_columns():
    frame = pd.DataFrame({"user_id": ["u"]})
    require_columns(frame, ["user_id"], "f.csv")
    with pytest.raises(LogFormatError, match=r"f\.csv: missing column\(s\) \['item_id'\]; columns are"):
        require_columns(frame, ["user_id", "item_id"], "f.csv", error=LogFormatError)
    with pytest.raises(ValueError, match=r"src: interactions lacks required column\(s\) \['item_id'\]"):
        require_columns(frame, ["item_id"], "src", table="interactions")
