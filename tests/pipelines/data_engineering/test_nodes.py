"""Unit tests of every data_engineering node on tiny frames, including bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from momorec.data.raw_log import RawLog
from momorec.pipelines.data_engineering.nodes import (
    DataValidationError,
    build_copurchase_pairs,
    build_sequences,
    compute_dataset_statistics,
    compute_item_stats,
    dataset_statistics_to_metrics,
    filter_k_core,
    select_train_interactions,
    split_leave_one_out,
    validate_raw_log,
)
from tests.pipelines.data_engineering.conftest import make_raw_log

# ------------------------------------------------------------------------------------------ validation


def test_validation_counts_and_removes_bad_rows_with_examples(parameters):
    raw = make_raw_log(
        [
            ("u1", "A", 10),
            ("u1", "A", 10),  # exact duplicate
            ("u1", "A", 20),  # repeat purchase at another time: kept
            ("", "B", 11),  # empty user
            ("u2", None, 12),  # no item
            ("u2", "B", 13),
        ],
        items=[("A", "Apple"), ("B", None), ("A", "Apple again"), (" ", "no id")],
    )
    raw.interactions["timestamp"] = raw.interactions["timestamp"].astype(object)
    raw.interactions.loc[len(raw.interactions)] = ["u3", "A", "later", 1.0]  # timestamp not a number
    interactions, items, report = validate_raw_log(raw, parameters)

    assert interactions[["user_id", "item_id", "timestamp"]].values.tolist() == [
        ["u1", "A", 10],
        ["u1", "A", 20],
        ["u2", "B", 13],
    ]
    problems = report["interactions"]["problems"]
    assert {k: v["count"] for k, v in problems.items()} == {
        "missing_user_id": 1,
        "missing_item_id": 1,
        "bad_timestamp": 1,
        "duplicate_interactions": 1,
    }
    assert problems["duplicate_interactions"]["examples"][0]["timestamp"] == 10
    item_problems = report["items"]["problems"]
    assert item_problems["duplicate_item_ids"]["count"] == 1
    assert item_problems["missing_item_id"]["count"] == 1
    assert item_problems["items_without_title"]["examples"][0]["item_id"] == "B"
    assert items["item_id"].tolist() == ["A", "B"] and items["title"].tolist()[0] == "Apple"
    assert report["interactions"]["rows_in"] == 7 and report["interactions"]["rows_out"] == 3
    json.dumps(report)  # the report must be JSON-serialisable for the JSONDataset


def test_validation_can_drop_untitled_items_with_their_interactions(parameters):
    raw = make_raw_log([("u", "A", 1), ("u", "B", 2)], items=[("A", "Apple"), ("B", "  ")])
    interactions, items, report = validate_raw_log(raw, {**parameters, "drop_items_without_title": True})
    assert interactions["item_id"].tolist() == ["A"]
    assert items["item_id"].tolist() == ["A"]
    assert report["interactions"]["problems"]["interactions_on_items_without_title_dropped"]["count"] == 1


def test_validation_adds_id_only_rows_for_items_missing_from_the_catalogue(parameters):
    raw = make_raw_log([("u", "A", 1), ("u", "Z", 2)], items=[("A", "Apple")])
    interactions, items, report = validate_raw_log(raw, parameters)
    assert len(interactions) == 2
    assert items["item_id"].tolist() == ["A", "Z"] and pd.isna(items["title"].iloc[1])
    assert report["items"]["problems"]["items_missing_from_catalogue"]["examples"] == ["Z"]


def test_validation_stops_when_nothing_is_usable(parameters):
    raw = make_raw_log([("", "A", 1), (" ", "B", 2)])
    with pytest.raises(DataValidationError, match="no usable interaction is left.*missing_user_id': 2"):
        validate_raw_log(raw, parameters)


def test_validation_stops_on_a_missing_required_column(parameters):
    raw = make_raw_log([("u", "A", 1)])
    raw = RawLog(raw.interactions.drop(columns="timestamp"), raw.items, source="shop.jsonl")
    with pytest.raises(
        DataValidationError, match=r"shop\.jsonl: interactions lacks required column\(s\) \['timestamp'\]"
    ):
        validate_raw_log(raw, parameters)


def test_validation_stops_on_an_empty_log(parameters):
    raw = make_raw_log([("u", "A", 1)])
    raw = RawLog(raw.interactions.iloc[:0], raw.items, source="empty.jsonl")
    with pytest.raises(DataValidationError, match=r"empty\.jsonl: the interaction table is empty"):
        validate_raw_log(raw, parameters)


# ---------------------------------------------------------------------------------------------- k-core


def _log(rows: list[tuple]) -> pd.DataFrame:
    return make_raw_log(rows).interactions


def test_k_core_is_iterative():
    # u1: A B C; u2: A B; u3: A. With k=2: u3 goes (1 row), C goes (1 row), then u1 has A B (2) - stable.
    log = _log(
        [("u1", "A", 1), ("u1", "B", 2), ("u1", "C", 3), ("u2", "A", 1), ("u2", "B", 2), ("u3", "A", 1)]
    )
    kept = filter_k_core(log, 2)
    assert sorted(map(tuple, kept[["user_id", "item_id"]].values.tolist())) == [
        ("u1", "A"),
        ("u1", "B"),
        ("u2", "A"),
        ("u2", "B"),
    ]
    # a cascade: removing u3 drops D below 2, which drops u4 below 2
    cascade = _log(
        [("u3", "D", 1), ("u4", "D", 1), ("u4", "E", 2), ("u5", "E", 1), ("u5", "F", 2), ("u6", "F", 1)]
    )
    with pytest.raises(DataValidationError, match="2-core of the log is empty"):
        filter_k_core(cascade, 2)


def test_k_core_zero_keeps_everything_and_negative_is_refused():
    log = _log([("u", "A", 1)])
    pd.testing.assert_frame_equal(filter_k_core(log, 0), log)
    with pytest.raises(ValueError, match="k_core must be >= 0"):
        filter_k_core(log, -1)


# ------------------------------------------------------------------------------------- sequences/split


def test_sequences_order_by_time_with_row_order_tie_break_and_contiguous_ids():
    log = _log([("u9", "C", 5), ("u9", "A", 3), ("u1", "B", 3), ("u9", "B", 3), ("u1", "A", 1)])
    catalogue = make_raw_log([("x", "A", 0), ("x", "B", 0), ("x", "C", 0), ("x", "D", 0)]).items
    sequenced, users, items = build_sequences(log, catalogue)
    # u9 first seen first -> user_idx 0; A then B share t=3: original row order (A came first) decides
    assert sequenced[["user_id", "item_id", "position"]].values.tolist() == [
        ["u9", "A", 0],
        ["u9", "B", 1],
        ["u9", "C", 2],
        ["u1", "A", 0],
        ["u1", "B", 1],
    ]
    assert users.to_dict("list") == {"user_idx": [0, 1], "user_id": ["u9", "u1"], "n_interactions": [3, 2]}
    # D has no interaction and is left out; ids follow the catalogue order
    assert items[["item_idx", "item_id"]].values.tolist() == [[0, "A"], [1, "B"], [2, "C"]]
    assert sequenced["item_idx"].tolist() == [0, 1, 2, 0, 1]
    assert sequenced["user_idx"].dtype == np.int32 and sequenced["item_idx"].dtype == np.int32
    assert sequenced["position"].dtype == np.int32


def test_sequences_refuse_items_without_a_catalogue_row():
    log = _log([("u", "A", 1), ("u", "Q", 2)])
    catalogue = make_raw_log([("x", "A", 0)]).items
    with pytest.raises(DataValidationError, match=r"\['Q'\] have interactions but no row"):
        build_sequences(log, catalogue)


def test_leave_one_out_and_short_users():
    log = _log(
        [("long", "A", 1), ("long", "B", 2), ("long", "C", 3), ("long", "D", 4)]
        + [("three", "A", 1), ("three", "B", 2), ("three", "C", 3)]
        + [("two", "A", 1), ("two", "B", 2), ("one", "C", 1)]
    )
    sequenced, _, _ = build_sequences(log, make_raw_log([("x", i, 0) for i in "ABCD"]).items)
    split = split_leave_one_out(sequenced)
    by_user = split.groupby("user_id")["split"].apply(list).to_dict()
    assert by_user["long"] == ["train", "train", "valid", "test"]
    assert by_user["three"] == ["train", "valid", "test"]
    # fewer than 3 interactions: not evaluated, everything stays in training
    assert by_user["two"] == ["train", "train"]
    assert by_user["one"] == ["train"]
    train = select_train_interactions(split)
    assert list(train.columns) == ["user_idx", "item_idx", "timestamp", "position"]
    assert len(train) == 2 + 1 + 2 + 1


# --------------------------------------------------------------------------------- item stats / pairs


def _train(rows: list[tuple[int, int]]) -> pd.DataFrame:
    """(user_idx, item_idx) rows in sequence order."""
    frame = pd.DataFrame(rows, columns=["user_idx", "item_idx"])
    frame["position"] = frame.groupby("user_idx").cumcount()
    frame["timestamp"] = frame["position"].astype("int64")
    return frame[["user_idx", "item_idx", "timestamp", "position"]]


def test_item_stats_counts_training_rows_and_flags_long_tail():
    items = pd.DataFrame({"item_idx": range(4)})
    train = _train([(0, 0), (0, 1), (1, 1), (1, 1), (2, 1)])
    stats = compute_item_stats(train, items, long_tail_max_interactions=2)
    assert stats["train_frequency"].tolist() == [1, 4, 0, 0]
    assert stats["is_long_tail"].tolist() == [True, False, True, True]
    with pytest.raises(DataValidationError, match="outside 0..3"):
        compute_item_stats(_train([(0, 7)]), items, 2)


def test_pairs_window_support_cap_and_order():
    # user 0: 3 1 2 ; user 1: 1 3 ; user 2: 2 1 2 2
    train = _train([(0, 3), (0, 1), (0, 2), (1, 1), (1, 3), (2, 2), (2, 1), (2, 2), (2, 2)])
    # shuffled rows must give the same result: order comes from (user_idx, position)
    shuffled = train.sample(frac=1.0, random_state=0)
    pairs = build_copurchase_pairs(shuffled, pair_window=2, min_support=1, max_pairs=None)
    # adjacent unordered pairs: (1,3),(1,2) | (1,3) | (1,2),(1,2) ; (2,2) self-pair skipped
    assert pairs.values.tolist() == [[1, 2, 3], [1, 3, 2]]
    assert pairs.dtypes.astype(str).tolist() == ["int32", "int32", "int64"]
    assert build_copurchase_pairs(train, 2, min_support=3, max_pairs=None).values.tolist() == [[1, 2, 3]]
    assert len(build_copurchase_pairs(train, 2, min_support=1, max_pairs=1)) == 1
    # window 3 adds items two apart: (3,2) for user 0, (1,2) once for user 2 (its (2,2) is a self-pair)
    wide = build_copurchase_pairs(train, pair_window=3, min_support=1, max_pairs=None)
    assert wide.values.tolist() == [[1, 2, 4], [1, 3, 2], [2, 3, 1]]


def test_pairs_ties_are_ordered_by_item_ids_and_bad_window_refused():
    train = _train([(0, 5), (0, 4), (1, 2), (1, 3), (2, 0), (2, 9)])
    assert build_copurchase_pairs(train, 2, 1, None)[["item_a", "item_b"]].values.tolist() == [
        [0, 9],
        [2, 3],
        [4, 5],
    ]
    with pytest.raises(ValueError, match="pair_window must be >= 2"):
        build_copurchase_pairs(train, 1, 1, None)
    empty = build_copurchase_pairs(train.iloc[:0], 2, 1, None)
    assert empty.empty and list(empty.columns) == ["item_a", "item_b", "support"]


# ---------------------------------------------------------------------------------------- statistics


def test_dataset_statistics_and_metrics():
    raw = _log(
        [
            ("a", "X", 1),
            ("a", "Y", 2),
            ("a", "Z", 3),
            ("b", "X", 1),
            ("b", "Y", 2),
            ("b", "Z", 3),
            ("b", "X", 4),
        ]
    )
    sequenced, users, items = build_sequences(raw, make_raw_log([("x", i, 0) for i in "XYZ"]).items)
    interactions = split_leave_one_out(sequenced)
    train = select_train_interactions(interactions)
    stats = compute_item_stats(train, items, 1)
    pairs = build_copurchase_pairs(train, 2, 1, None)
    params = {"k_core": 0, "long_tail_max_interactions": 1, "pair_window": 2, "min_support": 1}
    statistics = compute_dataset_statistics(raw, interactions, items, stats, pairs, params)
    assert (statistics["users"], statistics["items"], statistics["interactions"]) == (2, 3, 7)
    assert statistics["sparsity"] == pytest.approx(1 - 7 / 6)
    assert statistics["sequence_length"]["min"] == 3 and statistics["sequence_length"]["max"] == 4
    assert statistics["test_interactions"] == 2 and statistics["train_interactions"] == 3
    # train: a: X ; b: X Y -> X twice, Y once, Z never
    assert statistics["long_tail_items"] == int((stats["train_frequency"] <= 1).sum()) == 2
    assert statistics["copurchase_pairs"] == 1
    json.dumps(statistics)
    metrics = dataset_statistics_to_metrics(statistics)
    assert metrics["users"] == {"value": 2.0, "step": 0}
    assert metrics["sequence_length_p50"]["value"] == pytest.approx(3.5)
    assert metrics["before_k_core_interactions"]["value"] == 7.0
    assert all(isinstance(v["value"], float) for v in metrics.values())
