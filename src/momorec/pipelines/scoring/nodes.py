"""Nodes of the scoring pipeline: thin adapters over :mod:`momorec.serving`."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from torch import nn

from momorec.serving.artifacts import item_table
from momorec.serving.batch import score_users, user_histories
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


def _recommendations(
    recommender: Recommender, interactions: pd.DataFrame, users: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    user_ids, histories = user_histories(interactions, users, params.get("user_ids"))
    logger.info("scoring %d users with the %s recommender", len(user_ids), recommender.variant)
    return score_users(
        recommender,
        user_ids,
        histories,
        int(params["k"]),
        int(params["chunk_size"]),
        bool(params["mask_history"]),
    )


def recommend_with_registered_model(
    registered_model: Any, interactions: pd.DataFrame, users: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """``recommendations`` from the registered pyfunc model (loaded by the catalog, by alias)."""
    return _recommendations(registered_model.unwrap_python_model().recommender, interactions, users, params)


def recommend_with_run_model(
    best_model: nn.Module,
    best_model_info: dict[str, Any],
    items: pd.DataFrame,
    item_stats: pd.DataFrame,
    interactions: pd.DataFrame,
    users: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """``recommendations`` from this project's last run's best model (``recommender_best_model``)."""
    recommender = Recommender(best_model, item_table(items, item_stats), best_model_info["variant"])
    return _recommendations(recommender, interactions, users, params)
