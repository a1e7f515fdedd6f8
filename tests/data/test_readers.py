"""The readers of momorec.data.readers on tiny fixtures written to a temporary folder."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from momorec.data.raw_log import INTERACTION_COLUMNS, ITEM_COLUMNS
from momorec.data.readers import (
    LogFormatError,
    read_amazon2023,
    read_lcrec,
    read_movielens,
    read_tabular,
)


def review(user: str, item: str, ts: int | str | None, rating: float | str | None = 5.0, **extra) -> dict:
    line = {
        "rating": rating,
        "title": "fine",
        "text": "long review text " * 3,
        "images": [],
        "asin": item + "-v",
        "parent_asin": item,
        "user_id": user,
        "timestamp": ts,
        "helpful_vote": 0,
        "verified_purchase": True,
    }
    line.update(extra)
    return line


def meta(item: str, title: str | None = "A thing", **extra) -> dict:
    line = {
        "main_category": "Kitchen",
        "title": title,
        "features": ["x"],
        "description": ["Line one.", "Line two."],
        "price": 12.5,
        "store": "Acme",
        "categories": ["Home", "Kitchen", "Coffee"],
        "parent_asin": item,
        "bought_together": ["never-read"],
    }
    line.update(extra)
    return line


def write_lines(path: Path, lines: list, gz: bool = False) -> Path:
    """Write JSON-lines; a bytes entry is written as is (for malformed or non-UTF-8 lines)."""
    payload = b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)
    if gz:
        with gzip.open(path, "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)
    return path


@pytest.fixture
def amazon_files(tmp_path: Path) -> tuple[Path, Path]:
    reviews = write_lines(
        tmp_path / "Cat.jsonl",
        [
            review("u1", "A", 1588687728923),  # milliseconds
            review("u1", "B", 1588687800),  # seconds
            b"{not json",  # malformed
            review("u2", "A", 1588687728000, rating="x"),
            {"rating": 4.0, "parent_asin": "B", "timestamp": 1588687728000},  # no user_id
            review("u2", "C", None),  # no timestamp
            b'{"user_id": "u3", "parent_asin": "C", "timestamp": 1600000000, "text": "caf\xe9"}',  # latin-1 byte
            b"",
            review("u4", "", 1600000001, asin="Z"),  # empty parent_asin: falls back to asin
        ],
    )
    metas = write_lines(
        tmp_path / "meta_Cat.jsonl",
        [
            meta("A"),
            meta("B", title=None, categories=[], price="—"),
            meta("C", price="$1,299.00", description=[], store=None),
            b"[1, 2]",  # not an object
        ],
    )
    return reviews, metas


def test_amazon2023_reads_fields_units_and_reports_problems(amazon_files):
    log = read_amazon2023(*amazon_files, chunk_size=2)
    inter = log.interactions
    assert dict(inter.dtypes.astype(str)) == {k: v for k, v in INTERACTION_COLUMNS.items()}
    assert list(log.items.columns) == list(ITEM_COLUMNS)
    assert inter["user_id"].tolist() == ["u1", "u1", "u2", "u3", "u4"]
    assert inter["item_id"].tolist() == ["A", "B", "A", "C", "Z"]
    # 1588687728923 ms -> 1588687728 s; 1588687800 s unchanged
    assert inter["timestamp"].tolist() == [1588687728, 1588687800, 1588687728, 1600000000, 1600000001]
    assert np.isnan(inter["rating"].iloc[2])

    report = log.parse_report[str(amazon_files[0])]
    problems = report["problems"]
    assert problems["malformed_json"] == {"count": 1, "first_lines": [3]}
    assert problems["missing_user_id"]["first_lines"] == [5]
    assert problems["missing_timestamp"]["first_lines"] == [6]
    assert problems["non_utf8_bytes_escaped"]["first_lines"] == [7]
    assert problems["unparseable_rating_set_to_null"]["first_lines"] == [4]
    assert problems["parent_asin_missing_used_asin"]["first_lines"] == [9]
    assert report["rows_read"] == 8 and report["rows_kept"] == 5  # the blank line is not a row
    # units are counted over every line whose timestamp parsed (line 5 has one but no user)
    assert report["timestamp_units"] == {"seconds": 3, "milliseconds": 3}


def test_amazon2023_item_fields(amazon_files):
    items = read_amazon2023(*amazon_files).items.set_index("item_id")
    assert items.loc["A", "category"] == "Home > Kitchen > Coffee"
    assert items.loc["A", "brand"] == "Acme"
    assert items.loc["A", "description"] == "Line one. Line two."
    assert items.loc["A", "price"] == 12.5
    # empty categories fall back to main_category; "—" price is null; missing title stays missing
    assert items.loc["B", "category"] == "Kitchen"
    assert np.isnan(items.loc["B", "price"]) and pd.isna(items.loc["B", "title"])
    assert items.loc["C", "price"] == 1299.0
    assert pd.isna(items.loc["C", "description"]) and pd.isna(items.loc["C", "brand"])
    meta_report = read_amazon2023(*amazon_files).parse_report[str(amazon_files[1])]
    assert meta_report["problems"]["not_a_json_object"]["first_lines"] == [4]
    assert meta_report["problems"]["unparseable_price_set_to_null"]["first_lines"] == [2]


def test_amazon2023_gzip_gives_the_same_tables(tmp_path, amazon_files):
    plain = read_amazon2023(*amazon_files)
    reviews_gz = tmp_path / "Cat.jsonl.gz"
    meta_gz = tmp_path / "meta_Cat.jsonl.gz"
    reviews_gz.write_bytes(gzip.compress(amazon_files[0].read_bytes()))
    meta_gz.write_bytes(gzip.compress(amazon_files[1].read_bytes()))
    zipped = read_amazon2023(reviews_gz, meta_gz, chunk_size=3)
    pd.testing.assert_frame_equal(plain.interactions, zipped.interactions)
    pd.testing.assert_frame_equal(plain.items, zipped.items)


def test_amazon2023_empty_file_raises_naming_it(tmp_path, amazon_files):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(LogFormatError, match=r"empty\.jsonl.*empty"):
        read_amazon2023(empty, amazon_files[1])


def test_amazon2023_without_required_fields_raises_naming_the_problem(tmp_path, amazon_files):
    no_users = write_lines(tmp_path / "r.jsonl", [{"parent_asin": "A", "timestamp": 1} for _ in range(3)])
    with pytest.raises(LogFormatError, match=r"r\.jsonl: no usable review lines.*missing_user_id: 3"):
        read_amazon2023(no_users, amazon_files[1])


def test_amazon2023_mostly_malformed_file_raises(tmp_path, amazon_files):
    bad = write_lines(tmp_path / "bad.jsonl", [b"{oops"] * 3 + [review("u", "A", 1)])
    with pytest.raises(LogFormatError, match=r"bad\.jsonl: 3 of 4 review lines are unusable"):
        read_amazon2023(bad, amazon_files[1])
    # a looser threshold accepts it, and the malformed lines are still reported
    log = read_amazon2023(bad, amazon_files[1], max_bad_fraction=0.9)
    assert log.parse_report[str(bad)]["problems"]["malformed_json"]["count"] == 3


def test_amazon2023_missing_file_raises(tmp_path, amazon_files):
    with pytest.raises(LogFormatError, match="nope.jsonl: file not found"):
        read_amazon2023(tmp_path / "nope.jsonl", amazon_files[1])


# ---------------------------------------------------------------------------------------------- LC-Rec


def write_lcrec(tmp_path: Path, inter: object, items: object) -> tuple[Path, Path]:
    inter_path, item_path = tmp_path / "X.inter.json", tmp_path / "X.item.json"
    inter_path.write_text(json.dumps(inter))
    item_path.write_text(json.dumps(items))
    return inter_path, item_path


def test_lcrec_positions_as_timestamps_and_category_path(tmp_path):
    paths = write_lcrec(
        tmp_path,
        {"0": [3, 1, 2], "1": [1], "2": "oops"},
        {
            "1": {"title": "One.", "description": "", "brand": "B", "categories": "Top,Mid,Leaf"},
            "2": {"title": "Two.", "brand": "", "categories": ""},
            "3": {"title": "", "description": "d"},
        },
    )
    log = read_lcrec(*paths)
    inter = log.interactions
    assert inter["user_id"].tolist() == ["0", "0", "0", "1"]
    assert inter["item_id"].tolist() == ["3", "1", "2", "1"]
    assert inter["timestamp"].tolist() == [0, 1, 2, 0]
    assert inter["rating"].isna().all()
    items = log.items.set_index("item_id")
    assert items.loc["1", "category"] == "Top > Mid > Leaf"
    assert pd.isna(items.loc["1", "description"]) and pd.isna(items.loc["2", "brand"])
    assert pd.isna(items.loc["3", "title"])
    assert log.parse_report[str(paths[0])]["problems"]["sequence_not_a_list"] == {
        "count": 1,
        "first_lines": [3],
    }


def test_lcrec_empty_file_raises(tmp_path):
    inter_path, item_path = write_lcrec(tmp_path, {"0": [1]}, {"1": {"title": "t"}})
    inter_path.write_text("   ")
    with pytest.raises(LogFormatError, match=r"X\.inter\.json: the file is empty"):
        read_lcrec(inter_path, item_path)


def test_lcrec_non_utf8_bytes_are_escaped_and_reported(tmp_path):
    inter_path, item_path = write_lcrec(tmp_path, {"0": [1]}, {})
    item_path.write_bytes(b'{"1": {"title": "caf\xe9"}}')
    log = read_lcrec(inter_path, item_path)
    assert log.items["title"].iloc[0] == "caf\\xe9"  # the broken byte kept as an escape, not replaced
    assert log.parse_report[str(item_path)]["problems"]["non_utf8_bytes_escaped"]["count"] == 1


# ------------------------------------------------------------------------------------------- MovieLens


@pytest.fixture
def movielens_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "u.data").write_text(
        "1\t10\t3\t881250949\n1\t20\t4\t881250949\nbroken line\n2\t10\t5\tsoon\n\n"
    )
    (folder / "u.genre").write_text("unknown|0\nAction|1\nComedy|2\n\n")
    (folder / "u.item").write_bytes(
        "10|Amélie (2001)|01-Jan-2001||http://x|0|0|1\n20|Heat (1995)|01-Jan-1995||http://y|0|1|1\n"
        "30|unknown|||http://z|1|0|0\n".encode("latin-1")
    )
    return folder


def test_movielens_reads_latin1_titles_genres_and_reports_bad_lines(movielens_dir):
    log = read_movielens(movielens_dir)
    inter = log.interactions
    assert inter["user_id"].tolist() == ["1", "1"]
    assert inter["timestamp"].tolist() == [881250949, 881250949]
    assert inter["rating"].tolist() == [3.0, 4.0]
    items = log.items.set_index("item_id")
    assert items.loc["10", "title"] == "Amélie (2001)"
    assert items.loc["10", "category"] == "Comedy"
    assert items.loc["20", "category"] == "Action, Comedy"
    assert pd.isna(items.loc["30", "title"]) and items.loc["30", "category"] == "unknown"
    item_problems = log.parse_report[str(movielens_dir / "u.item")]["problems"]
    assert item_problems["placeholder_title_unknown_set_to_null"]["first_lines"] == [3]
    problems = log.parse_report[str(movielens_dir / "u.data")]["problems"]
    assert problems["wrong_number_of_fields"]["first_lines"] == [3]
    assert problems["bad_timestamp"]["first_lines"] == [4]


def test_movielens_missing_folder_raises(tmp_path):
    with pytest.raises(LogFormatError, match="u.data: file not found"):
        read_movielens(tmp_path / "absent")


# --------------------------------------------------------------------------------------- CSV / Parquet


def test_tabular_csv_with_column_map_dates_and_ms(tmp_path):
    inter = tmp_path / "log.csv"
    inter.write_text(
        "customer,sku,ts,stars\n"
        "a,X,1600000000000,5\n"
        "a,Y,2020-09-13T12:26:40Z,\n"
        ",X,1600000000,4\n"
        "b,Y,yesterday,3\n"
        "b,X,1600000005,great\n"
    )
    items = tmp_path / "items.csv"
    items.write_text("sku,title,price\nX,Thing,1.5\nY,,n/a\n")
    log = read_tabular(
        inter, items, {"customer": "user_id", "sku": "item_id", "ts": "timestamp", "stars": "rating"}
    )
    assert log.interactions["user_id"].tolist() == ["a", "a", "b"]
    assert log.interactions["timestamp"].tolist() == [1600000000, 1600000000, 1600000005]
    assert log.interactions["rating"].isna().tolist() == [False, True, True]
    problems = log.parse_report[str(inter)]["problems"]
    assert problems["missing_user_id"]["first_lines"] == [3]
    assert problems["bad_timestamp"]["first_lines"] == [4]
    assert problems["unparseable_rating_set_to_null"]["first_lines"] == [5]
    catalogue = log.items.set_index("item_id")
    assert pd.isna(catalogue.loc["Y", "title"]) and np.isnan(catalogue.loc["Y", "price"])


def test_tabular_parquet_round_trip(tmp_path):
    frame = pd.DataFrame(
        {"user_id": ["u", "u"], "item_id": ["i", "j"], "timestamp": [5, 6], "rating": [1.0, 2.0]}
    )
    frame.to_parquet(tmp_path / "log.parquet")
    log = read_tabular(tmp_path / "log.parquet")
    pd.testing.assert_frame_equal(log.interactions, frame.astype(INTERACTION_COLUMNS))
    assert log.items["item_id"].tolist() == ["i", "j"]


def test_tabular_parquet_datetimes_and_csv_non_utf8(tmp_path):
    frame = pd.DataFrame(
        {
            "user_id": ["u", "u"],
            "item_id": ["i", "j"],
            "timestamp": pd.to_datetime(["2020-09-13 12:26:40", None]),
        }
    )
    frame.to_parquet(tmp_path / "log.parquet")
    log = read_tabular(tmp_path / "log.parquet")
    assert log.interactions["timestamp"].tolist() == [1600000000]
    assert log.parse_report[str(tmp_path / "log.parquet")]["problems"]["missing_timestamp"][
        "first_lines"
    ] == [2]
    csv = tmp_path / "log.csv"
    csv.write_bytes(b"user_id,item_id,timestamp\nu,caf\xe9,5\nu,tea,6\n")
    log = read_tabular(csv)
    assert log.interactions["item_id"].tolist() == [
        "caf\\xe9",
        "tea",
    ]  # escaped: "caf\xe8" would stay a different id
    assert log.parse_report[str(csv)]["problems"]["non_utf8_bytes_escaped"] == {
        "count": 1,
        "first_lines": [1],
    }


def test_tabular_empty_file_raises(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("")
    with pytest.raises(LogFormatError, match=r"log\.csv: the file is empty"):
        read_tabular(path)
