"""The registered model's run for the report: curves as kedro-mlflow loads them, the registry lookup, bad input."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient

from momorec.reporting.training_run import (
    describe_training_run,
    normalise_curves,
    registered_validation_score,
    run_timing,
    validation_scores,
)


def test_curves_as_kedro_mlflow_loads_them_become_what_the_node_saved():
    loaded = {
        "recommender_curve.sasrec.seed_0.valid_ndcg_at_10": [
            {"step": 0, "value": 0.1},
            {"step": 1, "value": 0.2},
        ],
        "recommender_curve.sasrec.seed_1.valid_ndcg_at_10": {"step": 0, "value": 0.3},  # one point: a dict
    }
    curves = normalise_curves(loaded)
    assert curves == {
        "sasrec.seed_0.valid_ndcg_at_10": [{"step": 0, "value": 0.1}, {"step": 1, "value": 0.2}],
        "sasrec.seed_1.valid_ndcg_at_10": [{"step": 0, "value": 0.3}],
    }
    scores = validation_scores(curves)
    assert scores.loc["sasrec", "mean"] == pytest.approx(0.25)  # best epoch of each seed: 0.2 and 0.3
    assert scores.loc["sasrec", "n_seeds"] == 2
    with pytest.raises(ValueError, match="neither a point nor a list"):
        normalise_curves({"recommender_curve.sasrec.seed_0.loss": 1.0})


def test_no_curves_give_an_empty_score_table():
    assert validation_scores({}).empty
    assert validation_scores({"sasrec.seed_0.loss": [{"value": 1.0, "step": 0}]}).empty


@pytest.fixture
def client(tmp_path):
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    yield MlflowClient()
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


def test_an_entry_without_its_keys_is_an_error(client):
    with pytest.raises(ValueError, match="has no 'logged'"):
        describe_training_run({"variant": "sasrec", "registered_model_name": "m"}, {}, client)


def test_an_unregistered_model_and_a_missing_version_are_reported_not_invented(client):
    entry = {"variant": "sasrec", "registered_model_name": "nowhere", "logged": False}
    facts = describe_training_run(entry, {}, client)
    assert facts["version"] is None and facts["run"] is None and facts["curves"] == {}
    assert any("not registered" in p for p in facts["problems"])
    assert any("no training curves" in p for p in facts["problems"])
    facts = describe_training_run({**entry, "logged": True, "version": 7}, {}, client)
    assert facts["problems"][0] == "model `nowhere` version 7 not found in the MLflow registry"


def test_the_active_run_is_timed_up_to_now_and_its_own_curves_are_used(client, tmp_path):
    experiment = mlflow.create_experiment("t", artifact_location=str(tmp_path / "mlruns"))
    with mlflow.start_run(experiment_id=experiment) as run:
        timing = run_timing(client, run.info.run_id, now_ms=run.info.start_time + 90_500)
        assert timing["in_progress"] and timing["ended"] is None and timing["wall_seconds"] == 90.5
        curves = {"recommender_curve.momorec.seed_0.valid_ndcg_at_10": [{"step": 0, "value": 0.2}]}
        entry = {"variant": "momorec", "registered_model_name": "m", "logged": False}
        facts = describe_training_run(entry, curves, client)
        assert facts["run"]["run_id"] == run.info.run_id and facts["run"]["in_progress"]
        assert facts["curves"] == {"momorec.seed_0.valid_ndcg_at_10": [{"step": 0, "value": 0.2}]}
        assert "curves_from_run" not in facts
    finished = run_timing(client, run.info.run_id)
    assert not finished["in_progress"] and finished["ended"].endswith("UTC")


def test_the_validation_score_comes_from_the_registry_else_from_the_same_variants_selection():
    facts = {"entry": {"variant": "momorec"}, "version": {"tags": {"mean_valid_ndcg_at_10": "0.25"}}}
    assert registered_validation_score(facts, {"variant": "momorec", "mean_valid_ndcg_at_10": 0.1}) == 0.25
    unregistered = {"entry": {"variant": "momorec"}, "version": None}
    assert (
        registered_validation_score(unregistered, {"variant": "momorec", "mean_valid_ndcg_at_10": 0.1}) == 0.1
    )
    assert (
        registered_validation_score(unregistered, {"variant": "sasrec", "mean_valid_ndcg_at_10": 0.1}) is None
    )
    assert registered_validation_score(unregistered, {}) is None
