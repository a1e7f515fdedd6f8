"""ID inputs whose first layers separate motivations and whose deeper layers separate items.

With the motivation input alone every item carries its cluster representative's vector, so the items take as
many distinct vectors as there are clusters (~32): layer 1 reconstructs them exactly, the deeper layers have
nothing left to split and most items share their full ID. Two inputs add the item text below the motivation:

* :func:`weighted_concatenation` — ``[√w · m̂, √(1−w) · t̂]`` of the L2-normalised motivation and text vectors
  (unit norm; ``w`` is the motivation's share of every squared distance), fed to residual k-means as usual;
* :func:`cluster_prefix_codes` — code 0 is the item's motivation cluster; codes 1 … L−1 are residual k-means
  of the item text after subtracting its cluster's mean text. One codebook per layer is shared by all
  clusters (not one per cluster), so a deeper code means the same direction away from any cluster's centre.

:func:`code_usage` measures a code table per layer (distinct codes, perplexity, prefix collisions).
Rows that are all NaN (vectors) or cluster id −1 mean "no input" (padding), as in the residual k-means input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from momorec.clustering.residual_kmeans import (
    ResidualQuantization,
    code_perplexity,
    collision_rate,
    fit_residual_kmeans,
)

PADDING = -1


def _as_matrix(vectors: np.ndarray, name: str) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (items × dimensions), got shape {matrix.shape}")
    return matrix


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; zero rows stay zero and NaN rows stay NaN."""
    matrix = _as_matrix(vectors, "vectors")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # NaN > 0 is False, so NaN rows divide by 1 and stay NaN; zero rows stay zero.
    return matrix / np.where(norms > 0, norms, np.float32(1.0))


def weighted_concatenation(
    motivation_vectors: np.ndarray, text_vectors: np.ndarray, motivation_weight: float
) -> np.ndarray:
    """``[√w · m̂, √(1−w) · t̂]`` per item: unit rows in which the motivation carries a share ``w`` of distances.

    A NaN row in either input (an item without that input) gives a NaN row (padding).
    """
    motivation = _as_matrix(motivation_vectors, "motivation_vectors")
    text = _as_matrix(text_vectors, "text_vectors")
    if len(motivation) != len(text):
        raise ValueError(
            f"{len(motivation)} motivation vectors but {len(text)} text vectors; need one per item"
        )
    weight = float(motivation_weight)
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"motivation_weight must lie in [0, 1], got {motivation_weight!r}")
    combined = np.hstack(
        [np.sqrt(weight) * l2_normalise(motivation), np.sqrt(1.0 - weight) * l2_normalise(text)]
    )
    padded = np.isnan(motivation).any(axis=1) | np.isnan(text).any(axis=1)
    combined[padded] = np.nan
    return np.ascontiguousarray(combined, dtype=np.float32)


