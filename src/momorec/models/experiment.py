"""One recommender variant, trained and evaluated the same way as every other one.

Protocol (docs/evaluation.md): leave-one-out; models train on the training prefixes only;
validation scoring sees the training prefix, test scoring sees the training prefix plus the validation item;
full ranking over all items in chunks; history masking is the ``mask_history`` parameter (default: mask
every item of the user's input history); every variant goes through the same evaluator, over several seeds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from momorec.data.sequences import UserSequences
from momorec.evaluation.evaluator import evaluate_split, evaluate_test_segments
from momorec.evaluation.ranking import ScoreFn
from momorec.evaluation.segments import long_tail_flags
from momorec.models.trainer import TrainingConfig, TrainingResult, fit, model_score_fn, resolve_device
from momorec.models.variants import build_model, model_kind, variant_inputs, variant_params, variant_spec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationSettings:
    """The test-evaluation settings of ``params:recommender`` (inputs, segments, cut-offs, device)."""

    max_length: int
    mask_history: bool
    chunk_size: int
    ks: list[int]
    cold_start_below: int
    efficiency_repeats: int
    device: str

    @classmethod
    def from_params(cls, params: dict) -> EvaluationSettings:
        evaluation = params["evaluation"]
        return cls(
            max_length=params["model"]["max_length"],
            mask_history=params["mask_history"],
            chunk_size=evaluation["chunk_size"],
            ks=[int(k) for k in evaluation["ks"]],
            cold_start_below=int(evaluation["cold_start_below"]),
            efficiency_repeats=int(evaluation.get("efficiency_repeats", 3)),
            device=resolve_device(params["runtime"]["device"]),
        )


def timed_test_pass(
    make_score_fn: Callable[[], ScoreFn], data: UserSequences, settings: EvaluationSettings
) -> float:
    """Seconds per 1,000 users of one full-ranking test pass (best of ``efficiency_repeats``).

    The scorer is rebuilt inside the timed region, so the item-representation pass (the semantic-ID MLP of
    MoMoREC) counts as inference time.
    """
    best = float("inf")
    for _ in range(settings.efficiency_repeats):
        started = time.perf_counter()
        ranks = evaluate_split(
            make_score_fn(),
            data,
            "test",
            settings.max_length,
            settings.mask_history,
            settings.chunk_size,
            settings.device,
        ).ranks
        best = min(best, time.perf_counter() - started)
    return best / max(len(ranks), 1) * 1000.0


def _train_and_test(
    variant: str,
    data: UserSequences,
    side_input: Any,
    params: dict,
    seed: int,
    settings: EvaluationSettings,
    item_is_long_tail: np.ndarray,
) -> tuple[nn.Module, TrainingResult, list[dict]]:
    """Build and train ``variant``'s model for ``seed`` and measure it on the test targets."""
    model = build_model(variant, data, params, side_input, seed)
    training = fit(model, data, TrainingConfig.from_params(params, seed))
    rows = evaluate_test_segments(
        model_score_fn(model),
        data,
        settings.max_length,
        item_is_long_tail,
        settings.cold_start_below,
        settings.ks,
        settings.chunk_size,
        settings.device,
    )
    return model, training, [{**row, "seed": seed} for row in rows]


def train_and_evaluate_variant(
    user_sequences: UserSequences, item_stats: pd.DataFrame, side_input: Any, params: dict, variant: str
) -> dict[str, Any]:
    """Train ``variant`` once per seed, evaluate on the test targets (masked and unmasked), measure efficiency.

    Returns an outcome dict; a variant missing from ``params['variants']``, or an oracle variant whose
    ground-truth input is an empty table (a data set without ground truth), returns ``{"skipped": True}``
    without training. The best seed's trained model (by validation NDCG@10) is kept for the registry; a
    model with nothing to train (most popular) is never kept.
    """
    spec = variant_spec(variant)
    outcome: dict[str, Any] = {
        "variant": variant,
        "is_canary": bool(spec.get("canary", False)),
        "skipped": False,
    }
    if variant not in params["variants"]:
        logger.info("recommender variant %s is switched off in params:recommender.variants", variant)
        return {**outcome, "skipped": True}
    if spec.get("oracle") and isinstance(side_input, pd.DataFrame) and side_input.empty:
        logger.warning(
            "recommender variant %s skipped: %s is empty (this data set has no ground truth)",
            variant,
            ", ".join(variant_inputs(variant)),
        )
        return {**outcome, "skipped": True}
    params = variant_params(params, variant)
    torch.set_num_threads(int(params["runtime"]["num_threads"]))
    settings = EvaluationSettings.from_params(params)
    long_tail = long_tail_flags(item_stats, user_sequences.n_items)
    rows, curves, valid_scores, epoch_seconds = [], {}, {}, []
    trained_losses: set[str] = set()  # training.loss "auto" resolves per catalogue size
    best: dict[str, Any] = {"valid_ndcg_at_10": float("-inf")}
    for seed in (int(seed) for seed in params["seeds"]):
        model, training, seed_rows = _train_and_test(
            variant, user_sequences, side_input, params, seed, settings, long_tail
        )
        rows += seed_rows
        valid_scores[seed] = valid_ndcg = training.best_valid_ndcg_at_10
        if training.history:
            trained_losses.add(training.loss)
            curves[seed] = training.history
            epoch_seconds += [record["train_seconds"] for record in training.history]
        if seed == int(params["seeds"][0]):
            outcome["inference_seconds_per_1000_users"] = timed_test_pass(
                partial(model_score_fn, model), user_sequences, settings
            )
            outcome["parameters"] = model.n_parameters()
        if training.history and valid_ndcg > best["valid_ndcg_at_10"]:
            best = {"valid_ndcg_at_10": valid_ndcg, "seed": seed, "model": model.cpu()}
        logger.info("recommender %s seed %d: best validation NDCG@10 %.4f", variant, seed, valid_ndcg)
    outcome.update(
        rows=rows,
        curves=curves,
        valid_ndcg_at_10=valid_scores,
        train_seconds_per_epoch=float(np.mean(epoch_seconds)) if epoch_seconds else 0.0,
        loss=", ".join(sorted(trained_losses)) or "none",
        best_model=best.get("model"),
        best_seed=best.get("seed"),
        semantic_ids=model_kind(variant).semantic_id_table(side_input),
    )
    return outcome
