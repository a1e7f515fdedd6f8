"""Bad data inputs, one case per test (issue 14; the table in docs/reliability.md, "Data inputs").

Each test feeds the readers (and, where it matters, validation) a damaged or tricky file and asserts the
outcome: a LogFormatError naming the file and the problem, or the rows counted in the parse report and
logged, with nothing merged and nothing invented.
"""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from momorec.data.problems import LogFormatError
from momorec.data.readers import read_amazon2023, read_lcrec, read_movielens, read_tabular
from momorec.data.validation import DataValidationError, validate_raw_log
from momorec.io.interaction_log import InteractionLogDataset

#: 2020-09-13 12:26:40 UTC in seconds.
T = 1_600_000_000
#: Ten distinct 30-digit ids sharing their first 17 digits: one float64 would hold them all.
LONG_IDS = [str(123456789012345678901234567890 + i) for i in range(10)]
#: José, Josè, Josü, Josñ written in latin-1: each a different byte that is not UTF-8.
BROKEN_NAMES = [b"Jos\xe9", b"Jos\xe8", b"Jos\xfc", b"Jos\xf1"]


def _jsonl(path: Path, lines: list[bytes | dict], gz: bool = False) -> Path:
    payload = b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def _review(user: object, item: str = "A", ts: object = T) -> dict:
    return {"user_id": user, "parent_asin": item, "timestamp": ts, "rating": 5.0}


@pytest.fixture
def meta(tmp_path: Path) -> Path:
    return _jsonl(tmp_path / "meta_Cat.jsonl", [{"parent_asin": i, "title": f"Item {i}"} for i in "ABC"])


def _reviews(tmp_path: Path, lines: list[bytes | dict], name: str = "Cat.jsonl", gz: bool = False) -> Path:
    return _jsonl(tmp_path / name, lines, gz)


def _csv(tmp_path: Path, body: bytes, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(b"user_id,item_id,timestamp\n" + body)
    return path


def _problems(log, path: Path) -> dict:
    return log.parse_report[str(path)]["problems"]


# --------------------------------------------------------------------------- files missing, empty, damaged


def test_missing_file_names_it(tmp_path, meta):
    with pytest.raises(LogFormatError, match=r"absent\.jsonl: file not found"):
        read_amazon2023(tmp_path / "absent.jsonl", meta)


def test_empty_file_names_it(tmp_path, meta):
    with pytest.raises(LogFormatError, match=r"Cat\.jsonl: the file is empty"):
        read_amazon2023(_reviews(tmp_path, []), meta)


def test_mostly_malformed_json_lines_fail_with_the_counts(tmp_path, meta):
    reviews = _reviews(tmp_path, [b"{oops"] * 3 + [_review("u")])
    with pytest.raises(
        LogFormatError, match=r"Cat\.jsonl: 3 of 4 review lines are unusable.*malformed_json: 3"
    ):
        read_amazon2023(reviews, meta)


def test_truncated_gzip_names_the_file(tmp_path, meta):
    whole = _reviews(tmp_path, [_review(f"u{i}") for i in range(200)], "Cat.jsonl.gz", gz=True)
    whole.write_bytes(whole.read_bytes()[:-30])
    with pytest.raises(LogFormatError, match=r"Cat\.jsonl\.gz: the compressed file is truncated or corrupt"):
        read_amazon2023(whole, meta)


def test_corrupt_gzip_names_the_file(tmp_path, meta):
    path = tmp_path / "Cat.jsonl.gz"
    path.write_bytes(b"\x1f\x8b" + b"this is not deflate data" * 10)
    with pytest.raises(LogFormatError, match=r"Cat\.jsonl\.gz: the compressed file is truncated or corrupt"):
        read_amazon2023(path, meta)


_TRUNCATED_CSV_GZ = gzip.compress(b"user_id,item_id,timestamp\n" + b"u,i,1600000000\n" * 500)[:-40]


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("log.csv.gz", _TRUNCATED_CSV_GZ, r"log\.csv\.gz: the compressed file is truncated or corrupt"),
        ("log.parquet", b"PAR1 not really parquet PAR1", r"log\.parquet: cannot be read as Parquet"),
        (
            "log.csv",
            b"user_id,item_id,timestamp\nu,i,1\nu,i,2,extra,fields\n",
            r"log\.csv: cannot be parsed as a table",
        ),
        ("log.xlsx", b"not a table", r"log\.xlsx: unknown table format"),
        ("log.csv", b"user_id,item_id\nu,i\n", r"log\.csv: missing column\(s\) \['timestamp'\]"),
    ],
    ids=["truncated_csv_gz", "corrupt_parquet", "ragged_csv", "unknown_suffix", "missing_required_column"],
)
def test_damaged_table_names_the_file_and_the_problem(tmp_path, name, content, error):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LogFormatError, match=error):
        read_tabular(path)


