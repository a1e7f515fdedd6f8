"""Motivation clusters: LSH buckets → cosine-threshold graph inside each bucket → connected components.

Motivations that say the same thing in different words should share one cluster. Comparing all pairs is
O(n²), so the embeddings are first hashed into buckets with random hyperplanes (sign of the projection, a fixed
seed); pairs are compared only inside a bucket, edges join pairs with ``cos > threshold`` and the connected
components of the union of edges are the clusters (``scipy.sparse.csgraph``).

One hash table with b planes separates two vectors at angle θ with probability 1 − (1 − θ/π)^b, so a single
table loses many near-duplicate pairs. Several independent tables are used and their edges united: a pair is
missed only when every table splits it, and a component survives as long as its members stay connected
through some path. The benchmark measures pairwise agreement with the exact all-pairs components.

Buckets larger than ``max_bucket_size`` are split further with extra hyperplanes (and, as a last resort when
the vectors are too alike for hyperplanes to separate, by position), so the in-bucket work stays bounded.
Within a bucket, similarities are computed in row blocks and only a spanning forest of each block's edges is
kept, so memory stays linear even when a bucket is one dense clique.
"""

from __future__ import annotations

import logging
import math
from typing import TypedDict, Unpack

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)


class LSHOptions(TypedDict, total=False):
    """Settings of :func:`lsh_components` that callers pass through (its defaults apply to any left out)."""

    threshold: float
    n_tables: int
    n_planes: int | None
    target_bucket_size: int
    max_bucket_size: int
    seed: int


def auto_n_planes(n_vectors: int, target_bucket_size: int) -> int:
    """Hyperplanes per table so that buckets hold about ``target_bucket_size`` vectors (0 = one bucket)."""
    if n_vectors <= target_bucket_size:
        return 0
    return int(math.ceil(math.log2(n_vectors / target_bucket_size)))


