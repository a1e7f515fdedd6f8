"""Nodes of the scoring pipeline: thin adapters over :mod:`momorec.serving`."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from torch import nn

from momorec.serving.artifacts import item_table
from momorec.serving.batch import score_dataset
from momorec.serving.packaging import log_recommender_model, masked_test_metrics
from momorec.serving.recommender import Recommender

logger = logging.getLogger(__name__)


def register_recommender(
    best_model: nn.Module,
    best_model_info: dict[str, Any],
    items: pd.DataFrame,
    item_stats: pd.DataFrame,
    recommender_results: pd.DataFrame,
    recommender_params: dict[str, Any],
    scoring_params: dict[str, Any],
) -> dict[str, Any]:
    """Log the run's best model as a pyfunc model, register it and point the alias at it.

    The one node that writes to the model registry (an entry there is not a catalog dataset). Outside an
    active MLflow run (unit tests, runs without kedro-mlflow) it only reports that nothing was logged.
    """
    import mlflow

    variant = best_model_info["variant"]
    model_name = recommender_params["registry"]["model_name"]
    entry: dict[str, Any] = {"variant": variant, "registered_model_name": model_name, "logged": False}
    if mlflow.active_run() is None:
        logger.info("no active MLflow run: best recommender %s not registered", variant)
        return entry
    selection = {
        key: best_model_info[key]
        for key in ("seed", "mean_valid_ndcg_at_10", "best_seed_valid_ndcg_at_10")
        if key in best_model_info
    }
    entry.update(
        log_recommender_model(
            best_model,
            variant,
            recommender_params,
            item_table(items, item_stats),
            model_name,
            selection=selection,
            test_metrics=masked_test_metrics(recommender_results, variant),
            alias=scoring_params["alias"],
        )
    )
    return entry


def recommend_with_registered_model(
    registered_model: Any,
    interactions: pd.DataFrame,
    users: pd.DataFrame,
    items: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``recommendations`` and ``scoring_report`` from the registered pyfunc model (loaded by the catalog)."""
    metadata = registered_model.metadata
    label = f"registered under alias {params['alias']!r} (run {metadata.run_id}, model {metadata.model_id})"
    recommender = registered_model.unwrap_python_model().recommender
    return score_dataset(recommender, interactions, users, items, params, label)


def recommend_with_run_model(
    best_model: nn.Module,
    best_model_info: dict[str, Any],
    items: pd.DataFrame,
    item_stats: pd.DataFrame,
    interactions: pd.DataFrame,
    users: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``recommendations`` and ``scoring_report`` from this project's last run's best model."""
    variant = best_model_info["variant"]
    recommender = Recommender(best_model, item_table(items, item_stats), variant)
    return score_dataset(recommender, interactions, users, items, params, f"of the last run ({variant})")
