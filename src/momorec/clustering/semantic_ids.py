"""Semantic IDs of items: the input vector per item, residual k-means codes with a dedup digit, cluster codes.

Item vectors whose row is all NaN mean "no input for this item" (no motivation, or not a generated one in the
no-spreading ablation); such items get code -1 (padding) in every layer and dedup -1. The oracle IDs
(:func:`oracle_semantic_ids`, evaluation only) are the same codes over the items' ground-truth motivations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from momorec.clustering.assignment import true_motivation_labels
from momorec.clustering.id_inputs import cluster_prefix_codes, weighted_concatenation
from momorec.clustering.residual_kmeans import collision_rate, dedup_digits, fit_residual_kmeans
from momorec.data.problems import require_columns

logger = logging.getLogger(__name__)

INPUT_KINDS = ("motivation", "text", "concat", "motivation_text", "cluster_prefix_text")
PADDING = -1

TextEncoder = Callable[[Sequence[str]], np.ndarray]
"""``texts -> (len(texts), d)`` float32 embeddings (the run's sentence encoder)."""


def cluster_representative_embeddings(
    motivation_clusters: pd.DataFrame, motivation_embeddings: np.ndarray
) -> np.ndarray:
    """(n_clusters, d): the embedding of each cluster's representative motivation, row = cluster_id."""
    require_columns(
        motivation_clusters, ["motivation", "cluster_id", "is_representative"], "motivation_clusters"
    )
    if len(motivation_clusters) != len(motivation_embeddings):
        raise ValueError(
            f"motivation_clusters has {len(motivation_clusters)} rows but motivation_embeddings "
            f"{len(motivation_embeddings)}; they must be in the same order"
        )
    dim = motivation_embeddings.shape[1] if motivation_embeddings.ndim == 2 else 0
    if len(motivation_clusters) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    reps = motivation_clusters.index[motivation_clusters["is_representative"].to_numpy(dtype=bool)]
    rep_clusters = motivation_clusters.loc[reps, "cluster_id"].to_numpy(dtype=np.int64)
    n_clusters = int(motivation_clusters["cluster_id"].max()) + 1
    if len(np.unique(rep_clusters)) != n_clusters or len(rep_clusters) != n_clusters:
        raise ValueError("motivation_clusters must mark exactly one representative per cluster_id 0..n-1")
    table = np.zeros((n_clusters, dim), dtype=np.float32)
    table[rep_clusters] = motivation_embeddings[motivation_clusters.index.get_indexer(reps)]
    return table


def assemble_item_vectors(
    item_motivation_assignment: pd.DataFrame,
    motivation_clusters: pd.DataFrame,
    motivation_embeddings: np.ndarray,
    item_text_embeddings: np.ndarray,
    input_kind: str,
    only_generated: bool,
    motivation_weight: float = 0.5,
) -> np.ndarray:
    """One input vector per item_idx for residual k-means (NaN row = padding).

    ``input_kind``: ``motivation`` = the embedding of the item's cluster representative; ``text`` = the item's
    text embedding; ``concat`` = both side by side, scaled by 1/√2 so unit inputs stay unit;
    ``motivation_text`` = both L2-normalised, weighted so the motivation carries ``motivation_weight`` of
    every squared distance (``momorec.clustering.id_inputs.weighted_concatenation``); ``cluster_prefix_text``
    = the text embedding, to be coded under the item's cluster (``residual_codes(prefix_codes=...)``).
    Items without a cluster (source ``none``) are padded for every kind but ``text``; with ``only_generated``
    every item whose motivation was not generated is padded (the no-spreading ablation).
    """
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"semantic_id input must be one of {INPUT_KINDS}, got {input_kind!r}")
    require_columns(
        item_motivation_assignment, ["item_idx", "cluster_id", "source"], "item_motivation_assignment"
    )
    assignment = item_motivation_assignment.sort_values("item_idx")
    n_items = len(assignment)
    if not np.array_equal(assignment["item_idx"].to_numpy(), np.arange(n_items)):
        raise ValueError("item_motivation_assignment.item_idx must be the contiguous ids 0..n_items-1")
    if len(item_text_embeddings) != n_items:
        raise ValueError(f"item_text_embeddings has {len(item_text_embeddings)} rows for {n_items} items")
    cluster_id = assignment["cluster_id"].to_numpy(dtype=np.int64)
    text = np.asarray(item_text_embeddings, dtype=np.float32)
    if input_kind in ("text", "cluster_prefix_text"):
        vectors = text.copy()
        padded = cluster_id < 0 if input_kind == "cluster_prefix_text" else np.zeros(n_items, dtype=bool)
    else:
        representatives = cluster_representative_embeddings(motivation_clusters, motivation_embeddings)
        if (cluster_id >= len(representatives)).any():
            raise ValueError(
                "item_motivation_assignment refers to cluster ids absent from motivation_clusters"
            )
        padded = cluster_id < 0
        dim = representatives.shape[1] if len(representatives) else text.shape[1]
        motivation = np.zeros((n_items, dim), dtype=np.float32)
        motivation[~padded] = representatives[cluster_id[~padded]]
        if input_kind == "motivation":
            vectors = motivation
        elif input_kind == "motivation_text":
            vectors = weighted_concatenation(motivation, text, motivation_weight)
        else:
            vectors = np.hstack([motivation, text]) / np.float32(np.sqrt(2.0))
    if only_generated:
        padded |= assignment["source"].to_numpy() != "generated"
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    vectors[padded] = np.nan
    logger.info("semantic_id input %s: %d items, %d padded", input_kind, n_items, int(padded.sum()))
    return vectors


