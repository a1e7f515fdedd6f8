"""A fair hyperparameter search for the recommender variants: the same trial budget, the same search space
where it applies and the same validation metric for every variant (Optuna's TPE, seeded, with pruning).

One trial trains one model (one seed) with the project's trainer and reports its validation NDCG@10 after
every epoch; Optuna's median pruner stops a trial whose curve falls below the median of earlier trials at the
same epoch. Test data plays no part: :func:`tune_variant` never evaluates the test split. The best trial's
settings become ``recommender.variant_settings.<variant>`` (:func:`momorec.models.variants.variant_params`),
which a run then trains over all its seeds.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import torch

from momorec.data.sequences import UserSequences
from momorec.models.trainer import TrainingConfig, fit
from momorec.models.variants import VARIANT_SETTING_SECTIONS, build_model, variant_params

logger = logging.getLogger(__name__)

#: A parameter of the space: ``choices`` (categorical) or ``low``/``high`` (float, ``log`` scale optional;
#: int when both bounds are ints).
DIMENSION_KEYS = {"choices", "low", "high", "log"}


@dataclass(frozen=True)
class TuningSettings:
    """``params:tuning``: trials per variant, sampler seed, the space, the pruner's warm-up, which seed trains."""

    trials: int = 12
    sampler_seed: int = 0
    training_seed: int = 0
    pruning_warmup_epochs: int = 5
    # {"model": {"dropout": {"low": 0.1, "high": 0.6}}, "training": {...}}; "model.temperature" is searched
    # for cosine scoring only. Optuna names each dimension "<section>.<key>".
    space: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # An Optuna storage URL (a SQLite file): finished trials survive a crash and a re-run resumes. None: memory.
    storage: str | None = None
    # Bounds for every trial's training (epochs, patience), over the variant's own.
    training_overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ValueError(f"tuning.trials must be >= 1, got {self.trials}")
        if not self.space:
            raise ValueError("tuning.space is empty: name at least one setting to search")
        unknown_sections = set(self.space) - set(VARIANT_SETTING_SECTIONS)
        if unknown_sections:
            raise ValueError(
                f"tuning.space: unknown section(s) {sorted(unknown_sections)}; known: {VARIANT_SETTING_SECTIONS}"
            )
        for name, dimension in self.dimensions.items():
            if not isinstance(dimension, Mapping):
                raise ValueError(f"tuning.space.{name}: expected a mapping (choices, or low and high)")
            unknown = set(dimension) - DIMENSION_KEYS
            if unknown or not ("choices" in dimension or {"low", "high"} <= set(dimension)):
                raise ValueError(
                    f"tuning.space.{name}: give choices, or low and high (and log); got {dimension}"
                )
            if "low" in dimension and not dimension["low"] < dimension["high"]:
                raise ValueError(f"tuning.space.{name}: low must be < high, got {dimension}")

    @property
    def dimensions(self) -> dict[str, Any]:
        """The space flattened to Optuna's names: ``{"model.dropout": {...}, ...}``."""
        return {
            f"{section}.{key}": dimension
            for section, keys in self.space.items()
            for key, dimension in (keys or {}).items()
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TuningSettings:
        """From ``params:tuning`` (its ``variants`` list is the pipeline's business, not the search's)."""
        known = {setting.name for setting in fields(cls)}
        unknown = set(params) - known - {"variants"}
        if unknown:
            raise ValueError(f"tuning: unknown key(s) {sorted(unknown)}")
        values = {key: value for key, value in params.items() if key in known}
        values["space"] = {section: dict(keys or {}) for section, keys in (values.get("space") or {}).items()}
        values["training_overrides"] = dict(values.get("training_overrides") or {})
        return cls(**values)


def applicable_space(dimensions: Mapping[str, dict], params: Mapping[str, Any]) -> dict[str, dict]:
    """The dimensions that mean something for a variant trained with ``params``: the temperature only when
    the model may score by cosine (a dot-product model would spend trials on a setting it ignores)."""
    cosine = (params.get("model") or {}).get("scoring", "dot") == "cosine" or "model.scoring" in dimensions
    return {name: dim for name, dim in dimensions.items() if name != "model.temperature" or cosine}


def suggest(trial: optuna.Trial, space: Mapping[str, dict]) -> dict[str, dict[str, Any]]:
    """One trial's settings as ``{section: {key: value}}``."""
    settings: dict[str, dict[str, Any]] = {}
    for name, dimension in space.items():
        section, _, key = name.partition(".")
        if "choices" in dimension:
            value = trial.suggest_categorical(name, list(dimension["choices"]))
        elif isinstance(dimension["low"], int) and isinstance(dimension["high"], int):
            value = trial.suggest_int(
                name, dimension["low"], dimension["high"], log=bool(dimension.get("log"))
            )
        else:
            value = trial.suggest_float(
                name, float(dimension["low"]), float(dimension["high"]), log=bool(dimension.get("log"))
            )
        settings.setdefault(section, {})[key] = value
    return settings


def tune_variant(
    variant: str,
    data: UserSequences,
    params: Mapping[str, Any],
    side_input: Any,
    settings: TuningSettings,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Search ``variant``'s settings on validation NDCG@10; returns the trials table and the best settings.

    ``params`` is ``params:recommender`` (the variant's current settings are the starting point: a search
    dimension overrides them, everything else stays). With ``settings.storage`` finished trials are kept, so
    an interrupted search resumes where it stopped (the study is named after the variant).
    """
    base = variant_params(params, variant)
    if settings.storage and settings.storage.startswith("sqlite:///"):
        Path(settings.storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    space = applicable_space(settings.dimensions, base)
    sampler = optuna.samplers.TPESampler(seed=settings.sampler_seed)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=settings.pruning_warmup_epochs)
    study = optuna.create_study(
        study_name=f"momorec-{variant}",
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
        storage=settings.storage,
        load_if_exists=settings.storage is not None,
    )
    torch.set_num_threads(int((params.get("runtime") or {}).get("num_threads", 1)))

    def objective(trial: optuna.Trial) -> float:
        chosen = suggest(trial, space)
        trial_params = {
            **base,
            "model": {**base["model"], **chosen.get("model", {})},
            "training": {**base["training"], **chosen.get("training", {}), **settings.training_overrides},
        }
        model = build_model(variant, data, trial_params, side_input, settings.training_seed)

        def report(record: dict) -> None:
            if "valid_ndcg_at_10" in record:
                trial.report(record["valid_ndcg_at_10"], record["epoch"])
                if trial.should_prune():
                    raise optuna.TrialPruned()

        result = fit(
            model, data, TrainingConfig.from_params(trial_params, settings.training_seed), on_epoch=report
        )
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("epochs", len(result.history))
        return float(result.best_valid_ndcg_at_10)

    remaining = settings.trials - sum(1 for t in study.trials if t.state.is_finished())
    if remaining > 0:
        study.optimize(objective, n_trials=remaining, catch=())
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not finished:
        raise RuntimeError(f"tuning {variant}: no trial completed (all {len(study.trials)} pruned or failed)")
    trials = trials_table(variant, study)
    best = study.best_trial
    logger.info("tuning %s: best validation NDCG@10 %.4f with %s", variant, best.value, best.params)
    return trials, _nested(best.params)


def trials_table(variant: str, study: optuna.Study) -> pd.DataFrame:
    """One row per trial: variant, number, state, validation NDCG@10 (NaN if pruned), epochs, each setting."""
    rows = []
    for trial in study.trials:
        value = trial.value if trial.value is not None else math.nan
        if trial.state == optuna.trial.TrialState.PRUNED:
            value = math.nan  # Optuna keeps a pruned curve's last point as its value: not a result
        rows.append(
            {
                "variant": variant,
                "trial": trial.number,
                "state": trial.state.name.lower(),
                "valid_ndcg_at_10": value,
                "epochs": trial.user_attrs.get("epochs", len(trial.intermediate_values)),
                **trial.params,
            }
        )
    return pd.DataFrame(rows)


def _nested(flat: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = {}
    for name, value in flat.items():
        section, _, key = name.partition(".")
        nested.setdefault(section, {})[key] = value
    return nested
