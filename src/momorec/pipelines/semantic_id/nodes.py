"""Nodes of the semantic_id pipeline: item vectors → residual k-means codes (+ dedup digit) → quality, export.

The semantic-ID logic lives in ``momorec.clustering.semantic_ids``; these nodes read parameters and shape
MLflow metrics and exports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from momorec.clustering import semantic_ids
from momorec.clustering.residual_kmeans import collision_rate
from momorec.clustering.semantic_ids import (
    assemble_item_vectors,
    cluster_semantic_ids,
    residual_codes,
    residual_fit_settings,
    text_motivation_item_vectors,
)
from momorec.data.problems import require_columns
from momorec.embeddings.encoder import EncoderBundle
from momorec.reporting.plots import plot_codebook_use_perplexity_and_error


def residual_semantic_ids(
    item_vectors: np.ndarray,
    params: dict[str, Any],
    input_kind: str = "motivation",
    item_motivation_assignment: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Residual k-means codes per item (+ dedup digit), the (L, K, d) codebooks and per-layer quality.

    See ``momorec.clustering.semantic_ids.residual_codes``; padded items (NaN rows) get -1 codes. With
    ``input_kind`` ``cluster_prefix_text`` code 0 is the item's motivation cluster from the assignment.
    """
    prefix_codes = None
    if input_kind == "cluster_prefix_text":
        if item_motivation_assignment is None:
            raise ValueError("semantic_id input cluster_prefix_text needs item_motivation_assignment")
        require_columns(item_motivation_assignment, ["item_idx", "cluster_id"], "item_motivation_assignment")
        prefix_codes = item_motivation_assignment.sort_values("item_idx")["cluster_id"].to_numpy(
            dtype=np.int64
        )
    return residual_codes(item_vectors, prefix_codes=prefix_codes, **residual_fit_settings(params))


def oracle_semantic_ids(
    items: pd.DataFrame,
    item_true_motivations: pd.DataFrame,
    encoder: EncoderBundle,
    encoder_params: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """``oracle_item_semantic_ids`` (evaluation only): IDs from the ground-truth motivations, empty without.

    See ``momorec.clustering.semantic_ids.oracle_semantic_ids``; the run's encoder and semantic_id settings.
    """
    batch_size = int(encoder_params.get("batch_size", 64))
    return semantic_ids.oracle_semantic_ids(
        items,
        item_true_motivations,
        lambda texts: encoder.encode(texts, batch_size),
        **residual_fit_settings(params),
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
    require_columns(items, ["item_idx", "item_id"], "items")
    table = items[["item_idx", "item_id"]].merge(
        item_semantic_ids, on="item_idx", how="inner", validate="1:1"
    )
    if len(table) != len(items):
        raise ValueError(f"item_semantic_ids covers {len(table)} of {len(items)} items")
    return table.sort_values("item_idx").drop(columns="item_idx").reset_index(drop=True)


def plot_codebook_utilisation(semantic_id_quality: pd.DataFrame, params: dict[str, Any]) -> Figure:
    """``semantic_id_utilisation_plot``: codes used / K, perplexity / K and reconstruction error per layer."""
    return plot_codebook_use_perplexity_and_error(semantic_id_quality, int(params.get("n_codes", 64)))


__all__ = [
    "assemble_item_vectors",
    "cluster_semantic_ids",
    "export_semantic_id_table",
    "oracle_semantic_ids",
    "plot_codebook_utilisation",
    "residual_semantic_ids",
    "semantic_id_metrics",
    "text_motivation_item_vectors",
]