def _cluster_ids(cluster_ids: np.ndarray, n_items: int) -> np.ndarray:
    ids = np.asarray(cluster_ids)
    if ids.ndim != 1 or len(ids) != n_items:
        raise ValueError(f"cluster_ids must be 1-D with one id per item ({n_items}), got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"cluster_ids must be integers (-1 = no cluster), got dtype {ids.dtype}")
    if (ids < PADDING).any():
        raise ValueError("cluster_ids must be >= 0, or -1 for an item without a cluster")
    return ids.astype(np.int64)


def cluster_text_residuals(
    cluster_ids: np.ndarray, text_vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(text minus its cluster's mean text per item, the (n_clusters, d) mean texts); NaN rows for id −1.

    Clusters are numbered 0 … max id; a number no item carries gets a zero mean.
    """
    text = _as_matrix(text_vectors, "text_vectors")
    ids = _cluster_ids(cluster_ids, len(text))
    present = ids >= 0
    if np.isnan(text[present]).any():
        raise ValueError("text_vectors has NaN rows for items with a cluster")
    n_clusters = int(ids.max()) + 1 if present.any() else 0
    sums = np.zeros((n_clusters, text.shape[1]), dtype=np.float64)
    np.add.at(sums, ids[present], text[present])
    counts = np.bincount(ids[present], minlength=n_clusters)
    means = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
    residuals = np.full_like(text, np.nan)
    residuals[present] = text[present] - means[ids[present]]
    return residuals, means


def _energy(vectors: np.ndarray) -> float:
    return float(np.einsum("ij,ij->", vectors, vectors, dtype=np.float64))


def cluster_prefix_codes(
    cluster_ids: np.ndarray,
    text_vectors: np.ndarray,
    n_layers: int,
    n_codes: int,
    **fit_options: object,
) -> tuple[np.ndarray, ResidualQuantization]:
    """Codes (n_items, L): code 0 = motivation cluster, codes 1 … L−1 = residual k-means of the centred text.

    ``fit_options`` go to :func:`fit_residual_kmeans` (niter, seed, max_points_per_centroid, show_progress,
    n_threads). Items with cluster id −1 get −1 in every layer. The returned quantization covers the present
    items only: its codebooks are (L, max(K, n_clusters), d) with layer 0 = the clusters' mean texts, and its
    quality has one row per layer, the reconstruction error relative to the text (not the centred text).
    """
    if n_layers < 2:
        raise ValueError(f"a cluster prefix with text codes needs n_layers >= 2, got {n_layers}")
    text = l2_normalise(_as_matrix(text_vectors, "text_vectors"))
    ids = _cluster_ids(cluster_ids, len(text))
    present = ids >= 0
    if not present.any():
        raise ValueError("every item has cluster id -1: no cluster prefix to build codes under")
    residuals, means = cluster_text_residuals(ids, text)
    text_codes = fit_residual_kmeans(
        residuals[present], n_layers=n_layers - 1, n_codes=n_codes, **fit_options
    )

    total_energy = _energy(text[present])
    centred_share = _energy(residuals[present]) / total_energy if total_energy > 0 else 0.0
    prefix = ids[present]
    prefix_quality = pd.DataFrame(
        {
            "layer": [0],
            "relative_reconstruction_error": [centred_share],
            "codes_used_fraction": [len(np.unique(prefix)) / len(means)],
            "perplexity": [code_perplexity(prefix)],
            "k_effective": [len(means)],
            "codes_used": [len(np.unique(prefix))],
        }
    )
    deeper = text_codes.quality.assign(
        layer=text_codes.quality["layer"] + 1,
        relative_reconstruction_error=text_codes.quality["relative_reconstruction_error"] * centred_share,
    )
    width = max(n_codes, len(means))
    codebooks = np.zeros((n_layers, width, text.shape[1]), dtype=np.float32)
    codebooks[0, : len(means)] = means
    codebooks[1:, :n_codes] = text_codes.codebooks

    codes = np.full((len(text), n_layers), PADDING, dtype=np.int64)
    codes[present, 0] = prefix
    codes[present, 1:] = text_codes.codes
    quantization = ResidualQuantization(
        codebooks=codebooks,
        codes=codes[present],
        k_effective=[len(means), *text_codes.k_effective],
        quality=pd.concat([prefix_quality, deeper], ignore_index=True),
    )
    return codes, quantization


def code_usage(codes: np.ndarray, n_codes: int | None = None) -> pd.DataFrame:
    """Per layer of a code table (rows with a −1 anywhere are left out): how many codes it uses, and how well.

    Columns: layer, codes_used, utilisation (codes_used / ``n_codes``; NaN when not given), perplexity,
    prefix_collision_rate (share of items not owning their codes 0 … layer; the last row is the full ID's).
    """
    table = np.asarray(codes)
    if table.ndim != 2 or table.shape[1] == 0:
        raise ValueError(f"codes must be a 2-D array with at least one layer, got shape {table.shape}")
    if n_codes is not None and n_codes < 1:
        raise ValueError(f"n_codes must be >= 1, got {n_codes}")
    present = table[(table >= 0).all(axis=1)]
    rows = []
    for layer in range(table.shape[1]):
        used = len(np.unique(present[:, layer]))
        rows.append(
            {
                "layer": layer,
                "codes_used": used,
                "utilisation": used / n_codes if n_codes else float("nan"),
                "perplexity": code_perplexity(present[:, layer]),
                "prefix_collision_rate": collision_rate(present[:, : layer + 1]),
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "cluster_prefix_codes",
    "cluster_text_residuals",
    "code_usage",
    "l2_normalise",
    "weighted_concatenation",
]
