"""Item → cluster assignment and its scores, on hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from momorec.clustering.assignment import (
    assign_clusters,
    generated_cluster_ids,
    main_item_motivations,
    motivation_support_table,
    true_head_motivations,
    true_motivation_labels,
)
from momorec.clustering.spreading_evaluation import (
    finite_metric_values,
    holdout_mask,
    none_if_nan,
    score_assignment,
)


@pytest.fixture
def clusters() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "motivation": ["a", "b", "c"],
            "cluster_id": [0, 0, 1],
            "is_representative": [True, False, True],
            "support": [3, 1, 2],
        }
    )


@pytest.fixture
def embeddings() -> np.ndarray:
    """Items 0, 1 near axis x, items 2, 3 near axis y, item 4 all zero (no text)."""
    rows = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0, 0]], dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1)


def test_main_motivation_is_the_most_supported_and_blank_texts_are_dropped():
    frame = pd.DataFrame(
        {"item_idx": [0, 0, 1, 2], "motivation": [" b ", "a", "c", "  "], "support": [2, 2, 1, 9]}
    )
    main = main_item_motivations(frame)
    assert main.to_dict("list") == {"item_idx": [0, 1], "motivation": ["a", "c"]}
    table = motivation_support_table(frame)
    assert table.to_dict("list") == {"motivation": ["a", "b", "c"], "support": [2, 2, 1]}
    with pytest.raises(ValueError, match="missing column"):
        main_item_motivations(frame.drop(columns="support"))


def test_assignment_keeps_generated_and_spreads_to_the_nearest(clusters, embeddings):
    main = pd.DataFrame({"item_idx": [0, 2], "motivation": ["b", "c"]})
    assignment = assign_clusters(5, main, clusters, embeddings, top_k=1, min_similarity=0.0)
    assert assignment["cluster_id"].tolist() == [0, 0, 1, 1, -1]
    assert assignment["source"].tolist() == ["generated", "spread", "generated", "spread", "none"]
    # A spread item takes its cluster's representative text, a generated one keeps its own.
    assert assignment["motivation"].tolist()[:4] == ["b", "a", "c", "c"]
    assert pd.isna(assignment["motivation"].iloc[4])
    assert assignment["confidence"].tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]


def test_assignment_refuses_bad_inputs(clusters, embeddings):
    with pytest.raises(ValueError, match="outside 0..4"):
        assign_clusters(5, pd.DataFrame({"item_idx": [7], "motivation": ["a"]}), clusters, embeddings, 1, 0.0)
    with pytest.raises(ValueError, match="rows for 6 items"):
        assign_clusters(6, pd.DataFrame({"item_idx": [0], "motivation": ["a"]}), clusters, embeddings, 1, 0.0)
    with pytest.raises(ValueError, match="lacks generated motivation"):
        generated_cluster_ids(pd.DataFrame({"item_idx": [0], "motivation": ["zzz"]}), clusters)


def test_true_labels_take_the_first_row_and_head_motivations_the_text():
    items = pd.DataFrame({"item_idx": [0, 1, 2], "item_id": ["x", "y", "z"]})
    truth_rows = pd.DataFrame(
        {"item_id": ["y", "y", "x"], "motivation_id": [4, 5, 6], "motivation": ["four", "five", "six"]}
    )
    truth = true_motivation_labels(items, truth_rows)
    assert truth.sort_values("item_idx").to_dict("list") == {
        "item_idx": [0, 1],
        "label": [6, 4],
        "text": ["six", "four"],
    }
    head = true_head_motivations(truth, pd.Series([1, 2]))
    assert head.to_dict("list") == {"item_idx": [1], "motivation": ["four"]}
    with pytest.raises(ValueError, match="item_true_motivations: missing column"):
        true_motivation_labels(items, truth_rows.drop(columns="motivation_id"))


def test_holdout_mask_hides_a_share_and_never_all_or_none():
    hidden = holdout_mask(10, 0.3, seed=1)
    assert hidden.sum() == 3
    np.testing.assert_array_equal(hidden, holdout_mask(10, 0.3, seed=1))
    assert not holdout_mask(2, 0.9, seed=1).any()  # would hide every row
    assert not holdout_mask(3, 0.1, seed=1).any()  # rounds to none


def test_scores_without_truth_are_null_and_with_truth_measured(clusters):
    # Items 0-2 near axis x (clusters of a/b: 0), items 3-5 near axis y (cluster 1), item 6 without text.
    rows = np.array([[1, 0], [0.9, 0.1], [0.95, 0.05], [0, 1], [0.1, 0.9], [0.05, 0.95], [0, 0]], np.float32)
    embeddings = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)
    main = pd.DataFrame({"item_idx": [0, 1, 2, 3, 4, 5], "motivation": ["a", "b", "a", "c", "c", "c"]})
    empty = pd.DataFrame({"item_idx": [], "label": []})
    # One head item hidden: its two group mates stay, so its nearest kept neighbour votes its cluster.
    scores = score_assignment(7, main, clusters, embeddings, empty, 1, 0.0, holdout_fraction=1 / 6, seed=0)
    assert scores["head_items"] == 6 and scores["heldout_items"] == 1
    assert scores["heldout_cluster_accuracy"] == 1.0 and scores["cluster_nmi"] is None
    truth = pd.DataFrame({"item_idx": [0, 1, 2, 3, 4, 5, 6], "label": [0, 0, 0, 1, 1, 1, 1]})
    scores = score_assignment(7, main, clusters, embeddings, truth, 1, 0.0, holdout_fraction=1 / 6, seed=0)
    assert scores["cluster_nmi"] == pytest.approx(1.0) and scores["cluster_purity"] == 1.0
    assert scores["heldout_true_motivation_accuracy"] == 1.0
    # Item 6 (no text) is the long tail: it is evaluated but gets no spread motivation.
    assert scores["longtail_items_evaluated"] == 1 and scores["longtail_spread_coverage"] == 0.0


def test_metric_values_keep_finite_numbers_only():
    blocks = {"a": {"x": 1, "flag": True, "none": None, "nan": math.nan, "text": "t"}, "b": {"y": 0.5}}
    assert finite_metric_values(blocks) == {"a.x": 1.0, "b.y": 0.5}
    assert none_if_nan(math.nan) is None and none_if_nan(2.0) == 2.0 and none_if_nan("x") == "x"