def text_motivation_item_vectors(
    item_motivation_assignment: pd.DataFrame,
    motivation_clusters: pd.DataFrame,
    motivation_embeddings: np.ndarray,
    item_text_embeddings: np.ndarray,
) -> np.ndarray:
    """(n_items, d_text + d_motivation): item text embedding ⊕ motivation vector, the adaptor's frozen input.

    The motivation vector is the one residual k-means reads (:func:`assemble_item_vectors`, ``motivation``);
    an item without a motivation gets a zero motivation half (the adaptor needs finite inputs) and keeps
    its text half.
    """
    motivation = assemble_item_vectors(
        item_motivation_assignment,
        motivation_clusters,
        motivation_embeddings,
        item_text_embeddings,
        "motivation",
        False,
    )
    text = np.asarray(item_text_embeddings, dtype=np.float32)
    return np.hstack([text, np.nan_to_num(motivation, nan=0.0)]).astype(np.float32)


def _empty_quality(n_layers: int) -> pd.DataFrame:
    """The quality table when every item is padded: nothing was fitted."""
    return pd.DataFrame(
        {
            "layer": np.arange(n_layers),
            "relative_reconstruction_error": np.nan,
            "codes_used_fraction": 0.0,
            "perplexity": np.nan,
            "k_effective": 0,
            "codes_used": 0,
        }
    )


