"""The best model goes to the MLflow model registry and comes back able to score a user."""

from __future__ import annotations

import mlflow
import mlflow.pytorch
import pandas as pd
import pytest
import torch

from momorec.data.sequences import build_user_sequences
from momorec.models.experiment import train_and_evaluate_variant
from momorec.models.registry import register_best_model
from tests.pipelines.recommender.conftest import recommender_inputs


@pytest.mark.slow
def test_registered_model_loads_back_and_scores_a_user(tmp_path, parameters):

    inputs = recommender_inputs(n_users=30)
    data = build_user_sequences(inputs["interactions"], inputs["items"])
    parameters["seeds"] = [0]
    outcome = train_and_evaluate_variant(
        data, inputs["item_stats"], inputs["item_semantic_ids"], parameters, "momorec"
    )

    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        experiment = mlflow.create_experiment(
            "recommender-test", artifact_location=(tmp_path / "artifacts").as_uri()
        )
        with mlflow.start_run(experiment_id=experiment):
            model, info = register_best_model(parameters, outcome)
        assert info["logged"] is True and info["version"] == 1 and info["variant"] == "momorec"
        loaded = mlflow.pytorch.load_model(f"models:/{info['registered_model_name']}/1")
        _, user_inputs, _ = data.evaluation_inputs("test", parameters["model"]["max_length"])
        sequence = torch.as_tensor(user_inputs[:1])
        with torch.no_grad():
            scores = loaded.eval().score_all(sequence)
            expected = model.eval().score_all(sequence)
        assert scores.shape == (1, data.n_items) and torch.allclose(scores, expected, atol=1e-6)
        # The semantic-ID table the model needs travels with it.
        folder = mlflow.artifacts.download_artifacts(
            f"models:/{info['registered_model_name']}/1", dst_path=str(tmp_path / "dl")
        )
        table = pd.read_parquet(next((tmp_path / "dl").rglob("semantic_ids.parquet")))
        assert folder and table.equals(inputs["item_semantic_ids"])
    finally:
        mlflow.set_tracking_uri(previous_uri)
