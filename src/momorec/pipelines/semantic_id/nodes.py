"""Nodes of the semantic_id pipeline: item vectors → residual k-means codes (+ dedup digit) → quality, export.

Item vectors whose row is all NaN mean "no input for this item" (no motivation, or not a generated one in the
no-spreading ablation); such items get code -1 (padding) in every layer and dedup -1.
"""

from __future__ import annotations

import logging
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the figure is only saved
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from momorec.clustering.residual_kmeans import (  # noqa: E402
    collision_rate,
    dedup_digits,
    fit_residual_kmeans,
)

logger = logging.getLogger(__name__)

INPUT_KINDS = ("motivation", "text", "concat")
PADDING = -1


def _require_columns(frame: pd.DataFrame, name: str, columns: list[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; found {list(frame.columns)}")


def cluster_representative_embeddings(
    motivation_clusters: pd.DataFrame, motivation_embeddings: np.ndarray
) -> np.ndarray:
    """(n_clusters, d): the embedding of each cluster's representative motivation, row = cluster_id."""
    _require_columns(
        motivation_clusters, "motivation_clusters", ["motivation", "cluster_id", "is_representative"]
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
) -> np.ndarray:
    """One input vector per item_idx for residual k-means (NaN row = padding).

    ``input_kind``: ``motivation`` = the embedding of the item's cluster representative; ``text`` = the item's
    text embedding; ``concat`` = both side by side, scaled by 1/√2 so unit inputs stay unit. Items without a
    cluster (source ``none``) are padded for ``motivation``/``concat``; with ``only_generated`` every item
    whose motivation was not generated is padded (the no-spreading ablation).
    """
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"semantic_id input must be one of {INPUT_KINDS}, got {input_kind!r}")
    _require_columns(
        item_motivation_assignment, "item_motivation_assignment", ["item_idx", "cluster_id", "source"]
    )
    assignment = item_motivation_assignment.sort_values("item_idx")
    n_items = len(assignment)
    if not np.array_equal(assignment["item_idx"].to_numpy(), np.arange(n_items)):
        raise ValueError("item_motivation_assignment.item_idx must be the contiguous ids 0..n_items-1")
    if len(item_text_embeddings) != n_items:
        raise ValueError(f"item_text_embeddings has {len(item_text_embeddings)} rows for {n_items} items")
    cluster_id = assignment["cluster_id"].to_numpy(dtype=np.int64)
    text = np.asarray(item_text_embeddings, dtype=np.float32)
    if input_kind == "text":
        vectors = text.copy()
        padded = np.zeros(n_items, dtype=bool)
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
        else:
            vectors = np.hstack([motivation, text]) / np.float32(np.sqrt(2.0))
    if only_generated:
        padded |= assignment["source"].to_numpy() != "generated"
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    vectors[padded] = np.nan
    logger.info("semantic_id input %s: %d items, %d padded", input_kind, n_items, int(padded.sum()))
    return vectors


def _code_columns(n_layers: int) -> list[str]:
    return [f"code_{layer}" for layer in range(n_layers)]


def residual_semantic_ids(
    item_vectors: np.ndarray, params: dict[str, Any]
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Residual k-means codes per item (+ dedup digit), the (L, K, d) codebooks and per-layer quality.

    Padded items (NaN rows) take no part in fitting and get -1 codes and dedup -1. ``semantic_id_quality``
    columns: layer, relative_reconstruction_error (after this layer, over non-padded items),
    codes_used_fraction (distinct codes / K), perplexity, k_effective (K after clamping to distinct rows),
    codes_used, prefix_collision_rate (share of items not owning their codes 0..layer).
    """
    n_layers = int(params.get("n_layers", 6))
    n_codes = int(params.get("n_codes", 64))
    vectors = np.asarray(item_vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"item vectors must be 2-D, got shape {vectors.shape}")
    n_items, dim = vectors.shape
    present = ~np.isnan(vectors).any(axis=1)
    codes = np.full((n_items, n_layers), PADDING, dtype=np.int64)
    codebooks = np.zeros((n_layers, n_codes, dim), dtype=np.float32)
    if present.any():
        fitted = fit_residual_kmeans(
            vectors[present],
            n_layers=n_layers,
            n_codes=n_codes,
            niter=int(params.get("niter", 20)),
            seed=int(params.get("seed", 42)),
            max_points_per_centroid=int(params.get("max_points_per_centroid", 256)),
            show_progress=bool(params.get("show_progress", True)),
            n_threads=params.get("faiss_threads"),
        )
        codes[present] = fitted.codes
        codebooks = fitted.codebooks
        quality = fitted.quality
    else:
        logger.warning("semantic_id: every item is padded; all codes are -1")
        quality = pd.DataFrame(
            {
                "layer": np.arange(n_layers),
                "relative_reconstruction_error": np.nan,
                "codes_used_fraction": 0.0,
                "perplexity": np.nan,
                "k_effective": 0,
                "codes_used": 0,
            }
        )
    quality["prefix_collision_rate"] = [
        collision_rate(codes[present, : layer + 1]) for layer in range(n_layers)
    ]
    dedup = np.full(n_items, PADDING, dtype=np.int64)
    dedup[present] = dedup_digits(codes[present])
    table = pd.DataFrame(codes.astype(np.int32), columns=_code_columns(n_layers))
    table.insert(0, "item_idx", np.arange(n_items, dtype=np.int32))
    table["dedup"] = dedup.astype(np.int32)
    return table, codebooks, quality


def cluster_semantic_ids(item_motivation_assignment: pd.DataFrame, only_generated: bool) -> pd.DataFrame:
    """The no-residual ablation: one layer, code_0 = the item's motivation cluster id (+ dedup digit)."""
    _require_columns(
        item_motivation_assignment, "item_motivation_assignment", ["item_idx", "cluster_id", "source"]
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


def semantic_id_metrics(item_semantic_ids: pd.DataFrame, semantic_id_quality: pd.DataFrame) -> dict[str, Any]:
    """MLflow metrics: per-layer quality as step-indexed histories, collision rates before/after dedup."""
    codes = item_semantic_ids[[c for c in item_semantic_ids.columns if c.startswith("code_")]].to_numpy()
    present = (codes >= 0).all(axis=1)
    with_dedup = np.column_stack([codes, item_semantic_ids["dedup"].to_numpy()])[present]
    metrics: dict[str, Any] = {
        "collision_rate_before_dedup": {"value": collision_rate(codes[present]), "step": 0},
        "collision_rate_after_dedup": {"value": collision_rate(with_dedup), "step": 0},
        "max_dedup": {
            "value": float(item_semantic_ids["dedup"].max()) if len(item_semantic_ids) else 0.0,
            "step": 0,
        },
        "padded_items": {"value": float((~present).sum()), "step": 0},
    }
    for column in ("relative_reconstruction_error", "codes_used_fraction", "perplexity", "k_effective"):
        if column in semantic_id_quality:
            history = [
                {"value": float(value), "step": int(layer)}
                for layer, value in zip(
                    semantic_id_quality["layer"], semantic_id_quality[column], strict=True
                )
                if np.isfinite(value)
            ]
            if history:
                metrics[f"layer_{column}"] = history
    return metrics


def export_semantic_id_table(item_semantic_ids: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """``semantic_id_table``: the original item_id with its codes and dedup digit, for other models."""
    _require_columns(items, "items", ["item_idx", "item_id"])
    table = items[["item_idx", "item_id"]].merge(
        item_semantic_ids, on="item_idx", how="inner", validate="1:1"
    )
    if len(table) != len(items):
        raise ValueError(f"item_semantic_ids covers {len(table)} of {len(items)} items")
    return table.sort_values("item_idx").drop(columns="item_idx").reset_index(drop=True)


def plot_codebook_utilisation(semantic_id_quality: pd.DataFrame, params: dict[str, Any]) -> plt.Figure:
    """Bar chart per layer: share of the K codes used and perplexity / K (how evenly they are used)."""
    n_codes = int(params.get("n_codes", 64))
    layers = semantic_id_quality["layer"].to_numpy()
    figure, axis = plt.subplots(figsize=(7, 3.5))
    width = 0.38
    axis.bar(layers - width / 2, semantic_id_quality["codes_used_fraction"], width, label="codes used / K")
    axis.bar(layers + width / 2, semantic_id_quality["perplexity"] / n_codes, width, label="perplexity / K")
    axis.plot(
        layers,
        semantic_id_quality["relative_reconstruction_error"],
        marker="o",
        color="black",
        label="relative reconstruction error",
    )
    axis.set_xlabel("layer")
    axis.set_xticks(layers)
    axis.set_ylim(0, 1.05)
    axis.set_title(f"Residual codebook utilisation (K = {n_codes})")
    axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    return figure


__all__ = [
    "assemble_item_vectors",
    "cluster_semantic_ids",
    "export_semantic_id_table",
    "plot_codebook_utilisation",
    "residual_semantic_ids",
    "semantic_id_metrics",
]
