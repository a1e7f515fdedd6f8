"""Adapters between Kedro and :mod:`momorec.tuning.search`: one search per variant, then the tables."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from momorec.data.sequences import UserSequences
from momorec.models.variants import model_kind
from momorec.tuning.search import TuningSettings, tune_variant

logger = logging.getLogger(__name__)


def tune_variant_with_inputs(
    user_sequences: UserSequences, *inputs_then_params: Any, variant: str
) -> dict[str, Any]:
    """The search for ``variant`` (its input datasets, then ``params:recommender`` and ``params:tuning``);
    ``{"variant", "trials", "best"}``, or ``{"variant", "skipped": True}`` when ``tuning.variants`` leaves
    it out."""
    *datasets, recommender_params, tuning_params = inputs_then_params
    if variant not in (tuning_params.get("variants") or []):
        return {"variant": variant, "skipped": True}
    settings = TuningSettings.from_params(tuning_params)
    side_input = model_kind(variant).pack(datasets)
    trials, best = tune_variant(variant, user_sequences, recommender_params, side_input, settings)
    return {"variant": variant, "skipped": False, "trials": trials, "best": best}


def collect_tuning(*outcomes: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """All variants' trials in one table, and the best settings as a parameters file to copy into
    ``conf/<env>/`` (``recommender.variant_settings``); fails when ``tuning.variants`` named no variant."""
    ran = [outcome for outcome in outcomes if not outcome.get("skipped")]
    if not ran:
        raise ValueError("tuning.variants names no variant of this pipeline: nothing was tuned")
    trials = pd.concat([outcome["trials"] for outcome in ran], ignore_index=True)
    settings = {outcome["variant"]: outcome["best"] for outcome in ran}
    return trials, {"recommender": {"variant_settings": settings}}