def test_malformed_lcrec_document_names_file_and_position(tmp_path):
    inter, items = tmp_path / "X.inter.json", tmp_path / "X.item.json"
    inter.write_text('{"0": [1, 2')
    items.write_text('{"1": {"title": "t"}}')
    with pytest.raises(LogFormatError, match=r"X\.inter\.json: malformed JSON at line 1"):
        read_lcrec(inter, items)


# ------------------------------------------------------------------------------------------ parse problems


def test_parse_problems_are_counted_and_logged(tmp_path, meta, caplog):
    reviews = _reviews(
        tmp_path,
        [_review("u1"), _review("u2"), _review("u3"), b"{oops", _review("u4", ts=None), _review("u5")],
    )
    with caplog.at_level(logging.WARNING, logger="momorec.data.readers"):
        log = read_amazon2023(reviews, meta)
    problems = _problems(log, reviews)
    assert problems["malformed_json"] == {"count": 1, "first_lines": [4]}
    assert problems["missing_timestamp"] == {"count": 1, "first_lines": [5]}
    assert log.interactions["user_id"].tolist() == ["u1", "u2", "u3", "u5"]
    logged = caplog.text
    assert f"parse ({reviews}) malformed_json: 1" in logged
    assert f"parse ({reviews}) missing_timestamp: 1" in logged


def test_validation_without_usable_rows_stops():
    from momorec.data.raw_log import RawLog

    interactions = pd.DataFrame({"user_id": ["", " "], "item_id": ["A", "B"], "timestamp": [1, 2]})
    raw = RawLog(interactions, pd.DataFrame({"item_id": ["A"]}), source="log.csv")
    with pytest.raises(DataValidationError, match=r"log\.csv: no usable interaction is left"):
        validate_raw_log(raw, {})


# ----------------------------------------------------------------------------------------------- identifiers


def test_thirty_digit_ids_in_json_lines_stay_distinct(tmp_path, meta):
    reviews = _reviews(
        tmp_path, [f'{{"user_id": {uid}, "parent_asin": "A", "timestamp": {T}}}'.encode() for uid in LONG_IDS]
    )
    log = read_amazon2023(reviews, meta)
    assert log.interactions["user_id"].tolist() == LONG_IDS
    interactions, _, _ = validate_raw_log(log, {})
    assert interactions["user_id"].nunique() == 10


def test_thirty_digit_ids_in_csv_and_parquet_stay_distinct(tmp_path):
    csv = _csv(tmp_path, b"".join(f"{uid},A,{T}\n".encode() for uid in LONG_IDS))
    assert read_tabular(csv).interactions["user_id"].tolist() == LONG_IDS
    pd.DataFrame({"user_id": LONG_IDS, "item_id": "A", "timestamp": T}).to_parquet(tmp_path / "log.parquet")
    assert read_tabular(tmp_path / "log.parquet").interactions["user_id"].tolist() == LONG_IDS


def test_thirty_digit_item_ids_in_lcrec_stay_distinct(tmp_path):
    inter, items = tmp_path / "X.inter.json", tmp_path / "X.item.json"
    inter.write_text("{" + ", ".join(f'"{u}": [{LONG_IDS[u]}, {LONG_IDS[u + 1]}]' for u in range(9)) + "}")
    items.write_text(json.dumps({uid: {"title": "t"} for uid in LONG_IDS}))
    log = read_lcrec(inter, items)
    assert sorted(log.interactions["item_id"].unique()) == LONG_IDS


def test_float_ids_that_cannot_be_exact_are_rejected_not_rounded(tmp_path):
    frame = pd.DataFrame({"user_id": [1.5e29, 1.5e29 + 2**60, 7.0, 8.5], "item_id": "A", "timestamp": T})
    frame.to_parquet(tmp_path / "log.parquet")
    log = read_tabular(tmp_path / "log.parquet", max_bad_fraction=0.9)
    assert log.interactions["user_id"].tolist() == ["7"]  # an integral float below 2**53 is exact
    assert _problems(log, tmp_path / "log.parquet")["user_id_not_text"] == {
        "count": 3,
        "first_lines": [1, 2, 4],
    }


