"""The recommender pipeline on an in-memory catalog: a tiny log, 1 epoch, tiny dimensions."""

from __future__ import annotations

import numpy as np
import pytest

from momorec.evaluation.results import RESULT_COLUMNS
from momorec.models.variants import VARIANT_SPECS
from momorec.pipelines.recommender.pipeline import create_pipeline
from tests.pipelines.recommender.conftest import recommender_inputs, run_in_memory


@pytest.mark.slow
def test_whole_pipeline_reports_every_variant_over_three_seeds(parameters):
    outputs = run_in_memory(create_pipeline(), recommender_inputs(), parameters)
    results = outputs["recommender_results"]
    assert list(results.columns) == RESULT_COLUMNS
    assert set(results["variant"]) == set(VARIANT_SPECS)
    assert (results["n_seeds"] == 3).all()
    assert set(results["segment"]) == {
        "all",
        "long_tail_target",
        "head_target",
        "cold_start_users",
        "warm_users",
    }
    assert set(results["metric"]) == {"recall", "mrr", "ndcg", "precision"} and set(results["k"]) == {10, 20}
    assert set(results["history_masked"]) == {True, False}
    assert results.loc[results["is_canary"], "variant"].unique().tolist() == ["leak_canary"]
    assert results["mean"].between(0, 1).all() and (results["std"] >= 0).all()
    # most popular is deterministic: no spread over seeds
    assert np.allclose(results.loc[results["variant"] == "most_popular", "std"], 0)

    efficiency = outputs["recommender_efficiency"]
    assert set(efficiency["variant"]) == set(VARIANT_SPECS)
    assert (efficiency["inference_seconds_per_1000_users"] > 0).all()
    params = efficiency.set_index("variant")["parameters"]
    assert params["most_popular"] == 0 and params["momorec"] > params["sasrec"] > 0

    metrics = outputs["recommender_metrics"]
    assert "sasrec.test.masked.all.recall_at_10" in metrics
    curves = outputs["recommender_training_curves"]
    assert curves["sasrec.seed_0.valid_ndcg_at_10"][0]["step"] == 0
    info = outputs["recommender_best_model_info"]
    # Registration is its own node now (momorec.serving, tested in tests/serving): this only checks the choice.
    assert info["variant"] != "leak_canary"
    assert outputs["recommender_best_model"].score_all is not None


def test_variants_switched_off_in_parameters_are_skipped(parameters):
    parameters["variants"] = ["sasrec", "most_popular"]
    outputs = run_in_memory(create_pipeline(), recommender_inputs(), parameters)
    assert set(outputs["recommender_results"]["variant"]) == {"sasrec", "most_popular"}
    per_seed = outputs["recommender_results_per_seed"]
    assert set(per_seed["variant"]) == {"sasrec", "most_popular"} and set(per_seed["seed"]) == {0, 1, 2}
    means = per_seed.groupby(["variant", "history_masked", "segment", "metric", "k"])["value"].mean()
    summary = outputs["recommender_results"].set_index(
        ["variant", "history_masked", "segment", "metric", "k"]
    )
    assert np.allclose(means.loc[summary.index], summary["mean"])


def test_pipeline_built_for_a_subset_needs_only_its_inputs(parameters):
    pipeline = create_pipeline(variants=["sasrec", "momorec"])
    assert "leak_canary_item_semantic_ids" not in pipeline.inputs()
    inputs = {k: v for k, v in recommender_inputs().items() if k in pipeline.inputs()}
    outputs = run_in_memory(pipeline, inputs, parameters)
    assert set(outputs["recommender_results"]["variant"]) == {"sasrec", "momorec"}


def test_slice_from_sequences_to_one_variant(parameters):
    pipeline = (
        create_pipeline().from_nodes("build_recommender_user_sequences").to_nodes("train_and_evaluate_sasrec")
    )
    assert len(pipeline.nodes) == 2
    inputs = {k: v for k, v in recommender_inputs().items() if k in pipeline.inputs()}
    outcome = run_in_memory(pipeline, inputs, parameters)["recommender_outcome_sasrec"]
    assert outcome["variant"] == "sasrec" and sorted(outcome["valid_ndcg_at_10"]) == [0, 1, 2]


def test_variants_argument_restricts_the_graph():
    pipeline = create_pipeline(variants=["sasrec", "most_popular"])
    assert {n.name for n in pipeline.nodes if n.name.startswith("train_")} == {
        "train_and_evaluate_sasrec",
        "train_and_evaluate_most_popular",
    }
    assert not any(name.endswith("semantic_ids") for name in pipeline.inputs())
    with pytest.raises(ValueError, match="bert4rec"):
        create_pipeline(variants=["sasrec", "bert4rec"])


def test_a_variant_with_two_inputs_gets_both_and_keeps_its_semantic_ids_for_the_registry(parameters):
    pipeline = create_pipeline(variants=["momorec_adaptor_codes"])
    assert {"item_text_embeddings", "item_semantic_ids"} <= pipeline.inputs()
    node = next(n for n in pipeline.nodes if n.name == "train_and_evaluate_momorec_adaptor_codes")
    assert node.inputs[2:4] == ["item_text_embeddings", "item_semantic_ids"]
    parameters["variants"] = ["momorec_adaptor_codes"]
    inputs = {k: v for k, v in recommender_inputs().items() if k in pipeline.inputs()}
    outcome = run_in_memory(pipeline, inputs, parameters)["recommender_outcome_momorec_adaptor_codes"]
    assert sorted(outcome["valid_ndcg_at_10"]) == [0, 1, 2]
    # The registry packages the code table with the model: the outcome carries the table, not the tuple.
    assert outcome["semantic_ids"] is inputs["item_semantic_ids"]
    assert type(outcome["best_model"]).__name__ == "AdaptorCodeFusion"
