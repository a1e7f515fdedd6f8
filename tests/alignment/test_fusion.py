"""Normalisation, fusion, re-ranked target ranks and the fusion weight chosen on validation users only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from momorec.alignment.fusion import (
    fuse,
    fused_scores,
    normalise_per_list,
    reranked_target_ranks,
    select_fusion_weight,
)


def _candidates(split: str = "valid", seeds=(0,)) -> pd.DataFrame:
    """Two users x 4 candidates; the recommender prefers low item ids, the alignment score high ones."""
    rows = []
    for seed in seeds:
        for user in (0, 1):
            for rank, item in enumerate([10, 11, 12, 13]):
                rows.append((user, split, seed, item, 4.0 - rank, float(rank), rank))
    return pd.DataFrame(rows, columns=["user_idx", "split", "seed", "item_idx", "score", "align", "rank"])


def _targets(split: str = "valid", items=(13, 13), seeds=(0,), base_rank=3) -> pd.DataFrame:
    return pd.DataFrame(
        [(u, split, s, item, base_rank) for s in seeds for u, item in zip((0, 1), items, strict=True)],
        columns=["user_idx", "split", "seed", "item_idx", "rank"],
    )


def test_minmax_and_rank_normalisation_per_list():
    frame = _candidates()
    assert np.allclose(normalise_per_list(frame, "score", "minmax")[:4], [1.0, 2 / 3, 1 / 3, 0.0])
    assert np.allclose(normalise_per_list(frame, "score", "rank")[:4], [1.0, 2 / 3, 1 / 3, 0.0])
    frame.loc[0, "align"] = np.nan
    scaled = normalise_per_list(frame, "align", "minmax")
    assert np.isnan(scaled[0]) and scaled[1:4].tolist() == [0.0, 0.5, 1.0]
    constant = frame.assign(score=1.0)
    assert set(normalise_per_list(constant, "score", "minmax")) == {0.5}
    with pytest.raises(ValueError, match="normalisation"):
        normalise_per_list(frame, "score", "zscore")


def test_fuse_weights_and_neutral_missing():
    assert fuse(np.array([1.0, 0.0]), np.array([0.0, np.nan]), 0.25).tolist() == [0.75, 0.125]
    with pytest.raises(ValueError):
        fuse(np.array([1.0]), np.array([1.0]), 1.5)


def test_weight_zero_keeps_the_base_order_and_weight_one_follows_alignment():
    frame, targets = _candidates(), _targets()
    base = reranked_target_ranks(frame, fused_scores(frame, "align", 0.0, "minmax"), targets)
    assert base["reranked"].tolist() == [3, 3]
    aligned = reranked_target_ranks(frame, fused_scores(frame, "align", 1.0, "minmax"), targets)
    assert aligned["reranked"].tolist() == [0, 0]


def test_target_outside_the_list_keeps_its_full_rank_and_ties_count_against_it():
    frame = _candidates()
    targets = _targets(items=(99, 12), base_rank=17)
    ranks = reranked_target_ranks(frame, np.ones(len(frame)), targets)
    assert ranks["reranked"].tolist() == [17, 3]  # outside: unchanged; inside with all tied: last place


def test_target_outside_the_list_is_never_ranked_inside_it():
    frame = _candidates()
    targets = _targets(items=(99, 99), base_rank=2)  # censored or tied base rank below N
    ranks = reranked_target_ranks(frame, fused_scores(frame, "align", 0.5, "minmax"), targets)
    assert ranks["reranked"].tolist() == [4, 4]


def test_selection_picks_the_best_weight_smallest_on_ties():
    frame = _candidates()
    # λ = 0.5 ties all four candidates (ties count against the target), only λ = 1 lifts item 13 to the top.
    weight, curve = select_fusion_weight(frame, _targets(items=(13, 13)), "align", [1.0, 0.0, 0.5])
    assert curve["weight"].tolist() == [0.0, 0.5, 1.0]
    assert curve["value"].tolist() == pytest.approx([1 / np.log2(5), 1 / np.log2(5), 1.0])  # NDCG@10
    assert weight == 1.0
    weight, _ = select_fusion_weight(frame, _targets(items=(10, 10), base_rank=0), "align", [0.0, 0.5, 1.0])
    assert weight == 0.0
    agreeing = frame.assign(align=-frame["rank"].astype(float))  # alignment agrees with the recommender
    weight, curve = select_fusion_weight(
        agreeing, _targets(items=(10, 10), base_rank=0), "align", [0.0, 0.5, 1.0]
    )
    assert curve["value"].nunique() == 1 and weight == 0.0


def test_selection_refuses_test_rows():
    with pytest.raises(ValueError, match="validation only"):
        select_fusion_weight(_candidates("test"), _targets("valid"), "align", [0.0, 1.0])
    with pytest.raises(ValueError, match="validation only"):
        select_fusion_weight(_candidates(), _targets("test"), "align", [0.0, 1.0])
    with pytest.raises(ValueError, match="empty"):
        select_fusion_weight(_candidates(), _targets(), "align", [])
