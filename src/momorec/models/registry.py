"""The best recommender, chosen on validation data, and its entry in the MLflow model registry."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from momorec.evaluation.results import ran_outcomes
from momorec.models.variants import evaluation_only

logger = logging.getLogger(__name__)


def select_best_model(*outcomes: dict) -> tuple[Any, dict[str, Any]]:
    """The trained model with the best mean validation NDCG@10 over seeds (never test data).

    Never a canary or oracle: an outcome marked ``is_canary`` or a variant flagged ``canary``/``oracle`` in
    ``VARIANT_SPECS`` (both are checked, so a stale or hand-made outcome cannot slip through).
    """
    candidates = [
        o
        for o in ran_outcomes(outcomes)
        if o.get("best_model") is not None and not o["is_canary"] and not evaluation_only(o["variant"])
    ]
    if not candidates:
        raise ValueError(
            "no trained (non-canary, non-oracle) recommender variant to select a best model from"
        )
    winner = max(candidates, key=lambda o: float(np.mean(list(o["valid_ndcg_at_10"].values()))))
    summary = {
        "variant": winner["variant"],
        "seed": int(winner["best_seed"]),
        "mean_valid_ndcg_at_10": float(np.mean(list(winner["valid_ndcg_at_10"].values()))),
        "best_seed_valid_ndcg_at_10": float(winner["valid_ndcg_at_10"][winner["best_seed"]]),
    }
    return winner, summary


def register_best_model(params: dict, *outcomes: dict) -> tuple[nn.Module, dict[str, Any]]:
    """Select the best model and, inside an active MLflow run, log it with ``mlflow.pytorch`` and register it.

    The one node allowed to call MLflow directly (a model registry entry is not a catalog dataset). The
    semantic-ID table the model was built with goes into the model's artifacts as ``semantic_ids.parquet``.
    Outside an MLflow run (unit tests, plain runs) it only reports the choice. Returns the model (for the
    catalog) and a summary of the choice and of the registry entry.
    """
    winner, summary = select_best_model(*outcomes)
    summary.update(
        registered_model_name=params["registry"]["model_name"], logged=False, model_uri=None, version=None
    )
    try:
        import mlflow
    except ImportError:  # pragma: no cover - mlflow is a project dependency
        return winner["best_model"], summary
    if mlflow.active_run() is None:
        logger.info("no active MLflow run: best recommender %s not logged", summary["variant"])
        return winner["best_model"], summary
    summary.update(
        log_and_register_model(
            winner["best_model"], winner.get("semantic_ids"), summary["registered_model_name"]
        )
    )
    return winner["best_model"], summary


def log_and_register_model(
    model: nn.Module, semantic_ids: pd.DataFrame | None, model_name: str
) -> dict[str, Any]:
    """Log ``model`` with ``mlflow.pytorch`` in the active run and register it under ``model_name``."""
    import mlflow
    import mlflow.pytorch

    with tempfile.TemporaryDirectory() as folder:
        extra_files = []
        if semantic_ids is not None:
            path = Path(folder) / "semantic_ids.parquet"
            semantic_ids.to_parquet(path, index=False)
            extra_files.append(str(path))
        info = mlflow.pytorch.log_model(
            model.cpu().eval(),
            name="recommender",
            registered_model_name=model_name,
            extra_files=extra_files or None,
            pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"],
            serialization_format="pickle",
        )
    version = getattr(info, "registered_model_version", None)
    return {"logged": True, "model_uri": info.model_uri, "version": None if version is None else int(version)}
