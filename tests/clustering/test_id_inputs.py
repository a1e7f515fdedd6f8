import numpy as np
import pytest

from momorec.clustering.id_inputs import (
    cluster_prefix_codes,
    cluster_text_residuals,
    code_usage,
    l2_normalise,
    weighted_concatenation,
)
from momorec.clustering.residual_kmeans import collision_rate


def _two_motivations_many_texts(
    n_items: int = 40, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items of two motivation clusters (identical motivation vectors inside a cluster), distinct texts."""
    rng = np.random.default_rng(seed)
    cluster_ids = np.arange(n_items) % 2
    motivation_table = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    motivation = motivation_table[cluster_ids]
    text = rng.standard_normal((n_items, 8)).astype(np.float32)
    return cluster_ids, motivation, text


def test_l2_normalise_keeps_zero_and_nan_rows():
    rows = np.array([[3.0, 4.0], [0.0, 0.0], [np.nan, np.nan]], dtype=np.float32)
    normalised = l2_normalise(rows)
    np.testing.assert_allclose(normalised[0], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_array_equal(normalised[1], [0.0, 0.0])
    assert np.isnan(normalised[2]).all()


def test_l2_normalise_rejects_a_vector():
    with pytest.raises(ValueError, match="2-D"):
        l2_normalise(np.ones(3))


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.8, 1.0])
def test_weighted_concatenation_is_unit_and_splits_the_squared_norm_by_weight(weight):
    _, motivation, text = _two_motivations_many_texts()
    combined = weighted_concatenation(3 * motivation, text, weight)
    assert combined.shape == (40, 11) and combined.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(combined, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose((combined[:, :3] ** 2).sum(axis=1), weight, atol=1e-6)


def test_weighted_concatenation_pads_items_missing_either_input():
    _, motivation, text = _two_motivations_many_texts(4)
    motivation[1] = np.nan
    text[2] = np.nan
    combined = weighted_concatenation(motivation, text, 0.5)
    assert np.isnan(combined[[1, 2]]).all()
    assert np.isfinite(combined[[0, 3]]).all()


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_weighted_concatenation_rejects_a_weight_outside_0_1(weight):
    _, motivation, text = _two_motivations_many_texts(4)
    with pytest.raises(ValueError, match="motivation_weight"):
        weighted_concatenation(motivation, text, weight)


def test_weighted_concatenation_rejects_different_item_counts():
    _, motivation, text = _two_motivations_many_texts(4)
    with pytest.raises(ValueError, match="one per item"):
        weighted_concatenation(motivation, text[:3], 0.5)


def test_cluster_text_residuals_subtracts_each_clusters_mean_and_pads_unclustered_items():
    text = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [5.0, 5.0]], dtype=np.float32)
    residuals, means = cluster_text_residuals(np.array([0, 0, 2, -1]), text)
    np.testing.assert_allclose(means, [[2.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(residuals[:3], [[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    assert np.isnan(residuals[3]).all()


@pytest.mark.parametrize(
    ("cluster_ids", "message"),
    [
        (np.array([0, 1, 2]), "one id per item"),
        (np.array([0.0, 1.0, 1.0, 0.0]), "integers"),
        (np.array([0, -2, 1, 0]), ">= 0, or -1"),
    ],
)
def test_cluster_text_residuals_rejects_bad_cluster_ids(cluster_ids, message):
    with pytest.raises(ValueError, match=message):
        cluster_text_residuals(cluster_ids, np.ones((4, 2), dtype=np.float32))


def test_cluster_prefix_codes_first_layer_is_the_cluster_and_deeper_layers_separate_items():
    cluster_ids, _, text = _two_motivations_many_texts()
    cluster_ids[5] = -1
    codes, quantization = cluster_prefix_codes(cluster_ids, text, n_layers=3, n_codes=8, show_progress=False)
    assert codes.shape == (40, 3)
    np.testing.assert_array_equal(codes[cluster_ids >= 0, 0], cluster_ids[cluster_ids >= 0])
    np.testing.assert_array_equal(codes[5], [-1, -1, -1])
    present = codes[cluster_ids >= 0]
    assert len(np.unique(present[:, 1])) > 1 and len(np.unique(present[:, 2])) > 1
    # Two clusters alone would leave 37 of 39 items sharing an ID; the text layers split them.
    assert collision_rate(present) < collision_rate(present[:, :1])
    assert quantization.codebooks.shape == (3, 8, 8)
    assert list(quantization.quality["layer"]) == [0, 1, 2]
    assert quantization.quality["relative_reconstruction_error"].is_monotonic_decreasing
    assert quantization.quality.loc[0, "codes_used"] == 2


def test_cluster_prefix_codebooks_widen_to_more_clusters_than_codes():
    rng = np.random.default_rng(1)
    cluster_ids = np.arange(30) % 10
    codes, quantization = cluster_prefix_codes(
        cluster_ids, rng.standard_normal((30, 4)), n_layers=2, n_codes=4, show_progress=False
    )
    assert quantization.codebooks.shape == (2, 10, 4)
    assert codes[:, 1].max() < 4


def test_cluster_prefix_codes_reject_one_layer_and_no_clusters():
    text = np.ones((4, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="n_layers >= 2"):
        cluster_prefix_codes(np.zeros(4, dtype=int), text, n_layers=1, n_codes=2)
    with pytest.raises(ValueError, match="every item has cluster id -1"):
        cluster_prefix_codes(np.full(4, -1), text, n_layers=2, n_codes=2)


def test_code_usage_counts_codes_per_layer_and_prefix_collisions_without_padded_rows():
    codes = np.array([[0, 0], [0, 1], [1, 0], [1, 0], [-1, -1]])
    usage = code_usage(codes, n_codes=4)
    assert list(usage["codes_used"]) == [2, 2]
    np.testing.assert_allclose(usage["utilisation"], [0.5, 0.5])
    np.testing.assert_allclose(usage["prefix_collision_rate"], [0.5, 0.25])
    np.testing.assert_allclose(usage.loc[0, "perplexity"], 2.0)


def test_code_usage_rejects_an_empty_table_and_a_bad_codebook_size():
    with pytest.raises(ValueError, match="at least one layer"):
        code_usage(np.zeros((3, 0), dtype=int))
    with pytest.raises(ValueError, match="n_codes"):
        code_usage(np.zeros((3, 1), dtype=int), n_codes=0)
