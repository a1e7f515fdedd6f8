"""Residual k-means: L layers of K-code codebooks turning one embedding per item into L discrete codes.

Layer 1 clusters the input vectors with faiss k-means; every vector takes the code of its nearest centroid and
keeps the difference (the residual). Layer l clusters the residuals of layer l-1, and so on, so each layer
refines what the previous ones could not express. Seeds are fixed, so the same input gives the same codes.

When a layer's residuals hold fewer distinct rows than K (few motivation clusters, identical items), k-means
cannot place K centroids; the layer then uses one centroid per distinct row (K clamped, recorded in
``k_effective``; codebook rows beyond it are zero and never used).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)


@dataclass
class ResidualQuantization:
    """Result of :func:`fit_residual_kmeans` on n vectors of dimension d."""

    codebooks: np.ndarray  # (L, K, d) float32; rows >= k_effective[l] are zero
    codes: np.ndarray  # (n, L) int64
    k_effective: list[int]
    quality: pd.DataFrame  # one row per layer


def _row_hashes(rows: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Two 64-bit hashes per row from its exact bit patterns (wrapping integer arithmetic: order-independent)."""
    rng = np.random.default_rng(12345)
    words = rows.view(np.uint32).reshape(len(rows), -1)
    multipliers = rng.integers(1, 2**32 - 1, size=(2, words.shape[1]), dtype=np.uint64).astype(np.uint32) | 1
    hashes = np.empty((len(rows), 2), dtype=np.uint64)
    for start in range(0, len(rows), chunk):
        block = words[start : start + chunk]
        for column in range(2):
            # uint32 products wrap; summing them in uint64 gives one 64-bit hash per row.
            hashes[start : start + chunk, column] = (block * multipliers[column]).sum(axis=1, dtype=np.uint64)
    return hashes


def _distinct_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows in first-appearance order, their counts).

    Rows are grouped by two 64-bit hashes of their bits (sorting 100k × 384 rows bytewise takes seconds per
    layer); identical rows always share hashes, and distinct rows collide with probability about 2^-128.
    """
    rows = np.ascontiguousarray(vectors)
    keys = _row_hashes(rows)
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    sorted_keys = keys[order]
    new_group = np.r_[True, (sorted_keys[1:] != sorted_keys[:-1]).any(axis=1)]
    group_of_sorted = np.cumsum(new_group) - 1
    counts = np.bincount(group_of_sorted)
    first = np.full(len(counts), len(rows), dtype=np.int64)
    np.minimum.at(first, group_of_sorted, order)
    if len(counts) == len(rows):
        return rows, counts  # all distinct: no copy
    appearance = np.argsort(first, kind="stable")
    return rows[first[appearance]], counts[appearance]


def _energy(vectors: np.ndarray) -> float:
    """Sum of squares: per-row float32 dot products, summed in float64 (no full float64 copy)."""
    return float(np.einsum("ij,ij->i", vectors, vectors).sum(dtype=np.float64))


def nearest_codes(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid (L2) for each row (exact faiss search)."""
    import faiss

    index = faiss.IndexFlatL2(centroids.shape[1])
    index.add(np.ascontiguousarray(centroids, dtype=np.float32))
    _, nearest = index.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
    return nearest[:, 0].astype(np.int64)


def code_perplexity(codes: np.ndarray) -> float:
    """exp(entropy) of the code distribution: the number of equally used codes it is worth."""
    if len(codes) == 0:
        return float("nan")
    counts = np.bincount(codes - codes.min())
    probs = counts[counts > 0] / len(codes)
    return float(np.exp(-(probs * np.log(probs)).sum()))


