"""What the report says about the run that trained the registered model: its MLflow run, wall time, the
registry version's tags and the training curves (with the validation score of every variant read from them).

The registry entry (``recommender_registry_entry``) names the model version; the version names its MLflow
run. In a default ``kedro run`` that run is the one still in progress (the report is its last node); after
``kedro run --pipeline reporting`` it is the earlier run that trained the model, whose curves are read back
from MLflow because the new run has none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from momorec.plots.training_curves import CURVE_PREFIX, curves_from_mlflow_run, curves_table

logger = logging.getLogger(__name__)

Curves = dict[str, list[dict[str, float]]]


def normalise_curves(loaded: Mapping[str, Any], prefix: str = CURVE_PREFIX) -> Curves:
    """``recommender_training_curves`` as loaded by kedro-mlflow, in the form the node saved it.

    kedro-mlflow's loader keeps the metric prefix in the keys and returns a one-point history as a dict
    instead of a list; both are undone here (``"<variant>.seed_<s>.<metric>" -> [{"value", "step"}]``).
    """
    curves: Curves = {}
    for key, points in loaded.items():
        if not isinstance(points, list | dict):
            raise ValueError(f"training curve {key!r} is neither a point nor a list of points: {points!r}")
        curves[key.removeprefix(prefix + ".")] = [points] if isinstance(points, dict) else list(points)
    return curves


def validation_scores(curves: Mapping[str, Any]) -> pd.DataFrame:
    """Per variant: mean and std over seeds of the best validation NDCG@10 of each seed (the early-stopping
    score the best model is chosen by), and the number of seeds. Variants without epochs (most popular) have
    no curve and are absent."""
    table = curves_table(curves, "valid_ndcg_at_10")
    if table.empty:
        return pd.DataFrame(columns=["mean", "std", "n_seeds"]).rename_axis("variant")
    per_seed = table.groupby(["variant", "seed"])["value"].max()
    grouped = per_seed.groupby(level="variant")
    return pd.DataFrame(
        {"mean": grouped.mean(), "std": grouped.std(ddof=1).fillna(0.0), "n_seeds": grouped.size()}
    )


def _iso(milliseconds: int | None) -> str | None:
    if milliseconds is None:
        return None
    return pd.Timestamp(milliseconds, unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S UTC")


def run_timing(client: Any, run_id: str, now_ms: int | None = None) -> dict[str, Any]:
    """Start, end and wall seconds of an MLflow run; a run still going is timed up to ``now_ms``."""
    info = client.get_run(run_id).info
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    in_progress = info.end_time is None or info.status == "RUNNING"
    end_ms = now_ms if in_progress else info.end_time
    return {
        "run_id": run_id,
        "run_name": info.run_name,
        "status": info.status,
        "started": _iso(info.start_time),
        "ended": None if in_progress else _iso(info.end_time),
        "in_progress": in_progress,
        "wall_seconds": (end_ms - info.start_time) / 1000.0,
    }


def describe_training_run(
    registry_entry: Mapping[str, Any], training_curves: Mapping[str, Any], client: Any | None = None
) -> dict[str, Any]:
    """The registered version (tags, run), the run's timing and the training curves, for the report.

    ``training_curves``: this run's ``recommender_training_curves`` (empty when this run trained nothing);
    then the registered version's run supplies them. What cannot be found is left out with a ``problems``
    line that the report prints; nothing is filled in.
    """
    import mlflow
    from mlflow import MlflowClient

    for key in ("variant", "registered_model_name", "logged"):
        if key not in registry_entry:
            raise ValueError(f"recommender_registry_entry has no {key!r}: {dict(registry_entry)}")
    client = client or MlflowClient()
    facts: dict[str, Any] = {"entry": dict(registry_entry), "version": None, "run": None, "problems": []}
    curves = normalise_curves(training_curves)
    run_id = None
    if registry_entry["logged"]:
        name, version = registry_entry["registered_model_name"], str(registry_entry["version"])
        try:
            model_version = client.get_model_version(name, version)
        except mlflow.exceptions.MlflowException as error:
            facts["problems"].append(f"model `{name}` version {version} not found in the MLflow registry")
            logger.warning("registry lookup of %s v%s failed: %s", name, version, error)
        else:
            run_id = model_version.run_id
            facts["version"] = {
                "name": name,
                "version": int(model_version.version),
                "aliases": sorted(model_version.aliases),
                "tags": dict(model_version.tags),
                "run_id": run_id,
            }
    else:
        facts["problems"].append("the best model was not registered (no active MLflow run)")
    active = mlflow.active_run()
    run_id = run_id or (active.info.run_id if active else None)
    if run_id is not None:
        facts["run"] = run_timing(client, run_id)
        if not curves and (active is None or active.info.run_id != run_id):
            curves = curves_from_mlflow_run(client, run_id)
            facts["curves_from_run"] = run_id
    facts["curves"] = curves
    if not curves:
        facts["problems"].append("no training curves in this run or in the registered model's run")
    return facts


def registered_validation_score(facts: Mapping[str, Any], best_model_info: Mapping[str, Any]) -> float | None:
    """The validation NDCG@10 that chose the registered model: the registry version's tag, else the run's
    selection (``recommender_best_model_info``) when it names the same variant."""
    version = facts.get("version") or {}
    tag = (version.get("tags") or {}).get("mean_valid_ndcg_at_10")
    if tag is not None:
        return float(tag)
    if best_model_info.get("variant") == facts["entry"]["variant"]:
        value = best_model_info.get("mean_valid_ndcg_at_10")
        return None if value is None or np.isnan(value) else float(value)
    return None