def test_broken_bytes_in_json_line_ids_keep_four_users(tmp_path, meta):
    lines = [
        b'{"user_id": "' + name + b'", "parent_asin": "A", "timestamp": 1600000000}' for name in BROKEN_NAMES
    ]
    reviews = _reviews(tmp_path, lines)
    log = read_amazon2023(reviews, meta)
    assert log.interactions["user_id"].tolist() == ["Jos\\xe9", "Jos\\xe8", "Jos\\xfc", "Jos\\xf1"]
    assert _problems(log, reviews)["non_utf8_bytes_escaped"] == {"count": 4, "first_lines": [1, 2, 3, 4]}
    interactions, _, _ = validate_raw_log(log, {})
    assert interactions["user_id"].nunique() == 4


def test_broken_bytes_in_csv_ids_keep_four_users(tmp_path):
    csv = _csv(tmp_path, b"".join(name + f",A,{T}\n".encode() for name in BROKEN_NAMES))
    log = read_tabular(csv)
    assert log.interactions["user_id"].nunique() == 4
    assert _problems(log, csv)["non_utf8_bytes_escaped"]["count"] == 4


def test_broken_bytes_in_movielens_ids_keep_four_users(tmp_path):
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "u.data").write_bytes(b"".join(name + b"\t10\t3\t881250949\n" for name in BROKEN_NAMES))
    (folder / "u.genre").write_text("unknown|0\n")
    (folder / "u.item").write_bytes(b"10|Heat (1995)|01-Jan-1995||http://x|1\n")
    log = read_movielens(folder)
    assert log.interactions["user_id"].nunique() == 4
    assert _problems(log, folder / "u.data")["non_utf8_bytes_escaped"]["count"] == 4


# ------------------------------------------------------------------------------------------------ timestamps


@pytest.mark.parametrize(
    ("factor", "unit"),
    [(1, "seconds"), (1_000, "milliseconds"), (1_000_000, "microseconds"), (10**9, "nanoseconds")],
)
def test_timestamp_unit_is_detected_per_file(tmp_path, meta, factor, unit):
    reviews = _reviews(tmp_path, [_review(f"u{i}", ts=(T + i) * factor) for i in range(3)])
    log = read_amazon2023(reviews, meta)
    assert log.interactions["timestamp"].tolist() == [T, T + 1, T + 2]  # never the year 50974
    assert log.parse_report[str(reviews)]["timestamp_units"] == {unit: 3}


