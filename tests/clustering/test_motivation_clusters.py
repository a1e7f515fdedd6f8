import numpy as np
import pandas as pd
import pytest

from momorec.clustering.evaluation import pairwise_agreement
from momorec.clustering.motivation_clusters import (
    _split_oversized,
    auto_n_planes,
    cluster_motivation_table,
    exact_components,
    lsh_components,
    pick_representatives,
    relabel_by_first_appearance,
)


def test_exact_components_follow_the_strict_threshold():
    angle = np.arccos(0.8)
    vectors = np.array(
        [[1, 0], [np.cos(angle * 0.9), np.sin(angle * 0.9)], [np.cos(angle * 2.5), np.sin(angle * 2.5)]],
        dtype=np.float32,
    )
    labels = exact_components(vectors, threshold=0.8)
    assert labels[0] == labels[1] != labels[2]
    # Raising the threshold above the pair's cosine separates it.
    assert len(set(exact_components(vectors, threshold=0.99))) == 3


def test_lsh_with_several_tables_agrees_with_exact_components(clustered):
    vectors, _ = clustered
    exact = exact_components(vectors, threshold=0.8)
    assert 5 < exact.max() + 1 < len(vectors)  # the threshold gives real, non-trivial components
    lsh = lsh_components(vectors, threshold=0.8, n_tables=8, n_planes=3, seed=7, show_progress=False)
    agreement = pairwise_agreement(lsh, exact)
    # Buckets only remove edges: LSH never joins what the exact graph keeps apart.
    assert agreement["pair_precision"] == 1.0
    assert agreement["pair_recall"] >= 0.98
    single_table = lsh_components(vectors, threshold=0.8, n_tables=1, n_planes=3, seed=7, show_progress=False)
    assert pairwise_agreement(single_table, exact)["pair_recall"] <= agreement["pair_recall"]


def test_lsh_is_deterministic_for_a_seed(clustered):
    vectors, _ = clustered
    first = lsh_components(vectors, n_tables=3, n_planes=4, seed=1, show_progress=False)
    again = lsh_components(vectors, n_tables=3, n_planes=4, seed=1, show_progress=False)
    np.testing.assert_array_equal(first, again)


def test_small_inputs_use_one_exact_bucket(clustered):
    vectors, _ = clustered
    assert auto_n_planes(len(vectors), target_bucket_size=2000) == 0
    np.testing.assert_array_equal(
        lsh_components(vectors, n_planes=None, show_progress=False), exact_components(vectors)
    )
    assert auto_n_planes(100_000, 2000) == 6


def test_oversized_buckets_are_split_below_the_cap(clustered):
    vectors, _ = clustered
    parts = _split_oversized(vectors, np.arange(len(vectors)), 50, np.random.default_rng(0))
    assert max(len(part) for part in parts) <= 50
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(len(vectors)))


def test_identical_vectors_beyond_the_cap_are_still_split():
    vectors = np.tile(np.array([[0.6, 0.8]], dtype=np.float32), (30, 1))
    parts = _split_oversized(vectors, np.arange(30), 7, np.random.default_rng(0))
    assert max(len(part) for part in parts) <= 7
    assert sum(len(part) for part in parts) == 30


def test_single_identical_and_empty_inputs():
    assert lsh_components(np.ones((1, 4), np.float32) / 2, show_progress=False).tolist() == [0]
    same = np.tile(np.array([[1.0, 0.0, 0.0]], np.float32), (6, 1))
    assert lsh_components(same, n_planes=2, n_tables=2, show_progress=False).tolist() == [0] * 6
    assert lsh_components(np.zeros((0, 3), np.float32), show_progress=False).shape == (0,)
    with pytest.raises(ValueError, match="2-D"):
        lsh_components(np.ones(3, np.float32))


def test_relabel_numbers_by_first_appearance():
    assert relabel_by_first_appearance(np.array([7, 3, 7, 9, 3])).tolist() == [0, 1, 0, 2, 1]


def test_representative_is_closest_to_centroid_then_highest_support():
    vectors = np.array([[1, 0], [0.8, 0.6], [0.6, 0.8], [0, 1], [0, 1]], dtype=np.float32)
    labels = np.array([0, 0, 0, 1, 1])
    mask = pick_representatives(vectors, labels, support=np.array([9, 1, 9, 1, 5]))
    # Cluster 0's centroid direction is closest to the middle row; cluster 1 is a tie broken by support.
    assert mask.tolist() == [False, True, False, False, True]


def test_cluster_table_orders_clusters_by_support():
    motivations = pd.DataFrame({"motivation": ["a", "b", "c"], "support": [1, 10, 2]})
    vectors = np.array([[1, 0], [0, 1], [0.99, 0.141]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    table = cluster_motivation_table(motivations, vectors, threshold=0.8)
    assert table["cluster_id"].tolist() == [1, 0, 1]
    assert table.groupby("cluster_id")["is_representative"].sum().tolist() == [1, 1]
    assert list(table.columns) == ["motivation", "cluster_id", "is_representative", "support"]
    with pytest.raises(ValueError, match="embedding rows"):
        cluster_motivation_table(motivations, vectors[:2])
