"""The fair hyperparameter search (momorec.tuning.search) and the per-variant settings it produces."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import momorec.models.trainer as trainer
from momorec.models.variants import build_model, variant_params
from momorec.tuning.search import TuningSettings, applicable_space, tune_variant
from tests.pipelines.recommender.conftest import TINY_PARAMETERS

SPACE = {
    "model": {"dropout": {"low": 0.0, "high": 0.5}, "temperature": {"low": 0.05, "high": 0.5, "log": True}},
    "training": {"learning_rate": {"low": 0.001, "high": 0.05, "log": True}},
}


def tiny_params(**model):
    params = copy.deepcopy(TINY_PARAMETERS)
    params["training"].update(epochs=3, patience=3)
    params["model"].update(model)
    return params


def test_a_search_runs_its_budget_on_validation_only(sequences, monkeypatch):
    splits = []
    evaluate = trainer.evaluate_split
    monkeypatch.setattr(
        trainer,
        "evaluate_split",
        lambda score, data, split, *a, **k: splits.append(split) or evaluate(score, data, split, *a, **k),
    )
    settings = TuningSettings(trials=4, space=SPACE, pruning_warmup_epochs=1)
    trials, best = tune_variant("sasrec", sequences, tiny_params(scoring="cosine"), None, settings)
    assert len(trials) == 4 and set(trials["state"]) <= {"complete", "pruned"}
    assert set(splits) == {"valid"}  # the test split is never scored while tuning
    assert 0.0 <= best["model"]["dropout"] <= 0.5 and 0.05 <= best["model"]["temperature"] <= 0.5
    completed = trials[trials["state"] == "complete"]
    # A pruned trial's last curve point is not a result: only completed trials carry a value.
    assert trials.loc[trials["state"] == "pruned", "valid_ndcg_at_10"].isna().all()
    assert np.isfinite(completed["valid_ndcg_at_10"]).all()
    chosen = completed.loc[completed["valid_ndcg_at_10"].idxmax()]
    assert best["training"]["learning_rate"] == chosen["training.learning_rate"]
    assert best["model"]["dropout"] == chosen["model.dropout"]


def test_the_same_seed_proposes_the_same_trials(sequences):
    settings = TuningSettings(trials=2, space=SPACE)
    first, _ = tune_variant("sasrec", sequences, tiny_params(), None, settings)
    second, _ = tune_variant("sasrec", sequences, tiny_params(), None, settings)
    assert first.drop(columns=["valid_ndcg_at_10"]).equals(second.drop(columns=["valid_ndcg_at_10"]))


def test_a_dot_product_model_spends_no_trial_on_the_temperature(sequences):
    trials, best = tune_variant(
        "sasrec", sequences, tiny_params(), None, TuningSettings(trials=1, space=SPACE)
    )
    assert "model.temperature" not in trials.columns and "temperature" not in best["model"]
    assert "model.temperature" in applicable_space(
        TuningSettings(space=SPACE).dimensions, tiny_params(scoring="cosine")
    )


def test_an_interrupted_search_resumes_from_its_storage(sequences, tmp_path):
    storage = f"sqlite:///{tmp_path}/studies/optuna.sqlite"
    tune_variant(
        "sasrec", sequences, tiny_params(), None, TuningSettings(trials=2, space=SPACE, storage=storage)
    )
    trials, _ = tune_variant(
        "sasrec", sequences, tiny_params(), None, TuningSettings(trials=3, space=SPACE, storage=storage)
    )
    assert list(trials["trial"]) == [0, 1, 2]  # two kept, one new


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({}, "empty"),
        ({"runtime": {"device": {"choices": ["cpu"]}}}, "unknown section"),
        ({"model": {"dropout": {"low": 0.5, "high": 0.1}}}, "low must be < high"),
        ({"model": {"dropout": {"low": 0.1}}}, "choices, or low and high"),
        ({"model": {"dropout": 0.3}}, "expected a mapping"),
    ],
)
def test_bad_search_spaces_are_rejected(space, message):
    with pytest.raises(ValueError, match=message):
        TuningSettings(space=space)


def test_settings_from_params_reject_unknown_keys_and_flatten_the_space():
    settings = TuningSettings.from_params({"variants": ["sasrec"], "trials": 3, "space": SPACE})
    assert set(settings.dimensions) == {"model.dropout", "model.temperature", "training.learning_rate"}
    with pytest.raises(ValueError, match="unknown key"):
        TuningSettings.from_params({"trials": 3, "space": SPACE, "budget": 5})
    with pytest.raises(ValueError, match="trials"):
        TuningSettings(trials=0, space=SPACE)


def test_variant_settings_override_the_shared_ones_for_that_variant_only(sequences):
    params = tiny_params()
    params["variant_settings"] = {
        "sasrec": {"model": {"hidden_size": 12}, "training": {"learning_rate": 0.002}}
    }
    merged = variant_params(params, "sasrec")
    assert merged["model"]["hidden_size"] == 12 and merged["model"]["n_blocks"] == 1
    assert merged["training"]["learning_rate"] == 0.002 and params["training"]["learning_rate"] == 0.01
    assert variant_params(params, "momorec")["model"]["hidden_size"] == 8
    assert build_model("sasrec", sequences, merged).hidden_size == 12
    params["variant_settings"] = {"sasrec": {"runtime": {"device": "cuda"}}}
    with pytest.raises(ValueError, match="unknown section"):
        variant_params(params, "sasrec")