def residual_codes(
    item_vectors: np.ndarray,
    n_layers: int,
    n_codes: int,
    prefix_codes: np.ndarray | None = None,
    **fit_options: Any,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Residual k-means codes per item (+ dedup digit), the (L, K, d) codebooks and per-layer quality.

    With ``prefix_codes`` (one motivation cluster id per item, -1 = none), code 0 is that id and codes
    1 … L-1 are residual k-means of the vectors centred on their cluster's mean
    (``momorec.clustering.id_inputs.cluster_prefix_codes``; codebooks then (L, max(K, clusters), d)).

    ``fit_options`` go to ``fit_residual_kmeans`` (niter, seed, max_points_per_centroid, show_progress,
    n_threads). Padded items (NaN rows) take no part in fitting and get -1 codes and dedup -1. Quality
    columns: layer, relative_reconstruction_error (after this layer, over non-padded items),
    codes_used_fraction (distinct codes / K), perplexity, k_effective (K after clamping to distinct rows),
    codes_used, prefix_collision_rate (share of items not owning their codes 0..layer).
    """
    vectors = np.asarray(item_vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"item vectors must be 2-D, got shape {vectors.shape}")
    n_items, dim = vectors.shape
    present = ~np.isnan(vectors).any(axis=1)
    codes = np.full((n_items, n_layers), PADDING, dtype=np.int64)
    codebooks = np.zeros((n_layers, n_codes, dim), dtype=np.float32)
    if prefix_codes is not None:
        prefix = np.asarray(prefix_codes)
        if prefix.shape != (n_items,):
            raise ValueError(
                f"prefix_codes must hold one cluster id per item ({n_items}), got {prefix.shape}"
            )
        present &= prefix >= 0
    if present.any() and prefix_codes is not None:
        prefixed, fitted = cluster_prefix_codes(
            np.where(present, prefix, PADDING), np.nan_to_num(vectors), n_layers, n_codes, **fit_options
        )
        codes[present] = prefixed[present]
        codebooks = fitted.codebooks
        quality = fitted.quality
    elif present.any():
        fitted = fit_residual_kmeans(vectors[present], n_layers=n_layers, n_codes=n_codes, **fit_options)
        codes[present] = fitted.codes
        codebooks = fitted.codebooks
        quality = fitted.quality
    else:
        logger.warning("semantic_id: every item is padded; all codes are -1")
        quality = _empty_quality(n_layers)
    quality["prefix_collision_rate"] = [
        collision_rate(codes[present, : layer + 1]) for layer in range(n_layers)
    ]
    return _code_table(codes, present), codebooks, quality


def residual_fit_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`residual_codes` from ``params:semantic_id`` (defaults for missing keys)."""
    return {
        "n_layers": int(params.get("n_layers", 6)),
        "n_codes": int(params.get("n_codes", 64)),
        "niter": int(params.get("niter", 20)),
        "seed": int(params.get("seed", 42)),
        "max_points_per_centroid": int(params.get("max_points_per_centroid", 256)),
        "show_progress": bool(params.get("show_progress", True)),
        "n_threads": params.get("faiss_threads"),
    }


def true_motivation_item_vectors(
    items: pd.DataFrame, item_true_motivations: pd.DataFrame, encode: TextEncoder
) -> np.ndarray:
    """(n_items, d) row = item_idx: the embedding of the item's first true motivation, NaN without one.

    Each distinct motivation text is encoded once (in sorted order, so the result does not depend on the
    order of the ground-truth rows).
    """
    require_columns(items, ["item_idx", "item_id"], "items")
    item_idx = items["item_idx"].to_numpy()
    if not np.array_equal(np.sort(item_idx), np.arange(len(items))):
        raise ValueError("items.item_idx must be the contiguous ids 0..n_items-1")
    truth = true_motivation_labels(items, item_true_motivations)
    texts = sorted(set(truth["text"]))
    embeddings = np.asarray(encode(texts), dtype=np.float32)
    if embeddings.ndim != 2 or len(embeddings) != len(texts):
        raise ValueError(
            f"the encoder returned shape {embeddings.shape} for {len(texts)} motivation texts; expected (n, d)"
        )
    vectors = np.full((len(items), embeddings.shape[1]), np.nan, dtype=np.float32)
    vectors[truth["item_idx"].to_numpy()] = embeddings[pd.Index(texts).get_indexer(truth["text"])]
    return vectors


def empty_code_table(n_layers: int) -> pd.DataFrame:
    """An ID table without rows: item_idx, code_0 … code_{L-1}, dedup (int32), as :func:`residual_codes`'s."""
    columns = ["item_idx", *(f"code_{layer}" for layer in range(n_layers)), "dedup"]
    return pd.DataFrame({column: pd.Series(dtype=np.int32) for column in columns})


def oracle_semantic_ids(
    items: pd.DataFrame,
    item_true_motivations: pd.DataFrame,
    encode: TextEncoder,
    n_layers: int,
    n_codes: int,
    **fit_options: Any,
) -> pd.DataFrame:
    """Evaluation only: semantic IDs built from the items' ground-truth motivations, as the run builds its own.

    The input vector of an item is the embedding of its first true motivation (``encode`` = the run's
    encoder); residual k-means with the run's settings (:func:`residual_codes`, ``fit_options`` included)
    codes them. Items without a true motivation get padding codes (-1). An upper bound for a perfect
    motivation model, never a method input. Without ground truth (an empty table: real data sets) the
    result is an empty ID table; ground truth that names none of the items is an error.
    """
    require_columns(
        item_true_motivations, ["item_id", "motivation_id", "motivation"], "item_true_motivations"
    )
    if item_true_motivations.empty:
        logger.info("oracle semantic IDs: no ground-truth motivations in this data set; the table is empty")
        return empty_code_table(n_layers)
    vectors = true_motivation_item_vectors(items, item_true_motivations, encode)
    present = ~np.isnan(vectors).any(axis=1)
    if not present.any():
        raise ValueError(
            f"item_true_motivations has {len(item_true_motivations)} rows but none of its item_ids is in items"
        )
    logger.info("oracle semantic IDs: true motivations for %d of %d items", int(present.sum()), len(items))
    table, _, _ = residual_codes(vectors, n_layers, n_codes, **fit_options)
    return table


def _code_table(codes: np.ndarray, present: np.ndarray) -> pd.DataFrame:
    """item_idx, code_0 … code_{L-1}, dedup (int32; -1 for the items not ``present``)."""
    dedup = np.full(len(codes), PADDING, dtype=np.int64)
    dedup[present] = dedup_digits(codes[present])
    table = pd.DataFrame(codes.astype(np.int32), columns=[f"code_{layer}" for layer in range(codes.shape[1])])
    table.insert(0, "item_idx", np.arange(len(codes), dtype=np.int32))
    table["dedup"] = dedup.astype(np.int32)
    return table


def cluster_semantic_ids(item_motivation_assignment: pd.DataFrame, only_generated: bool) -> pd.DataFrame:
    """The no-residual ablation: one layer, code_0 = the item's motivation cluster id (+ dedup digit)."""
    require_columns(
        item_motivation_assignment, ["item_idx", "cluster_id", "source"], "item_motivation_assignment"
    )
    assignment = item_motivation_assignment.sort_values("item_idx").reset_index(drop=True)
    code = assignment["cluster_id"].to_numpy(dtype=np.int64).copy()
    if only_generated:
        code[assignment["source"].to_numpy() != "generated"] = PADDING
    present = code >= 0
    dedup = np.full(len(code), PADDING, dtype=np.int64)
    dedup[present] = dedup_digits(code[present, None])
    return pd.DataFrame(
        {
            "item_idx": assignment["item_idx"].to_numpy(dtype=np.int32),
            "code_0": code.astype(np.int32),
            "dedup": dedup.astype(np.int32),
        }
    )