def fit_residual_kmeans(
    vectors: np.ndarray,
    n_layers: int = 6,
    n_codes: int = 64,
    niter: int = 20,
    seed: int = 42,
    max_points_per_centroid: int = 256,
    show_progress: bool = True,
    n_threads: int | None = None,
) -> ResidualQuantization:
    """Fit L residual codebooks on ``vectors`` (n, d) and encode every row.

    Args:
        vectors: float32 input, one row per item.
        n_layers: L.
        n_codes: K, codes per layer (clamped per layer to the number of distinct residual rows).
        niter: k-means iterations per layer.
        seed: k-means seed (layer l uses ``seed + l``).
        max_points_per_centroid: faiss subsamples at most K × this many training rows per layer.
        n_threads: faiss (OpenMP) threads; ``None`` keeps faiss's default (all cores). On a machine shared by
            busy processes, 1 thread can be several times faster than spinning OpenMP threads.
    """
    import faiss

    data = np.ascontiguousarray(vectors, dtype=np.float32)
    if data.ndim != 2 or len(data) == 0:
        raise ValueError(f"residual k-means needs a non-empty 2-D array, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError("residual k-means input contains NaN or inf rows")
    if n_layers < 1 or n_codes < 1:
        raise ValueError(f"n_layers and n_codes must be >= 1, got {n_layers} and {n_codes}")
    previous_threads = faiss.omp_get_max_threads()
    if n_threads is not None:
        faiss.omp_set_num_threads(int(n_threads))
    try:
        return _fit(data, n_layers, n_codes, niter, seed, max_points_per_centroid, show_progress)
    finally:
        faiss.omp_set_num_threads(previous_threads)


def _fit(
    data: np.ndarray,
    n_layers: int,
    n_codes: int,
    niter: int,
    seed: int,
    max_points_per_centroid: int,
    show_progress: bool,
) -> ResidualQuantization:
    import faiss

    n, dim = data.shape
    total_energy = _energy(data)
    residual = data.copy()
    codebooks = np.zeros((n_layers, n_codes, dim), dtype=np.float32)
    codes = np.zeros((n, n_layers), dtype=np.int64)
    k_effective: list[int] = []
    rows = []
    for layer in tqdm(range(n_layers), desc="residual k-means layers", disable=not show_progress):
        distinct, counts = _distinct_rows(residual)
        k = min(n_codes, len(distinct))
        if k == len(distinct):
            # As many codes as distinct rows: each distinct row is its own centroid (k-means would be exact).
            # A copy: when every row is distinct, `distinct` is `residual` itself, which is updated below.
            centroids = distinct.copy()
        else:
            kmeans = faiss.Kmeans(
                dim,
                k,
                niter=niter,
                seed=seed + layer,
                max_points_per_centroid=max_points_per_centroid,
                verbose=False,
            )
            # Duplicate rows train once with their multiplicity as weight: same objective, less work.
            kmeans.train(distinct, weights=counts.astype(np.float32))
            centroids = kmeans.centroids
        layer_codes = nearest_codes(residual, centroids)
        residual -= centroids[layer_codes]
        codebooks[layer, :k] = centroids
        codes[:, layer] = layer_codes
        k_effective.append(int(k))
        if k < n_codes:
            logger.info("residual k-means layer %d: K clamped from %d to %d distinct rows", layer, n_codes, k)
        error = _energy(residual)
        rows.append(
            {
                "layer": layer,
                "relative_reconstruction_error": error / total_energy if total_energy > 0 else 0.0,
                "codes_used_fraction": len(np.unique(layer_codes)) / n_codes,
                "perplexity": code_perplexity(layer_codes),
                "k_effective": int(k),
                "codes_used": int(len(np.unique(layer_codes))),
            }
        )
    return ResidualQuantization(codebooks, codes, k_effective, pd.DataFrame(rows))


def dedup_digits(codes: np.ndarray) -> np.ndarray:
    """Extra digit making each code tuple unique: 0, 1, 2, … among rows sharing a tuple, in row order."""
    codes = np.asarray(codes)
    if len(codes) == 0:
        return np.empty(0, dtype=np.int64)
    _, group = np.unique(codes, axis=0, return_inverse=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")
    sorted_groups = group[order]
    starts = np.r_[0, np.flatnonzero(sorted_groups[1:] != sorted_groups[:-1]) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    digits = np.empty(len(codes), dtype=np.int64)
    digits[order] = np.arange(len(order)) - run_start
    return digits


def collision_rate(codes: np.ndarray) -> float:
    """Share of rows that do not own their code tuple: 1 − distinct tuples / rows (0 for no rows)."""
    codes = np.asarray(codes)
    if len(codes) == 0:
        return 0.0
    return 1.0 - len(np.unique(codes, axis=0)) / len(codes)
