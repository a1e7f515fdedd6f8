from __future__ import annotations

import numpy as np
import torch

from momorec.data.sequences import UserSequences
from momorec.evaluation.evaluator import evaluate_split, evaluate_test_segments, segment_metrics
from momorec.evaluation.metrics import metric_values, target_ranks
from momorec.evaluation.ranking import history_mask, rank_targets_chunked, top_k_chunked
from momorec.evaluation.segments import long_tail_flags, user_segments
from tests.models.conftest import make_interactions


def _random_scorer(n_items: int):
    weights = torch.randn(n_items + 1, n_items, generator=torch.Generator().manual_seed(0))
    weights[0] = 0.0  # padding carries no signal, as in the models

    def score(sequences: torch.Tensor) -> torch.Tensor:
        return weights[sequences].sum(1)

    return score


def test_history_mask_marks_each_rows_items():
    mask = history_mask(np.array([0, 2, 5]), np.array([2, 3, 0]), np.array([1, 3, 0, 2, 4]), 5)
    assert mask.tolist() == [
        [False, True, False, True, False],
        [True, False, True, False, True],
        [False] * 5,
    ]


def test_chunked_ranking_equals_unchunked():
    rng = np.random.default_rng(0)
    inputs = rng.integers(0, 21, size=(37, 5))
    targets = rng.integers(0, 20, size=37)
    lengths = rng.integers(0, 4, size=37)
    starts = np.cumsum(lengths) - lengths
    history = (starts, lengths, rng.integers(0, 20, size=int(lengths.sum())))
    score = _random_scorer(20)
    whole = rank_targets_chunked(score, inputs, targets, 20, history, chunk_size=1000, max_k=20)
    for chunk in (1, 4, 10):
        assert np.array_equal(
            rank_targets_chunked(score, inputs, targets, 20, history, chunk_size=chunk), whole
        )
        top_whole = top_k_chunked(score, inputs, 7, 20, history, chunk_size=1000)
        top_chunked = top_k_chunked(score, inputs, 7, 20, history, chunk_size=chunk)
        assert np.array_equal(top_whole[0], top_chunked[0]) and np.allclose(top_whole[1], top_chunked[1])
    # ...and equals the exact rank of the unchunked score matrix (no ties with random scores).
    scores = score(torch.as_tensor(inputs))
    excluded = history_mask(*history, 20)
    exact = target_ranks(scores, torch.as_tensor(targets), excluded).numpy()
    assert np.array_equal(whole, np.minimum(exact, 20))


def test_top_k_never_returns_history_items():
    inputs = np.array([[1, 2], [3, 4]])
    history = (np.array([0, 2]), np.array([2, 2]), np.array([0, 1, 2, 3]))
    top, _ = top_k_chunked(_random_scorer(6), inputs, 4, 6, history, chunk_size=1)
    assert not set(top[0]) & {0, 1} and not set(top[1]) & {2, 3}


def test_an_oracle_that_ranks_the_target_first_gets_recall_one_in_both_splits():
    """The log's next item is always the last one + 1: scoring that item highest is a perfect model."""
    n_items = 30
    data = UserSequences.from_interactions(make_interactions(n_items=n_items), n_items=n_items)

    def oracle(sequences: torch.Tensor) -> torch.Tensor:
        scores = torch.zeros(len(sequences), n_items)
        scores[torch.arange(len(sequences)), sequences[:, -1] % n_items] = 1.0  # token t = item t-1
        return scores

    for split in ("valid", "test"):
        for masked in (True, False):
            ranks = evaluate_split(oracle, data, split, max_length=5, mask_history=masked, chunk_size=7).ranks
            assert metric_values(ranks)[("recall", 10)] == 1.0