def test_explicit_timestamp_unit_overrides_detection_and_rejects_out_of_range(tmp_path, meta):
    reviews = _reviews(
        tmp_path, [_review("u1", ts=T * 1_000_000), _review("u2", ts=T * 1_000_000), _review("u3", ts=T)]
    )
    log = read_amazon2023(reviews, meta, timestamp_unit="us")
    # every value read as µs: T itself becomes 1600 s (January 1970), in range, so kept as the user said
    assert log.interactions["timestamp"].tolist() == [T, T, T // 1_000_000]
    as_ms = read_amazon2023(reviews, meta, timestamp_unit="ms", max_bad_fraction=0.9)
    assert as_ms.interactions["user_id"].tolist() == ["u3"]
    assert _problems(as_ms, reviews)["timestamp_out_of_range"] == {"count": 2, "first_lines": [1, 2]}


def test_unknown_timestamp_unit_is_a_clear_error(tmp_path, meta):
    with pytest.raises(ValueError, match=r"timestamp_unit must be one of \['s', 'ms', 'us', 'ns'\]"):
        read_amazon2023(_reviews(tmp_path, [_review("u")]), meta, timestamp_unit="minutes")


def test_boolean_timestamps_are_rejected_not_read_as_one_second(tmp_path, meta):
    reviews = _reviews(tmp_path, [_review("u1"), _review("u2", ts=True), _review("u3", ts=False)])
    log = read_amazon2023(reviews, meta, max_bad_fraction=0.9)
    assert log.interactions["user_id"].tolist() == ["u1"]
    assert _problems(log, reviews)["boolean_timestamp"] == {"count": 2, "first_lines": [2, 3]}


def test_boolean_timestamp_column_fails_naming_the_problem(tmp_path):
    pd.DataFrame({"user_id": ["u", "v"], "item_id": "A", "timestamp": [True, False]}).to_parquet(
        tmp_path / "t.parquet"
    )
    with pytest.raises(LogFormatError, match=r"t\.parquet: no usable interaction rows.*boolean_timestamp: 2"):
        read_tabular(tmp_path / "t.parquet")


def test_timestamps_after_2100_are_rejected(tmp_path, meta):
    reviews = _reviews(tmp_path, [_review("u1"), _review("u2", ts=5_000_000_000), _review("u3", ts=-5)])
    log = read_amazon2023(reviews, meta, max_bad_fraction=0.9)
    assert log.interactions["user_id"].tolist() == ["u1"]
    problems = _problems(log, reviews)
    assert problems["timestamp_out_of_range"]["first_lines"] == [2]
    assert problems["bad_timestamp"]["first_lines"] == [3]


def test_infinite_and_huge_numbers_are_rejected(tmp_path):
    csv = _csv(tmp_path, f"a,A,{T}\nb,A,inf\nc,A,1e30\nd,A,{10**25}\n".encode())
    log = read_tabular(csv, max_bad_fraction=0.9)
    assert log.interactions["user_id"].tolist() == ["a"]
    problems = _problems(log, csv)
    assert problems["bad_timestamp"]["first_lines"] == [2]
    assert problems["timestamp_out_of_range"]["first_lines"] == [3, 4]


def test_mixed_units_in_one_file_are_reported(tmp_path, meta):
    reviews = _reviews(
        tmp_path, [_review("u1", ts=T * 1000), _review("u2", ts=T * 1000), _review("u3", ts=T + 5)]
    )
    log = read_amazon2023(reviews, meta)
    assert log.interactions["timestamp"].tolist() == [T, T, T + 5]
    assert _problems(log, reviews)["mixed_timestamp_units"] == {"count": 1, "first_lines": [3]}


# ---------------------------------------------------------------------------------------------------- dates


def test_dates_use_one_inferred_format_and_other_formats_are_reported(tmp_path):
    csv = _csv(tmp_path, b"a,A,01/02/2019\nb,A,13/01/2019\nc,A,03.01.2019\n")
    log = read_tabular(csv, max_bad_fraction=0.9)
    stamps = dict(zip(log.interactions["user_id"], log.interactions["timestamp"], strict=True))
    # 13/01 can only be day-first, so the file is read day-first: 01/02/2019 is 1 February, not 2 January.
    assert stamps == {
        "a": pd.Timestamp("2019-02-01").timestamp(),
        "b": pd.Timestamp("2019-01-13").timestamp(),
    }
    report = log.parse_report[str(csv)]
    assert report["problems"]["mixed_date_formats"] == {"count": 1, "first_lines": [3]}
    assert report["date_format"] == "%d/%m/%Y (inferred)"


def test_explicit_date_format_is_used_for_the_whole_file(tmp_path):
    csv = _csv(tmp_path, b"a,A,01/02/2019\nb,A,02/03/2019\nc,A,2019-01-05\nd,A,someday\n")
    log = read_tabular(csv, date_format="%m/%d/%Y", max_bad_fraction=0.9)
    stamps = dict(zip(log.interactions["user_id"], log.interactions["timestamp"], strict=True))
    assert stamps == {
        "a": pd.Timestamp("2019-01-02").timestamp(),
        "b": pd.Timestamp("2019-02-03").timestamp(),
    }
    problems = _problems(log, csv)
    assert problems["mixed_date_formats"]["first_lines"] == [3]
    assert problems["bad_timestamp"]["first_lines"] == [4]


def test_read_options_reach_the_reader_through_the_catalog(tmp_path):
    csv = _csv(tmp_path, f"u,A,{T * 1000}\nv,A,{(T + 1) * 1000}\n".encode())
    dataset = InteractionLogDataset(
        format="tabular", interactions_path=str(csv), load_args={"timestamp_unit": "ms"}
    )
    assert dataset.load().interactions["timestamp"].tolist() == [T, T + 1]


# --------------------------------------------------------------------------------------------------- titles


def test_very_long_titles_are_flagged_with_their_length_not_their_text(tmp_path):
    from momorec.data.raw_log import RawLog

    items = pd.DataFrame({"item_id": ["A", "B"], "title": ["x" * 100_000, "Kettle"]})
    interactions = pd.DataFrame({"user_id": ["u", "u"], "item_id": ["A", "B"], "timestamp": [1, 2]})
    _, validated_items, report = validate_raw_log(RawLog(interactions, items), {"max_title_chars": 500})
    flagged = report["items"]["problems"]["very_long_titles"]
    assert flagged["count"] == 1 and flagged["examples"] == [{"item_id": "A", "title_chars": 100_000}]
    assert len(validated_items) == 2  # flagged, not dropped
    assert len(json.dumps(report)) < 10_000
    _, _, unchecked = validate_raw_log(RawLog(interactions, items), {"max_title_chars": None})
    assert "very_long_titles" not in unchecked["items"]["problems"]
