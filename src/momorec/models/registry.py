"""The best recommender, chosen on validation data, and its entry in the MLflow model registry."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
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
    """Select the best model; returns it (for the catalog) and a summary of the choice.

    The registry entry (a pyfunc model with vocabulary, titles and metrics) is written by the
    ``register_recommender`` node (``momorec.serving.packaging``), which reads this choice.
    """
    winner, summary = select_best_model(*outcomes)
    summary["registered_model_name"] = params["registry"]["model_name"]
    return winner["best_model"], summary
