import numpy as np
import pytest

from momorec.clustering.residual_kmeans import (
    code_perplexity,
    collision_rate,
    dedup_digits,
    fit_residual_kmeans,
)


@pytest.fixture
def vectors() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.standard_normal((600, 16)).astype(np.float32)


def test_same_seed_same_codes_and_codebooks(vectors):
    first = fit_residual_kmeans(vectors, n_layers=3, n_codes=8, niter=10, seed=5, show_progress=False)
    again = fit_residual_kmeans(vectors, n_layers=3, n_codes=8, niter=10, seed=5, show_progress=False)
    np.testing.assert_array_equal(first.codes, again.codes)
    np.testing.assert_array_equal(first.codebooks, again.codebooks)
    assert first.codes.shape == (600, 3) and first.codebooks.shape == (3, 8, 16)


def test_reconstruction_error_falls_layer_by_layer(vectors):
    quality = fit_residual_kmeans(vectors, n_layers=4, n_codes=8, niter=10, show_progress=False).quality
    errors = quality["relative_reconstruction_error"].to_numpy()
    assert (np.diff(errors) < 0).all() and errors[0] < 1.0
    assert (quality["codes_used_fraction"] <= 1.0).all()
    assert (quality["perplexity"] <= 8 + 1e-9).all()


def test_codes_reconstruct_the_input(vectors):
    result = fit_residual_kmeans(vectors, n_layers=2, n_codes=8, niter=10, show_progress=False)
    rebuilt = sum(result.codebooks[layer][result.codes[:, layer]] for layer in range(2))
    error = ((vectors - rebuilt) ** 2).sum() / (vectors**2).sum()
    assert error == pytest.approx(result.quality["relative_reconstruction_error"].iloc[-1], rel=1e-4)


def test_k_is_clamped_to_distinct_rows():
    base = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    vectors = np.repeat(base, 10, axis=0)
    result = fit_residual_kmeans(vectors, n_layers=2, n_codes=64, show_progress=False)
    assert result.k_effective == [3, 1]
    assert len(np.unique(result.codes[:, 0])) == 3
    assert result.quality["relative_reconstruction_error"].iloc[0] == pytest.approx(0.0)
    assert not result.codebooks[0, 3:].any()


def test_single_item_and_all_identical_inputs():
    single = fit_residual_kmeans(np.ones((1, 4), np.float32), n_layers=3, n_codes=8, show_progress=False)
    assert single.codes.tolist() == [[0, 0, 0]] and single.k_effective == [1, 1, 1]
    same = fit_residual_kmeans(np.ones((5, 4), np.float32), n_layers=2, n_codes=8, show_progress=False)
    assert (same.codes == 0).all()
    assert dedup_digits(same.codes).tolist() == [0, 1, 2, 3, 4]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="non-empty"):
        fit_residual_kmeans(np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        fit_residual_kmeans(np.array([[np.nan, 1.0]], np.float32))


def test_dedup_makes_every_tuple_unique_in_row_order():
    codes = np.array([[1, 2], [0, 0], [1, 2], [1, 2], [0, 1]])
    digits = dedup_digits(codes)
    assert digits.tolist() == [0, 0, 1, 2, 0]
    assert collision_rate(codes) == pytest.approx(1 - 3 / 5)
    assert collision_rate(np.column_stack([codes, digits])) == 0.0


def test_perplexity_counts_equally_used_codes():
    assert code_perplexity(np.array([0, 1, 2, 3])) == pytest.approx(4.0)
    assert code_perplexity(np.array([5, 5, 5])) == pytest.approx(1.0)


def test_codebooks_reconstruct_when_every_row_is_its_own_centroid():
    # Fewer distinct rows than K: the layer is exact and its codebook must hold those rows (a regression:
    # the codebook once aliased the residual and was zeroed by the residual update).
    vectors = np.random.default_rng(3).normal(size=(5, 6)).astype(np.float32)
    result = fit_residual_kmeans(vectors, n_layers=2, n_codes=8, show_progress=False)
    rebuilt = sum(result.codebooks[layer][result.codes[:, layer]] for layer in range(2))
    np.testing.assert_allclose(rebuilt, vectors, atol=1e-6)
    assert result.codebooks[0, :5].any()
