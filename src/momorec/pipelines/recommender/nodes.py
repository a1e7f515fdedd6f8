"""Nodes of the recommender pipeline that are not domain functions: adapters to Kedro's inputs and MLflow.

The variant engine is ``momorec.models`` (``variants``: specs and the model factory; ``experiment``: one
variant trained and evaluated over seeds; ``registry``: the best model in MLflow); the tables are
``momorec.evaluation.results``; the sequences are ``momorec.data.sequences``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from momorec.data.sequences import UserSequences
from momorec.evaluation.results import ran_outcomes
from momorec.models.experiment import train_and_evaluate_variant
from momorec.models.variants import model_kind


def train_and_evaluate_variant_with_inputs(
    user_sequences: UserSequences, item_stats: pd.DataFrame, *inputs_then_params: Any, variant: str
) -> dict[str, Any]:
    """:func:`train_and_evaluate_variant` for a variant with any number of input datasets: Kedro hands them
    over one by one (then ``params:recommender``), the model kind takes them packed (``ModelKind.pack``)."""
    *datasets, params = inputs_then_params
    side_input = model_kind(variant).pack(datasets)
    return train_and_evaluate_variant(user_sequences, item_stats, side_input, params, variant)


def results_to_mlflow_metrics(results: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Test metrics of the whole user set and segments as MLflow metrics (means), one key per number."""
    metrics = {}
    for row in results.itertuples(index=False):
        if row.segment != "all" and not (
            row.metric in ("recall", "ndcg") and row.k == 10 and row.history_masked
        ):
            continue  # segments: Recall/NDCG@10 only, to keep the run readable
        masking = "masked" if row.history_masked else "unmasked"
        key = f"{row.variant}.test.{masking}.{row.segment}.{row.metric}_at_{row.k}"
        metrics[key] = {"value": float(row.mean), "step": 0}
    return metrics


def training_curves(*outcomes: dict) -> dict[str, list[dict[str, float]]]:
    """Per-epoch loss and validation metrics per variant and seed, as MLflow metric histories (step = epoch)."""
    curves: dict[str, list[dict[str, float]]] = {}
    for outcome in ran_outcomes(outcomes):
        for seed, history in outcome["curves"].items():
            for name in ("loss", "valid_ndcg_at_10", "valid_recall_at_10"):
                points = [{"value": float(r[name]), "step": int(r["epoch"])} for r in history if name in r]
                if points:
                    curves[f"{outcome['variant']}.seed_{seed}.{name}"] = points
    return curves
