"""The alignment pipeline on an in-memory catalog (fake LLM server, tiny SASRec), and its wiring guarantees."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import ParquetDataset

from momorec.io.llm_cache import LLMCacheDataset
from momorec.llm.errors import LLMDryRun
from momorec.pipelines.alignment import create_pipeline
from momorec.pipelines.alignment.nodes import RERANK_VARIANTS
from tests.pipelines.alignment.conftest import TINY_RECOMMENDER

# Intermediate outputs the tests read back: Parquet files (the runner releases consumed memory datasets).
KEPT = ["recommender_candidates", "item_traits", "user_motivation_profiles", "alignment_results",
        "alignment_fusion_weights", "alignment_llm_cost"]  # fmt: skip


def _catalog(tiny_log, params, folder) -> DataCatalog:
    kept = {name: ParquetDataset(filepath=str(folder / f"{name}.parquet")) for name in KEPT}
    return DataCatalog(
        {
            **{name: MemoryDataset(value) for name, value in tiny_log.items()},
            # The LLM layer's cache dataset, shared by both runs of a test (same file).
            "llm_cache": LLMCacheDataset(filepath=str(folder.parent / "llm_cache.sqlite")),
            "params:alignment": MemoryDataset(params),
            "params:recommender": MemoryDataset(TINY_RECOMMENDER),
            "alignment_llm_estimate": JSONDataset(filepath=str(folder / "alignment_llm_estimate.json")),
            **kept,
        }
    )


def test_wiring_keeps_held_out_labels_away_from_profiles_and_weight_selection():
    pipeline = create_pipeline()
    nodes = {node.name: node for node in pipeline.nodes}
    # Profile prompts read the training prefix; `alignment_users` carries user ids and prefix lengths only
    # (its node reads `interactions` to know which users have held-out rows and to cut simulated cold-start
    # prefixes, and passes the held-out rows through untouched).
    assert "interactions" not in nodes["build_profile_prompts"].inputs
    assert "alignment_train_interactions" in nodes["build_profile_prompts"].inputs
    assert nodes["generate_user_profiles"].inputs == [
        "alignment_profile_prompts",
        "alignment_llm_estimate",  # the estimate is written before the first request (a dry run stops there)
        "llm_cache",
        "params:alignment",
    ]
    assert "alignment_test_targets" not in nodes["select_fusion_weights"].inputs
    readers = [node.name for node in pipeline.nodes if "alignment_test_targets" in node.inputs]
    assert readers == ["evaluate_reranking"]
    with pytest.raises(ValueError, match="base_variant"):
        create_pipeline(base_variant="bert4rec")
    assert "item_semantic_ids" in create_pipeline(base_variant="momorec").inputs()


def test_profile_slice_runs_on_the_fake_server(tiny_log, alignment_params, fake_llm, tmp_path):
    server, llm_params = fake_llm
    alignment_params["llm"] = llm_params
    (tmp_path / "run").mkdir()
    catalog = _catalog(tiny_log, alignment_params, tmp_path / "run")
    pipeline = create_pipeline().from_nodes("select_alignment_users").to_nodes("generate_user_profiles")
    SequentialRunner().run(pipeline, catalog)
    profiles = catalog["user_motivation_profiles"].load()
    assert len(profiles) == 8 and (profiles["status"] == "ok").all()
    assert profiles["profile_text"].str.startswith("Motivations: enjoys").all()
    assert catalog["alignment_profile_usage"].load()["calls"] == 8 == server.n_requests


@pytest.mark.slow
def test_whole_pipeline_runs_and_reports_every_variant(tiny_log, alignment_params, fake_llm, tmp_path):
    server, llm_params = fake_llm
    alignment_params["llm"] = llm_params
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    catalog = _catalog(tiny_log, alignment_params, tmp_path / "first")
    SequentialRunner().run(create_pipeline(), catalog)

    candidates = catalog["recommender_candidates"].load()
    traits = catalog["item_traits"].load()
    assert set(traits["item_idx"]) == set(candidates["item_idx"])  # traits only for candidate items

    results = catalog["alignment_results"].load()
    assert set(results["variant"]) == {"base", *RERANK_VARIANTS}
    assert (results["n_seeds"] == 2).all()
    assert results.query("segment == 'all'")["n_users"].eq(8).all()
    assert results.query("segment == 'llm_rated_users'")["n_users"].eq(3).all()

    weights = catalog["alignment_fusion_weights"].load()
    assert weights["fusion_weight"].between(0, 1).all()
    cost = catalog["alignment_llm_cost"].load().set_index("stage")
    assert cost.loc["profiles", "requests"] == 8
    assert cost.loc["compatibility", "requests"] == 3 * 2 * 2  # budgeted users x splits x seeds
    assert cost.loc["total", "requests"] == server.n_requests
    metrics = catalog["alignment_metrics"].load()
    assert "base.all.ndcg_at_10" in metrics and "cost.requests_per_1000_users" in metrics

    # A second run is served from the LLM cache: no new request reaches the server.
    before = server.n_requests
    catalog_again = _catalog(tiny_log, alignment_params, tmp_path / "second")
    SequentialRunner().run(create_pipeline(), catalog_again)
    assert server.n_requests == before
    pd.testing.assert_frame_equal(catalog_again["alignment_results"].load(), results)


def test_the_dry_run_makes_no_request_and_its_call_count_is_within_10_percent_of_the_real_run(
    tiny_log, alignment_params, fake_llm, tmp_path
):
    server, llm_params = fake_llm
    alignment_params["llm"] = llm_params
    (tmp_path / "run").mkdir()
    pipeline = create_pipeline().to_nodes("score_llm_compatibility")
    with pytest.raises(LLMDryRun, match="no LLM request was made"):
        SequentialRunner().run(
            pipeline, _catalog(tiny_log, {**alignment_params, "dry_run": True}, tmp_path / "run")
        )
    assert server.n_requests == 0
    assert not (tmp_path / "run" / "user_motivation_profiles.parquet").exists()
    assert not (tmp_path / "run" / "item_traits.parquet").exists()
    estimate = json.loads((tmp_path / "run" / "alignment_llm_estimate.json").read_text())
    assert set(estimate["parts"]) == {"profiles", "traits", "compatibility"}

    catalog = _catalog(tiny_log, alignment_params, tmp_path / "run")
    SequentialRunner().run(pipeline, catalog)
    usage = {
        "profiles": catalog["alignment_profile_usage"].load(),
        "traits": catalog["alignment_trait_usage"].load(),
        "compatibility": catalog["alignment_compatibility_usage"].load(),
    }
    real_calls = sum(u["calls"] for u in usage.values())
    assert real_calls == server.n_requests and all(u["failures"] == 0 for u in usage.values())
    assert abs(estimate["total"]["calls"] - real_calls) <= 0.1 * real_calls
    for part, numbers in estimate["parts"].items():
        assert abs(numbers["calls"] - usage[part]["calls"]) <= 0.1 * usage[part]["calls"]
