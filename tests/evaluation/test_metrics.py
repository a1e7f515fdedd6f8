from __future__ import annotations

import numpy as np
import pytest
import torch

from momorec.evaluation.metrics import (
    metric_values,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    target_ranks,
    topk_target_ranks,
)


def test_metrics_on_hand_computed_ranks():
    ranks = np.array([0, 1, 9, 10, 25])
    assert recall_at_k(ranks, 10).tolist() == [1, 1, 1, 0, 0]
    assert precision_at_k(ranks, 10).tolist() == [0.1, 0.1, 0.1, 0, 0]
    assert mrr_at_k(ranks, 10).tolist() == pytest.approx([1, 0.5, 0.1, 0, 0])
    assert ndcg_at_k(ranks, 10).tolist() == pytest.approx([1, 1 / np.log2(3), 1 / np.log2(11), 0, 0])
    values = metric_values(ranks, [10, 20])
    assert values[("recall", 20)] == pytest.approx(4 / 5)
    assert values[("mrr", 10)] == pytest.approx((1 + 0.5 + 0.1) / 5)
    assert values[("precision", 20)] == pytest.approx(4 / 5 / 20)
    assert np.isnan(metric_values(np.array([], dtype=int))[("recall", 10)])


def test_target_ranks_break_ties_against_the_target():
    scores = torch.tensor([[1.0, 2.0, 2.0, 0.0], [5.0, 5.0, 5.0, 5.0]])
    # row 0: target item 1 ties with item 2 -> rank 1; row 1: constant scores -> last place
    assert target_ranks(scores, torch.tensor([1, 0])).tolist() == [1, 3]
    assert target_ranks(scores, torch.tensor([3, 2])).tolist() == [3, 3]


def test_target_ranks_masking_removes_items_and_an_excluded_target_misses():
    scores = torch.tensor([[4.0, 3.0, 2.0, 1.0]])
    excluded = torch.tensor([[True, True, False, False]])
    assert target_ranks(scores, torch.tensor([2])).tolist() == [2]
    assert target_ranks(scores, torch.tensor([2]), excluded).tolist() == [0]
    assert target_ranks(scores, torch.tensor([0]), excluded).tolist() == [4]


def test_model_ranking_the_target_first_gets_recall_one():
    scores = torch.rand(50, 100)
    targets = torch.randint(0, 100, (50,))
    scores[torch.arange(50), targets] = 2.0
    ranks = target_ranks(scores, targets).numpy()
    assert metric_values(ranks)[("recall", 10)] == 1.0 and metric_values(ranks)[("ndcg", 10)] == 1.0


@pytest.mark.parametrize("k", [1, 5, 20])
def test_topk_ranks_equal_exact_ranks_censored(k):
    generator = torch.Generator().manual_seed(k)
    scores = torch.randint(0, 6, (200, 30), generator=generator).float()  # many ties on purpose
    scores[:20, :10] = float("-inf")  # masked items
    targets = torch.randint(0, 30, (200,), generator=generator)
    exact = target_ranks(scores, targets)
    exact = torch.where(
        torch.isneginf(scores.gather(1, targets[:, None])[:, 0]), torch.full_like(exact, 30), exact
    )
    assert torch.equal(topk_target_ranks(scores, targets, k), exact.clamp(max=k))


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError):
        target_ranks(torch.zeros(3), torch.zeros(3, dtype=torch.long))


def test_long_tail_flags_refuse_a_stale_item_table():
    import pandas as pd

    from momorec.evaluation.segments import long_tail_flags

    stats = pd.DataFrame({"item_idx": [0, 1, 2], "is_long_tail": [True, False, True]})
    assert long_tail_flags(stats, 3).tolist() == [True, False, True]
    with pytest.raises(ValueError, match="every item_idx"):
        long_tail_flags(stats.iloc[:2], 3)