def test_test_input_includes_the_validation_item_and_masking_hides_it():
    log = make_interactions(n_users=5, n_items=30)
    data = UserSequences.from_interactions(log, n_items=30)
    valid_item = data.valid_items

    def favour_validation_item(sequences: torch.Tensor) -> torch.Tensor:
        scores = torch.zeros(len(sequences), 30)
        scores[torch.arange(len(sequences)), torch.as_tensor(valid_item)] = 5.0
        return scores

    # The validation item is the test input's last token...
    _, inputs, _ = data.evaluation_inputs("test", max_length=4)
    assert (inputs[:, -1] - 1 == valid_item).all()
    # ...and with masking on, it cannot occupy the top of the test ranking.
    top, _ = top_k_chunked(favour_validation_item, inputs, 1, 30, None)
    assert (top[:, 0] == valid_item).all()
    offsets, items = data.history("test")
    top, _ = top_k_chunked(favour_validation_item, inputs, 1, 30, (offsets[:-1], np.diff(offsets), items))
    assert not (top[:, 0] == valid_item).any()


def test_segments_split_users_by_target_and_history_length():
    stats = {"item_idx": [0, 1, 2, 3], "is_long_tail": [False, True, True, True]}
    import pandas as pd

    flags = long_tail_flags(pd.DataFrame(stats), 4)
    assert flags.tolist() == [False, True, True, True]
    segments = user_segments(np.array([0, 1, 3]), np.array([1, 5, 2]), flags, cold_start_below=3)
    assert segments["long_tail_target"].tolist() == [False, True, True]
    assert segments["head_target"].tolist() == [True, False, False]
    assert segments["cold_start_users"].tolist() == [True, False, True]
    rows = segment_metrics(np.array([0, 30, 5]), segments, ks=[10])
    by_key = {(r["segment"], r["metric"]): r for r in rows}
    assert by_key[("all", "recall")]["value"] == 2 / 3 and by_key[("all", "recall")]["n_users"] == 3
    assert by_key[("long_tail_target", "recall")]["value"] == 0.5
    assert by_key[("head_target", "mrr")]["value"] == 1.0


def test_evaluate_split_matches_a_direct_full_ranking():
    """Sorting users by length and trimming padding must not change any user's rank."""
    data = UserSequences.from_interactions(make_interactions(n_users=50, n_items=30, max_len=12), n_items=30)
    score = _random_scorer(30)

    def position_aware(sequences: torch.Tensor) -> torch.Tensor:
        # depends on the true (unpadded) sequence only, like a model
        return score(sequences) + 0.1 * (sequences > 0).sum(1, keepdim=True) * torch.arange(30)

    split = evaluate_split(position_aware, data, "test", max_length=10, mask_history=True, chunk_size=8)
    _, inputs, targets = data.evaluation_inputs("test", 10)
    offsets, items = data.history("test")
    excluded = history_mask(offsets[:-1], np.diff(offsets), items, 30)
    exact = target_ranks(position_aware(torch.as_tensor(inputs)), torch.as_tensor(targets), excluded).numpy()
    assert np.array_equal(split.ranks, np.minimum(exact, 20))


def test_test_segments_report_masked_and_unmasked_rows_from_the_evaluator():
    data = UserSequences.from_interactions(make_interactions(n_users=20, n_items=30), n_items=30)
    score = _random_scorer(30)
    long_tail = np.arange(30) % 2 == 0
    rows = evaluate_test_segments(score, data, 6, long_tail, cold_start_below=3, ks=[5, 10], chunk_size=7)
    assert {r["history_masked"] for r in rows} == {True, False}
    assert len(rows) == 2 * 5 * 4 * 2  # masking x segments x metrics x ks
    for masked in (True, False):
        split = evaluate_split(score, data, "test", 6, masked, 7, max_k=10)
        segments = user_segments(split.targets, data.train_lengths[split.rows], long_tail, 3)
        expected = segment_metrics(split.ranks, segments, [5, 10])
        assert [{**r, "history_masked": masked} for r in expected] == [
            r for r in rows if r["history_masked"] == masked
        ]
