"""Fusing the recommender score with an alignment score, and choosing the weight on validation users only.

Per candidate list (one user, split and seed) both scores are normalised to [0, 1] (min-max, or rank based:
best 1, worst 0), then ``fused = (1 - λ) · recommender + λ · alignment``. A candidate without an alignment
score (failed profile or traits, or beyond the LLM budget) gets the neutral 0.5, so it is neither pushed up
nor down; λ = 0 gives back the recommender's order.

The re-ranked list replaces the top-N; a target outside the top-N keeps its full-ranking rank (at least N),
so the re-ranked metrics come from the same rank-based metric functions as the base ones.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from momorec.evaluation import metric_values

logger = logging.getLogger(__name__)

GROUP = ["user_idx", "split", "seed"]
# Re-ranking variants and the alignment score each fuses with the recommender score.
RERANK_VARIANTS = {
    "rerank_embedding": "embedding_score",
    "rerank_llm": "llm_score",
    "rerank_embedding_llm": "embedding_llm_score",
}
NORMALISATIONS = ("minmax", "rank")
NEUTRAL = 0.5


def normalise_per_list(frame: pd.DataFrame, column: str, method: str = "minmax") -> np.ndarray:
    """``column`` scaled to [0, 1] within each (user, split, seed) list; NaN stays NaN (filled by ``fuse``)."""
    if method not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {method!r}")
    values = frame[column].astype(float)
    groups = frame.groupby(GROUP, sort=False)[column]
    if method == "minmax":
        low, high = groups.transform("min").astype(float), groups.transform("max").astype(float)
        spread = (high - low).to_numpy()
        scaled = np.where(spread > 0, (values - low).to_numpy() / np.where(spread > 0, spread, 1.0), NEUTRAL)
        return np.where(values.isna(), np.nan, scaled)
    # Rank based: average ranks for ties, 1 = best; NaN excluded from the ranking.
    rank = groups.rank(method="average", ascending=False).to_numpy()
    count = groups.transform("count").to_numpy().astype(float)
    scaled = np.where(count > 1, 1.0 - (rank - 1.0) / np.maximum(count - 1.0, 1.0), NEUTRAL)
    return np.where(values.isna(), np.nan, scaled)


def fuse(recommender_norm: np.ndarray, alignment_norm: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) · recommender + weight · alignment``, missing alignment scores taken as neutral."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"fusion weight must be in [0, 1], got {weight}")
    alignment = np.where(np.isnan(alignment_norm), NEUTRAL, alignment_norm)
    return (1.0 - weight) * np.asarray(recommender_norm, dtype=float) + weight * alignment


def reranked_target_ranks(candidates: pd.DataFrame, fused: np.ndarray, targets: pd.DataFrame) -> pd.DataFrame:
    """0-based rank of each target after re-ranking its candidate list by ``fused``.

    ``candidates``: user_idx, split, seed, item_idx (one row per candidate, aligned with ``fused``).
    ``targets``: user_idx, split, seed, item_idx (the held-out item), rank (its base full-ranking rank).
    Ties in the fused score count against the target, as in ``momorec.evaluation.metrics``.
    Returns ``targets`` with a ``reranked`` column.
    """
    frame = candidates[[*GROUP, "item_idx"]].copy()
    frame["fused"] = np.asarray(fused, dtype=float)
    list_size = frame.groupby(GROUP).size().rename("list_size")
    hit = frame.merge(targets[[*GROUP, "item_idx"]], on=[*GROUP, "item_idx"], how="inner")
    hit = hit.rename(columns={"fused": "target_fused"})[[*GROUP, "target_fused"]]
    compared = frame.merge(hit, on=GROUP, how="inner")
    at_least = (compared["fused"] >= compared["target_fused"]).groupby([compared[c] for c in GROUP]).sum() - 1
    result = targets.merge(list_size, left_on=GROUP, right_index=True, how="left")
    result = result.merge(at_least.rename("new_rank"), left_on=GROUP, right_index=True, how="left")
    outside = np.maximum(result["rank"].to_numpy(), result["list_size"].fillna(0).to_numpy())
    result["reranked"] = np.where(result["new_rank"].isna(), outside, result["new_rank"].to_numpy()).astype(
        np.int64
    )
    return result.drop(columns=["list_size", "new_rank"])


def fused_scores(
    candidates: pd.DataFrame, alignment_column: str, weight: float, normalisation: str
) -> np.ndarray:
    return fuse(
        normalise_per_list(candidates, "score", normalisation),
        normalise_per_list(candidates, alignment_column, normalisation),
        weight,
    )


def select_fusion_weight(
    valid_candidates: pd.DataFrame,
    valid_targets: pd.DataFrame,
    alignment_column: str,
    grid: Sequence[float],
    normalisation: str = "minmax",
    metric: str = "ndcg",
    k: int = 10,
) -> tuple[float, pd.DataFrame]:
    """The λ of ``grid`` with the best mean validation ``metric@k`` over users and seeds (ties: smallest λ).

    Takes validation rows only and refuses any other split, so a test label cannot influence the choice.
    Returns the chosen weight and the whole curve (weight, value).
    """
    for name, table in (("valid_candidates", valid_candidates), ("valid_targets", valid_targets)):
        splits = set(table["split"].astype(str).unique())
        if splits - {"valid"}:
            raise ValueError(
                f"{name}: split(s) {sorted(splits - {'valid'})} given; λ is chosen on validation only"
            )
    if not len(grid):
        raise ValueError("the fusion weight grid is empty")
    rows = []
    for weight in sorted(float(w) for w in grid):
        fused = fused_scores(valid_candidates, alignment_column, weight, normalisation)
        ranks = reranked_target_ranks(valid_candidates, fused, valid_targets)
        per_seed = [
            metric_values(group["reranked"].to_numpy(), (k,))[(metric, k)]
            for _, group in ranks.groupby("seed")
        ]
        rows.append({"weight": weight, "value": float(np.mean(per_seed)) if per_seed else float("nan")})
    curve = pd.DataFrame(rows)
    best = curve["value"].fillna(-np.inf).to_numpy()
    return float(curve["weight"].iloc[int(np.argmax(best))]), curve


def combined_alignment_scores(
    embedding_scored_candidates: pd.DataFrame, llm_ratings: pd.DataFrame, normalisation: str
) -> pd.DataFrame:
    """One table: recommender score, embedding score, LLM score and their combination per candidate.

    ``embedding_llm_score`` is the mean of the two scores after per-list normalisation (only one of them
    when the other is missing, NaN when both are).
    """
    keys = ["user_idx", "split", "seed", "item_idx"]
    table = embedding_scored_candidates.merge(
        llm_ratings[[*keys, "llm_score"]].astype(
            {"user_idx": np.int64, "seed": np.int64, "item_idx": np.int64}
        ),
        on=keys,
        how="left",
    )
    both = np.vstack(
        [
            normalise_per_list(table, "embedding_score", normalisation),
            normalise_per_list(table, "llm_score", normalisation),
        ]
    )
    with np.errstate(all="ignore"):
        counts = np.sum(~np.isnan(both), axis=0)
        table["embedding_llm_score"] = np.where(
            counts > 0, np.nansum(both, axis=0) / np.maximum(counts, 1), np.nan
        )
    return table


def select_variant_weights(
    valid_candidates: pd.DataFrame,
    valid_targets: pd.DataFrame,
    variants: Mapping[str, str],
    fusion: Mapping[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """λ of every re-ranking variant (``variants``: name → alignment column) from the grid, on validation
    rows only: the chosen weights (variant, fusion_weight, valid_value) and the curves (variant, weight, value)."""
    chosen, curves = [], []
    for variant, column in variants.items():
        weight, curve = select_fusion_weight(
            valid_candidates,
            valid_targets,
            column,
            fusion["weight_grid"],
            fusion["normalisation"],
            fusion["selection_metric"],
            int(fusion["selection_k"]),
        )
        chosen.append(
            {"variant": variant, "fusion_weight": weight, "valid_value": float(curve["value"].max())}
        )
        curves.append(curve.assign(variant=variant))
        logger.info("alignment %s: λ = %.2f on validation", variant, weight)
    curve_table = pd.concat(curves, ignore_index=True)[["variant", "weight", "value"]]
    return pd.DataFrame(chosen), curve_table
