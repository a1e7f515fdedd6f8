"""The layer sweep re-trains MoMoREC per number of ID layers through the recommender's own code."""

from __future__ import annotations

import copy

import pytest

from momorec.data.sequences import build_user_sequences
from momorec.pipelines.layer_sweep import create_pipeline
from momorec.pipelines.layer_sweep.nodes import layer_sweep_metrics, sweep_semantic_id_layers
from tests.pipelines.recommender.conftest import TINY_PARAMETERS, recommender_inputs, run_in_memory


@pytest.fixture(scope="module")
def inputs():
    return recommender_inputs()


def test_sweep_pipeline_gives_one_result_block_per_layer_count(inputs):
    parameters = copy.deepcopy(TINY_PARAMETERS)
    parameters["seeds"] = [0]
    data = {name: inputs[name] for name in ("interactions", "items", "item_stats", "item_semantic_ids")}
    data["params:layer_sweep"] = {"n_layers": None, "seeds": None}
    outputs = run_in_memory(create_pipeline(), data, parameters)
    results = outputs["layer_sweep_results"]
    assert sorted(results["n_layers"].unique()) == [1, 2, 3]  # the fixture's ID table has 3 layers
    assert set(results["variant"]) == {"momorec"}
    assert (results["n_seeds"] == 1).all()
    curve = outputs["layer_sweep_metrics"]
    assert [point["step"] for point in curve["layer_sweep.ndcg_at_10"]] == [1, 2, 3]


def test_models_with_different_layer_counts_differ(inputs):
    """If n_layers_used were ignored, every point of the sweep would be the same model and metric."""
    sequences = build_user_sequences(inputs["interactions"], inputs["items"])
    parameters = copy.deepcopy(TINY_PARAMETERS)
    parameters["seeds"] = [0]
    results = sweep_semantic_id_layers(
        sequences, inputs["item_stats"], inputs["item_semantic_ids"], parameters, {"n_layers": [1, 3]}
    )
    mean_by_layers = results.query("segment == 'all' and metric == 'ndcg' and k == 20 and history_masked")
    assert mean_by_layers.set_index("n_layers")["mean"].nunique() == 2
    assert parameters["semantic_ids"]["n_layers_used"] is None  # the caller's parameters are left alone


def test_sweep_rejects_more_layers_than_the_table_has(inputs):
    sequences = build_user_sequences(inputs["interactions"], inputs["items"])
    with pytest.raises(ValueError, match="outside 1..3"):
        sweep_semantic_id_layers(
            sequences, inputs["item_stats"], inputs["item_semantic_ids"], TINY_PARAMETERS, {"n_layers": [4]}
        )


def test_metrics_only_use_all_users_with_history_masked():
    import pandas as pd

    results = pd.DataFrame(
        {
            "n_layers": [1, 2, 1],
            "segment": ["all", "all", "head"],
            "history_masked": [True, True, True],
            "metric": ["ndcg", "ndcg", "ndcg"],
            "k": [10, 10, 10],
            "mean": [0.1, 0.2, 0.9],
        }
    )
    assert layer_sweep_metrics(results) == {
        "layer_sweep.ndcg_at_10": [{"value": 0.1, "step": 1}, {"value": 0.2, "step": 2}]
    }
