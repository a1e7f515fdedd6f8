from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from momorec.clustering.semantic_ids import empty_code_table
from momorec.data.sequences import build_user_sequences
from momorec.evaluation.results import PER_SEED_COLUMNS, per_seed_results, summarise_results
from momorec.models.experiment import train_and_evaluate_variant
from momorec.models.registry import register_best_model, select_best_model
from momorec.pipelines.recommender.nodes import results_to_mlflow_metrics, training_curves
from tests.pipelines.recommender.conftest import recommender_inputs


@pytest.fixture
def inputs():
    return recommender_inputs(n_users=30)


@pytest.fixture
def user_sequences(inputs):
    return build_user_sequences(inputs["interactions"], inputs["items"])


def test_switched_off_variant_is_skipped_without_training(inputs, user_sequences, parameters):
    parameters["variants"] = ["sasrec"]
    outcome = train_and_evaluate_variant(user_sequences, inputs["item_stats"], None, parameters, "momorec")
    assert outcome["skipped"] is True and "rows" not in outcome


def test_oracle_variant_is_skipped_without_ground_truth_and_trains_with_it(
    inputs, user_sequences, parameters, caplog
):
    parameters.update(variants=["momorec_oracle"], seeds=[0])
    without_truth = empty_code_table(2)  # oracle_item_semantic_ids of a data set without ground truth
    with caplog.at_level("WARNING"):
        skipped = train_and_evaluate_variant(
            user_sequences, inputs["item_stats"], without_truth, parameters, "momorec_oracle"
        )
    assert skipped["skipped"] is True and "rows" not in skipped
    assert "oracle_item_semantic_ids is empty" in caplog.text
    ran = train_and_evaluate_variant(
        user_sequences, inputs["item_stats"], inputs["item_semantic_ids"], parameters, "momorec_oracle"
    )
    assert ran["skipped"] is False and ran["rows"] and ran["is_canary"] is False


def test_unknown_variant_and_missing_input_are_errors(inputs, user_sequences, parameters):
    with pytest.raises(ValueError, match="unknown"):
        train_and_evaluate_variant(user_sequences, inputs["item_stats"], None, parameters, "bert4rec")
    with pytest.raises(ValueError, match="item_semantic_ids"):
        train_and_evaluate_variant(user_sequences, inputs["item_stats"], None, parameters, "momorec")


def test_variant_outcome_has_per_seed_rows_curves_and_efficiency(inputs, user_sequences, parameters):
    parameters["seeds"] = [0, 1]
    outcome = train_and_evaluate_variant(
        user_sequences, inputs["item_stats"], inputs["item_semantic_ids"], parameters, "momorec"
    )
    assert sorted(outcome["curves"]) == [0, 1] and outcome["best_seed"] in (0, 1)
    assert outcome["parameters"] == outcome["best_model"].n_parameters()
    assert outcome["inference_seconds_per_1000_users"] > 0
    rows = pd.DataFrame(outcome["rows"])
    assert set(rows["seed"]) == {0, 1} and set(rows["history_masked"]) == {True, False}
    assert outcome["semantic_ids"] is inputs["item_semantic_ids"]


def _fake_outcome(variant, valid, canary=False, model=None):
    rows = [
        {
            "segment": "all",
            "metric": "recall",
            "k": 10,
            "value": v,
            "n_users": 5,
            "seed": s,
            "history_masked": True,
        }
        for s, v in enumerate(valid)
    ]
    return {
        "variant": variant,
        "is_canary": canary,
        "skipped": False,
        "rows": rows,
        "curves": {0: [{"epoch": 0, "loss": 1.0, "valid_ndcg_at_10": 0.1}]},
        "valid_ndcg_at_10": dict(enumerate(valid)),
        "best_model": model,
        "best_seed": int(np.argmax(valid)),
        "semantic_ids": None,
        "parameters": 10,
        "inference_seconds_per_1000_users": 0.5,
        "train_seconds_per_epoch": 1.0,
    }


def test_summarise_results_mean_and_sample_std_over_seeds():
    results, efficiency = summarise_results(
        _fake_outcome("a", [0.1, 0.2, 0.3]), {"variant": "b", "skipped": True}
    )
    row = results.iloc[0]
    assert row["variant"] == "a" and row["n_seeds"] == 3
    assert row["mean"] == pytest.approx(0.2) and row["std"] == pytest.approx(0.1)
    assert efficiency["variant"].tolist() == ["a"]
    with pytest.raises(ValueError, match="no recommender variant"):
        summarise_results({"variant": "b", "skipped": True})
    metrics = results_to_mlflow_metrics(results)
    assert metrics == {"a.test.masked.all.recall_at_10": {"value": pytest.approx(0.2), "step": 0}}
    assert training_curves(_fake_outcome("a", [0.1]))["a.seed_0.loss"] == [{"value": 1.0, "step": 0}]


def test_per_seed_results_keep_the_numbers_the_summary_averages():
    per_seed = per_seed_results(_fake_outcome("a", [0.1, 0.2, 0.3]), {"variant": "b", "skipped": True})
    assert list(per_seed.columns) == PER_SEED_COLUMNS
    assert per_seed["seed"].tolist() == [0, 1, 2] and per_seed["value"].tolist() == [0.1, 0.2, 0.3]
    assert (per_seed["variant"] == "a").all() and not per_seed["is_canary"].any()
    results, _ = summarise_results(_fake_outcome("a", [0.1, 0.2, 0.3]))
    assert results["mean"].iloc[0] == pytest.approx(per_seed["value"].mean())
    with pytest.raises(ValueError, match="no recommender variant"):
        per_seed_results({"variant": "b", "skipped": True})


def test_best_model_is_chosen_on_validation_and_never_the_canary():
    model = torch.nn.Linear(1, 1)
    winner, summary = select_best_model(
        _fake_outcome("sasrec", [0.1, 0.2], model=model),
        _fake_outcome("momorec", [0.3, 0.1], model=model),
        _fake_outcome("leak_canary", [0.9, 0.9], canary=True, model=model),
        _fake_outcome("most_popular", [0.5, 0.5]),  # no model to register
    )
    assert summary["variant"] == "momorec" and summary["seed"] == 0
    with pytest.raises(ValueError, match="non-canary"):
        select_best_model(_fake_outcome("leak_canary", [0.9], canary=True, model=model))


def test_register_best_model_returns_the_choice(parameters):
    # The registry entry itself is written by the scoring pipeline (tests/serving).
    model = torch.nn.Linear(1, 1)
    returned, info = register_best_model(parameters, _fake_outcome("sasrec", [0.1], model=model))
    assert returned is model and info["registered_model_name"] == "momorec-recommender-test"
