"""Train the MoMoREC variant with the first 1, 2, … L semantic-ID layers and tabulate the test metrics."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from momorec.evaluation.results import summarise_results
from momorec.models.experiment import train_and_evaluate_variant

logger = logging.getLogger(__name__)


def sweep_semantic_id_layers(
    user_sequences: Any,
    item_stats: pd.DataFrame,
    item_semantic_ids: pd.DataFrame,
    recommender: dict[str, Any],
    sweep: dict[str, Any],
) -> pd.DataFrame:
    """Re-train the ``momorec`` variant for each number of ID layers and stack its results.

    Every point uses the recommender's own training and evaluation code and settings; only
    ``semantic_ids.n_layers_used`` changes (and the seeds, when ``sweep.seeds`` is set).

    Args:
        user_sequences: the recommender's ``recommender_user_sequences``.
        item_stats: training-prefix item statistics (long-tail segments).
        item_semantic_ids: the ID table (``code_0`` … ``code_{L-1}``, ``dedup``).
        recommender: ``params:recommender``.
        sweep: ``params:layer_sweep`` — ``n_layers`` (list, or null for 1 … L) and optional ``seeds``.

    Returns:
        ``recommender_results`` rows of the ``momorec`` variant with an ``n_layers`` column.
    """
    available = sorted(
        int(c.removeprefix("code_")) for c in item_semantic_ids.columns if c.startswith("code_")
    )
    if not available:
        raise ValueError("item_semantic_ids has no code_* columns to sweep over")
    layers = sweep.get("n_layers") or list(range(1, len(available) + 1))
    too_many = [n for n in layers if not 1 <= int(n) <= len(available)]
    if too_many:
        raise ValueError(
            f"layer_sweep.n_layers {too_many} outside 1..{len(available)} (the ID table's layers)"
        )
    frames = []
    for n_layers in tqdm(layers, desc="semantic-ID layer sweep", unit="setting"):
        params = copy.deepcopy(recommender)
        params["variants"] = ["momorec"]
        params["semantic_ids"]["n_layers_used"] = int(n_layers)
        if sweep.get("seeds"):
            params["seeds"] = list(sweep["seeds"])
        outcome = train_and_evaluate_variant(
            user_sequences, item_stats, item_semantic_ids, params, variant="momorec"
        )
        results, _ = summarise_results(outcome)
        frames.append(results.assign(n_layers=int(n_layers)))
        logger.info("layer sweep: %d layer(s) done", n_layers)
    return pd.concat(frames, ignore_index=True)


def layer_sweep_metrics(layer_sweep_results: pd.DataFrame) -> dict[str, list[dict[str, float]]]:
    """Test NDCG@10 and Recall@10 (all users, history masked) against the number of layers, as MLflow steps."""
    rows = layer_sweep_results[
        (layer_sweep_results["segment"] == "all")
        & layer_sweep_results["history_masked"]
        & (layer_sweep_results["k"] == 10)
        & layer_sweep_results["metric"].isin(["ndcg", "recall"])
    ]
    return {
        f"layer_sweep.{metric}_at_10": [
            {"value": float(row.mean), "step": int(row.n_layers)}
            for row in group.sort_values("n_layers").itertuples()
        ]
        for metric, group in rows.groupby("metric")
    }
