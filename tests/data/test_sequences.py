from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from momorec.data.sequences import UserSequences, build_user_sequences
from tests.models.conftest import make_interactions


def _hand_log() -> pd.DataFrame:
    # user 0: 5 6 7 8 | valid 9 | test 1 ; user 1: 2 | valid 3 | test 4 (rows shuffled on purpose)
    rows = [(0, i, p, "train") for p, i in enumerate([5, 6, 7, 8])] + [(0, 9, 4, "valid"), (0, 1, 5, "test")]
    rows += [(1, 2, 0, "train"), (1, 3, 1, "valid"), (1, 4, 2, "test")]
    frame = pd.DataFrame(rows, columns=["user_idx", "item_idx", "position", "split"])
    return frame.sample(frac=1.0, random_state=0)


def test_from_interactions_orders_by_position_and_splits():
    data = UserSequences.from_interactions(_hand_log(), n_items=10)
    assert data.train_items.tolist() == [5, 6, 7, 8, 2]
    assert data.train_offsets.tolist() == [0, 4, 5]
    assert data.valid_items.tolist() == [9, 3] and data.test_items.tolist() == [1, 4]


def test_training_windows_cover_every_training_transition_once():
    data = UserSequences.from_interactions(_hand_log(), n_items=10)
    users, inputs, targets = data.training_windows(max_length=2)
    # user 0 has transitions 5->6, 6->7, 7->8 (tokens = item + 1); user 1 has none
    assert users.tolist() == [0, 0]
    assert inputs.tolist() == [[7, 8], [0, 6]]
    assert targets.tolist() == [[8, 9], [0, 7]]


def test_history_and_evaluation_inputs():
    data = UserSequences.from_interactions(_hand_log(), n_items=10)
    offsets, items = data.history("test")
    assert items[offsets[0] : offsets[1]].tolist() == [5, 6, 7, 8, 9]
    assert items[offsets[1] : offsets[2]].tolist() == [2, 3]
    rows, inputs, targets = data.evaluation_inputs("valid", max_length=3)
    assert rows.tolist() == [0, 1] and targets.tolist() == [9, 3]
    assert inputs.tolist() == [[7, 8, 9], [0, 0, 3]]
    _, inputs, targets = data.evaluation_inputs("test", max_length=3)
    assert inputs.tolist() == [[8, 9, 10], [0, 3, 4]] and targets.tolist() == [1, 4]


def test_bad_input_is_rejected():
    log = _hand_log()
    with pytest.raises(ValueError, match="split"):
        UserSequences.from_interactions(log.drop(columns="split"))
    with pytest.raises(ValueError, match="unexpected"):
        UserSequences.from_interactions(log.assign(split="holdout"))
    with pytest.raises(ValueError, match="outside"):
        UserSequences.from_interactions(log, n_items=5)
    twice = pd.concat([log, log[log["split"] == "test"]])
    with pytest.raises(ValueError, match="more than one 'test'"):
        UserSequences.from_interactions(twice)


def test_item_train_frequency_counts_training_prefix_only():
    data = UserSequences.from_interactions(_hand_log(), n_items=10)
    frequency = data.item_train_frequency()
    assert frequency[[5, 6, 7, 8, 2]].tolist() == [1, 1, 1, 1, 1]
    assert frequency[[9, 1, 3, 4]].sum() == 0
    assert np.isclose(frequency.sum(), 5)


def test_build_user_sequences_uses_the_item_table_size():
    inputs = {
        "interactions": make_interactions(n_users=30, n_items=30),
        "items": pd.DataFrame({"item_idx": np.arange(30, dtype=np.int32)}),
    }
    data = build_user_sequences(inputs["interactions"], inputs["items"])
    assert data.n_items == 30 and data.n_users == 30
    with pytest.raises(ValueError, match="contiguous"):
        build_user_sequences(inputs["interactions"], inputs["items"].iloc[1:])
    with pytest.raises(ValueError, match="item_idx"):
        build_user_sequences(inputs["interactions"], inputs["items"].drop(columns="item_idx"))