def lsh_bucket_keys(embeddings: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """Integer bucket key per row: the sign bits of the projections on ``planes`` (shape (b, d), b ≤ 62)."""
    if planes.shape[0] == 0:
        return np.zeros(len(embeddings), dtype=np.int64)
    bits = (embeddings @ planes.T) > 0
    weights = np.left_shift(np.int64(1), np.arange(planes.shape[0], dtype=np.int64))
    return bits.astype(np.int64) @ weights


def _forest_edges(labels: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining every node to the first node of its component (a spanning forest of the components)."""
    _, first = np.unique(labels, return_index=True)
    roots = first[np.searchsorted(np.unique(labels), labels)]
    keep = roots != np.arange(len(labels))
    return nodes[keep], nodes[roots[keep]]


def threshold_graph_forest(
    embeddings: np.ndarray, members: np.ndarray, threshold: float, block_size: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """Spanning-forest edges (global row ids) of the ``cos > threshold`` graph among ``members``."""
    size = len(members)
    if size < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    vectors = embeddings[members]
    src_parts: list[np.ndarray] = []
    dst_parts: list[np.ndarray] = []
    labels = np.arange(size)
    for start in range(0, size, block_size):
        stop = min(start + block_size, size)
        sims = vectors[start:stop] @ vectors[start:].T
        rows, cols = np.nonzero(sims > threshold)
        cols = cols + start
        upper = cols > rows + start
        rows, cols = rows[upper] + start, cols[upper]
        if len(rows) == 0:
            continue
        # Merge this block's edges with the forest found so far; keep only a forest again.
        forest_src, forest_dst = _forest_edges(labels, np.arange(size))
        graph = coo_matrix(
            (
                np.ones(len(rows) + len(forest_src), dtype=np.int8),
                (np.concatenate([rows, forest_src]), np.concatenate([cols, forest_dst])),
            ),
            shape=(size, size),
        )
        _, labels = connected_components(graph, directed=False)
    src, dst = _forest_edges(labels, np.arange(size))
    src_parts.append(members[src])
    dst_parts.append(members[dst])
    return np.concatenate(src_parts), np.concatenate(dst_parts)


def _split_oversized(
    embeddings: np.ndarray,
    members: np.ndarray,
    max_bucket_size: int,
    rng: np.random.Generator,
    depth: int = 0,
) -> list[np.ndarray]:
    """Split a bucket with fresh hyperplanes until every part holds at most ``max_bucket_size`` rows."""
    if len(members) <= max_bucket_size:
        return [members]
    if depth >= 8:
        # Vectors too alike for hyperplanes to separate: cut by position (edges across cuts are lost).
        return [members[i : i + max_bucket_size] for i in range(0, len(members), max_bucket_size)]
    n_planes = max(1, auto_n_planes(len(members), max_bucket_size))
    planes = rng.standard_normal((n_planes, embeddings.shape[1])).astype(np.float32)
    keys = lsh_bucket_keys(embeddings[members], planes)
    order = np.argsort(keys, kind="stable")
    _, starts = np.unique(keys[order], return_index=True)
    parts = np.split(members[order], starts[1:])
    if len(parts) == 1:
        return _split_oversized(embeddings, members, max_bucket_size, rng, depth + 1)
    return [
        piece
        for part in parts
        for piece in _split_oversized(embeddings, part, max_bucket_size, rng, depth + 1)
    ]


def lsh_components(
    embeddings: np.ndarray,
    threshold: float = 0.8,
    n_tables: int = 8,
    n_planes: int | None = None,
    target_bucket_size: int = 2000,
    max_bucket_size: int = 25_000,
    seed: int = 42,
    block_size: int = 2048,
    show_progress: bool = True,
) -> np.ndarray:
    """Connected components of the ``cos > threshold`` graph restricted to pairs sharing an LSH bucket.

    Args:
        embeddings: (n, d) L2-normalised float32 rows.
        threshold: cosine threshold τ of an edge (strictly greater).
        n_tables: independent hash tables whose edges are united.
        n_planes: hyperplanes per table; ``None`` picks enough for buckets of about ``target_bucket_size``
            (0 planes = one bucket = the exact graph, used automatically for small inputs).
        max_bucket_size: buckets above this size are split further.
        seed: seed of the hyperplanes.

    Returns:
        Component label per row (int64, 0..n_components-1, numbered by first appearance).
    """
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array, got shape {embeddings.shape}")
    n, dim = embeddings.shape
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if n_tables < 1:
        raise ValueError(f"n_tables must be >= 1, got {n_tables}")
    planes_per_table = auto_n_planes(n, target_bucket_size) if n_planes is None else int(n_planes)
    if not 0 <= planes_per_table <= 62:
        raise ValueError(f"n_planes must be in [0, 62], got {planes_per_table}")
    tables = n_tables if planes_per_table > 0 else 1  # with one bucket every table is the same exact graph
    rng = np.random.default_rng(seed)
    src_parts, dst_parts = [], []
    for _ in tqdm(range(tables), desc="LSH tables", disable=not show_progress or tables == 1):
        planes = rng.standard_normal((planes_per_table, dim)).astype(np.float32)
        keys = lsh_bucket_keys(embeddings, planes)
        order = np.argsort(keys, kind="stable")
        _, starts = np.unique(keys[order], return_index=True)
        for bucket in np.split(order, starts[1:]):
            for part in _split_oversized(embeddings, bucket, max_bucket_size, rng):
                src, dst = threshold_graph_forest(embeddings, part, threshold, block_size)
                src_parts.append(src)
                dst_parts.append(dst)
    src = np.concatenate(src_parts) if src_parts else np.empty(0, np.int64)
    dst = np.concatenate(dst_parts) if dst_parts else np.empty(0, np.int64)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return relabel_by_first_appearance(labels)


def exact_components(embeddings: np.ndarray, threshold: float = 0.8, block_size: int = 2048) -> np.ndarray:
    """Reference: components of the full all-pairs ``cos > threshold`` graph (O(n²) time, blocked memory)."""
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    n = len(embeddings)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    src, dst = threshold_graph_forest(embeddings, np.arange(n), threshold, block_size)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return relabel_by_first_appearance(labels)


def relabel_by_first_appearance(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0, 1, … in the order they first appear (deterministic ids)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse]


def pick_representatives(embeddings: np.ndarray, labels: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Boolean mask of one representative per cluster: the member closest to the normalised centroid.

    Ties (cosine equal to 6 decimals) go to the higher support, then to the lower row.
    """
    n = len(labels)
    if n == 0:
        return np.zeros(0, dtype=bool)
    n_clusters = int(labels.max()) + 1
    centroids = np.zeros((n_clusters, embeddings.shape[1]), dtype=np.float64)
    np.add.at(centroids, labels, embeddings.astype(np.float64))
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    centroids = centroids / np.where(norms > 0, norms, 1.0)
    closeness = np.round((embeddings.astype(np.float64) * centroids[labels]).sum(axis=1), 6)
    order = np.lexsort((np.arange(n), -np.asarray(support, dtype=np.float64), -closeness, labels))
    first_of_cluster = np.r_[True, labels[order][1:] != labels[order][:-1]]
    mask = np.zeros(n, dtype=bool)
    mask[order[first_of_cluster]] = True
    return mask


def cluster_motivation_table(
    motivations: pd.DataFrame, embeddings: np.ndarray, **lsh_options: Unpack[LSHOptions]
) -> pd.DataFrame:
    """``motivation_clusters``: motivation, cluster_id, is_representative, support (rows as ``motivations``).

    The clusters are :func:`lsh_components` with ``lsh_options``. Cluster ids are ordered by decreasing
    cluster support (ties by first row), so cluster 0 is the most common motivation theme.
    """
    if len(motivations) != len(embeddings):
        raise ValueError(f"{len(motivations)} motivations but {len(embeddings)} embedding rows")
    labels = lsh_components(embeddings, **lsh_options)
    support = motivations["support"].to_numpy(dtype=np.float64)
    if len(labels):
        cluster_support = np.bincount(labels, weights=support)
        rank = np.empty(len(cluster_support), dtype=np.int64)
        rank[np.lexsort((np.arange(len(cluster_support)), -cluster_support))] = np.arange(
            len(cluster_support)
        )
        labels = rank[labels]
    return pd.DataFrame(
        {
            "motivation": motivations["motivation"].to_numpy(),
            "cluster_id": labels.astype(np.int64),
            "is_representative": pick_representatives(embeddings, labels, support),
            "support": motivations["support"].to_numpy(dtype=np.int64),
        }
    )
