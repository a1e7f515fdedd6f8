import numpy as np
import pytest

from momorec.clustering.motivation_spreading import majority_vote, spread_clusters, top_k_neighbours


def test_majority_wins_over_a_single_closer_neighbour():
    winner, share, summed = majority_vote(np.array([[1, 2, 2]]), np.array([[0.99, 0.5, 0.4]]))
    assert winner.tolist() == [2]
    assert share.tolist() == pytest.approx([2 / 3])
    assert summed.tolist() == pytest.approx([0.9])


def test_vote_ties_go_to_larger_summed_similarity_then_lower_cluster():
    winner, share, _ = majority_vote(
        np.array([[5, 3, 7], [5, 3, 7]]), np.array([[0.2, 0.9, 0.4], [0.5, 0.5, 0.5]])
    )
    assert winner.tolist() == [3, 3]
    assert share.tolist() == pytest.approx([1 / 3, 1 / 3])


def test_no_valid_vote_gives_minus_one():
    winner, share, _ = majority_vote(np.array([[-1, -1]]), np.array([[0.9, 0.9]]))
    assert winner.tolist() == [-1] and share.tolist() == [0.0]


def test_top_k_neighbours_are_by_inner_product():
    base = np.eye(3, dtype=np.float32)
    sims, positions = top_k_neighbours(np.array([[0.1, 0.9, 0.3]], np.float32), base, 2)
    assert positions.tolist() == [[1, 2]]
    assert sims[0].tolist() == pytest.approx([0.9, 0.3])
    with pytest.raises(ValueError, match="top_k"):
        top_k_neighbours(base, base, 0)


def test_spreading_with_fewer_sources_than_k_and_a_zero_target():
    sources = np.array([[1, 0], [0.8, 0.6]], np.float32)
    targets = np.array([[0.9, 0.1], [0, 0]], np.float32)
    targets[0] /= np.linalg.norm(targets[0])
    cluster, confidence = spread_clusters(targets, sources, np.array([4, 4]), k=3)
    assert cluster.tolist() == [4, -1]
    # Two of the three requested votes were available.
    assert confidence.tolist() == pytest.approx([2 / 3, 0.0])


def test_spreading_without_sources_gives_nothing():
    cluster, confidence = spread_clusters(
        np.ones((2, 2), np.float32), np.zeros((0, 2), np.float32), np.zeros(0), 3
    )
    assert cluster.tolist() == [-1, -1] and confidence.tolist() == [0.0, 0.0]
