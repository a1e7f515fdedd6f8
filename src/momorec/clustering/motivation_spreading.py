"""Motivation spreading: items without a generated motivation take the majority cluster of their neighbours.

For every target item, the ``k`` most similar *motivated* items are found by exact inner-product search (faiss
``IndexFlatIP`` on L2-normalised item text embeddings, i.e. cosine). Each neighbour votes for the cluster of its
generated motivation; the cluster with the most votes wins, ties go to the larger summed similarity of its
voters and then to the lower cluster id. Confidence is the share of the ``k`` votes the winner received.
"""

from __future__ import annotations

import numpy as np


def top_k_neighbours(
    query_embeddings: np.ndarray, base_embeddings: np.ndarray, k: int, batch_size: int = 65_536
) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, positions in ``base_embeddings``) of the ``k`` nearest rows by inner product.

    Rows beyond the size of the base are padded with position -1 and similarity -inf.
    """
    import faiss

    if k < 1:
        raise ValueError(f"top_k must be >= 1, got {k}")
    queries = np.ascontiguousarray(query_embeddings, dtype=np.float32)
    base = np.ascontiguousarray(base_embeddings, dtype=np.float32)
    n_queries = len(queries)
    if n_queries == 0 or len(base) == 0:
        return np.full((n_queries, k), -np.inf, np.float32), np.full((n_queries, k), -1, np.int64)
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    sims = np.empty((n_queries, k), dtype=np.float32)
    positions = np.empty((n_queries, k), dtype=np.int64)
    for start in range(0, n_queries, batch_size):
        block_sims, block_positions = index.search(queries[start : start + batch_size], k)
        sims[start : start + batch_size] = block_sims
        positions[start : start + batch_size] = block_positions
    sims[positions < 0] = -np.inf
    return sims, positions


def majority_vote(
    neighbour_clusters: np.ndarray, neighbour_sims: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Winning cluster per row of an (n, k) vote table; entries with cluster < 0 do not vote.

    Returns:
        (cluster id or -1 when no valid vote, vote share in [0, 1] of the k slots, summed similarity of
        the winner's voters).
    """
    clusters = np.asarray(neighbour_clusters, dtype=np.int64)
    sims = np.where(clusters >= 0, np.asarray(neighbour_sims, dtype=np.float64), 0.0)
    n, k = clusters.shape
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.float64)
    valid = clusters >= 0
    # For each slot: how many slots of the same row vote for the same cluster, and their summed similarity.
    same = (clusters[:, :, None] == clusters[:, None, :]) & valid[:, :, None] & valid[:, None, :]
    votes = same.sum(axis=2)
    summed = (same * sims[:, None, :]).sum(axis=2)
    rows = np.repeat(np.arange(n), k)
    # Order slots within each row: most votes, then largest summed similarity, then lowest cluster id.
    order = np.lexsort((clusters.ravel(), -summed.ravel(), -votes.ravel(), rows))
    best = order.reshape(n, k)[:, 0]
    best_cluster = clusters.ravel()[best]
    best_votes = votes.ravel()[best]
    best_sum = summed.ravel()[best]
    has_vote = best_votes > 0
    return (
        np.where(has_vote, best_cluster, -1),
        np.where(has_vote, best_votes / k, 0.0),
        np.where(has_vote, best_sum, 0.0),
    )


def spread_clusters(
    target_embeddings: np.ndarray,
    source_embeddings: np.ndarray,
    source_clusters: np.ndarray,
    k: int = 3,
    min_similarity: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster and confidence for each target row, voted by its ``k`` nearest source rows.

    Neighbours with similarity ≤ ``min_similarity`` do not vote (zero text embeddings thus never receive a
    motivation); a target with no voter gets cluster -1 and confidence 0.
    """
    if len(source_embeddings) != len(source_clusters):
        raise ValueError(f"{len(source_embeddings)} source embeddings but {len(source_clusters)} clusters")
    k_eff = min(k, len(source_embeddings))
    if len(target_embeddings) == 0 or k_eff == 0:
        n = len(target_embeddings)
        return np.full(n, -1, np.int64), np.zeros(n, np.float64)
    sims, positions = top_k_neighbours(target_embeddings, source_embeddings, k_eff)
    clusters = np.where(positions >= 0, np.asarray(source_clusters, np.int64)[np.maximum(positions, 0)], -1)
    clusters = np.where(sims > min_similarity, clusters, -1)
    winner, share, _ = majority_vote(clusters, sims)
    # The share is over the k requested votes, so fewer available neighbours mean lower confidence.
    return winner, share * k_eff / k
