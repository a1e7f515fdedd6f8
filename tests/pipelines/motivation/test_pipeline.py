"""The whole motivation pipeline against the fake OpenAI-compatible server (real client, real HTTP)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import ParquetDataset

from momorec.io.llm_cache import LLMCacheDataset
from momorec.pipelines.motivation import create_pipeline

OUTPUTS = ["agent_answers", "pair_motivations", "item_motivations", "agent_leaderboard", "arena_judgments",
           "arena_leaderboards"]  # fmt: skip
PAIR_MOTIVATION_COLUMNS = ["item_a", "item_b", "support", "motivation", "agent", "status"]
LEADERBOARD_COLUMNS = ["judge", "mode", "agent", "rating", "ci_low", "ci_high", "elo", "wins", "losses", "ties",
                       "comparisons", "ok_fraction"]  # fmt: skip


def _catalog(tmp_path, items, copurchase_pairs, item_true_motivations, params, interactions) -> DataCatalog:
    return DataCatalog(
        {
            "copurchase_pairs": MemoryDataset(copurchase_pairs),
            "items": MemoryDataset(items),
            "interactions": MemoryDataset(interactions),
            "params:data_engineering": MemoryDataset({"pair_window": 2, "min_support": 1, "max_pairs": None}),
            "llm_estimate": JSONDataset(filepath=str(tmp_path / "llm_estimate.json")),
            "item_true_motivations": MemoryDataset(item_true_motivations),
            "params:motivation": MemoryDataset(params),
            "params:motivation.max_pairs": MemoryDataset(params["max_pairs"]),
            "params:motivation.max_pairs_share": MemoryDataset(None),
            "llm_cache": LLMCacheDataset(filepath=str(tmp_path / "llm_cache.sqlite")),
            "llm_usage": JSONDataset(filepath=str(tmp_path / "llm_usage.json")),
            "motivation_quality": JSONDataset(filepath=str(tmp_path / "motivation_quality.json")),
            "judge_accuracy": JSONDataset(filepath=str(tmp_path / "judge_accuracy.json")),
            "llm_usage_metrics": JSONDataset(filepath=str(tmp_path / "llm_usage_metrics.json")),
            # Files rather than memory: the runner releases memory datasets once their consumers ran.
            **{name: ParquetDataset(filepath=str(tmp_path / f"{name}.parquet")) for name in OUTPUTS},
        }
    )


def test_pipeline_produces_the_contract_outputs_and_reruns_without_calls(
    tmp_path,
    items,
    copurchase_pairs,
    item_true_motivations,
    motivation_params,
    fake_server,
    monkeypatch,
    interactions,
):
    monkeypatch.setenv("MOMOREC_LLM_API_KEY", "sk-pipeline-secret")
    motivation_params["judge"]["also_ask_llm"] = True  # every judge, as a judge-accuracy study runs it
    catalog = _catalog(
        tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, interactions
    )
    SequentialRunner().run(create_pipeline(), catalog)

    answers = catalog.load("agent_answers")
    assert answers.columns.tolist()[:6] == ["item_a", "item_b", "agent", "answer", "motivation", "status"]
    # Three agents on the 2 arena pairs, then only the top agent's 2 missing pairs.
    assert len(answers) == 3 * 2 + 2
    pair_motivations = catalog.load("pair_motivations")
    assert pair_motivations.columns.tolist() == PAIR_MOTIVATION_COLUMNS
    assert len(pair_motivations) == 4 and (pair_motivations["status"] == "ok").all()
    assert pair_motivations["support"].tolist() == [9, 7, 7, 3]
    board = catalog.load("agent_leaderboard")
    assert board.columns.tolist() == LEADERBOARD_COLUMNS
    assert board["comparisons"].tolist() == [4, 4, 4]  # two rivals per arena pair
    assert board["judge"].unique().tolist() == ["grounding"]  # motivation.judge.mode
    boards = catalog.load("arena_leaderboards")
    # The fake server sends no log-probabilities: the LLM judge falls back to verdicts and says so.
    assert boards.loc[boards["judge"] == "llm", "mode"].unique().tolist() == ["verdicts"]
    accuracy = catalog.load("judge_accuracy")
    assert set(accuracy["judges"]) == {"llm", "grounding", "combined"}
    assert accuracy["position_bias"]["share_a_order1"] == 1.0  # the fake judge always answers "A"
    assert pair_motivations["agent"].unique().tolist() == [board["agent"].iloc[0]]
    item_motivations = catalog.load("item_motivations")
    assert item_motivations.columns.tolist() == ["item_idx", "motivation", "support"]
    assert set(item_motivations["item_idx"]) == {0, 1, 2, 3, 4, 5}

    usage = json.loads((tmp_path / "llm_usage.json").read_text())
    # arena: 3 agents x 2 pairs x (generation + summary); judge: 3 agent pairs x 2 pairs x 2 orders;
    # top agent: 2 x 2.
    assert (usage["calls"], usage["cache_hits"], usage["failures"]) == (12 + 12 + 4, 0, 0)
    assert fake_server.n_requests == 28
    metrics = catalog.load("llm_usage_metrics")
    assert metrics["calls"]["value"] == 28.0
    quality = json.loads((tmp_path / "motivation_quality.json").read_text())
    assert quality["pairs_with_motivation"] == 4 and quality["fraction_sharing_true_motivation"] is not None

    # Second run over the same cache: zero calls, identical motivations.
    rerun = _catalog(
        tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, interactions
    )
    SequentialRunner().run(create_pipeline(), rerun)
    usage_again = json.loads((tmp_path / "llm_usage.json").read_text())
    assert (usage_again["calls"], usage_again["cache_hits"]) == (0, 28)
    assert fake_server.n_requests == 28
    pd.testing.assert_frame_equal(rerun.load("pair_motivations"), pair_motivations)

    written = (tmp_path / "llm_usage.json").read_text() + (tmp_path / "llm_cache.sqlite").read_bytes().decode(
        "latin-1"
    )
    assert "sk-pipeline-secret" not in written


def test_grounding_mode_asks_no_llm_judge_by_default(
    tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, fake_server, interactions
):
    assert motivation_params["judge"]["mode"] == "grounding"  # the shipped defaults
    assert motivation_params["judge"]["also_ask_llm"] is False
    catalog = _catalog(
        tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, interactions
    )
    SequentialRunner().run(create_pipeline(), catalog)

    usage = json.loads((tmp_path / "llm_usage.json").read_text())
    assert usage["calls"] == 12 + 4 and fake_server.n_requests == 16  # arena agents and top agent only
    boards = catalog.load("arena_leaderboards")
    assert boards["judge"].unique().tolist() == ["grounding"]
    assert catalog.load("agent_leaderboard")["comparisons"].tolist() == [4, 4, 4]
    judgments = catalog.load("arena_judgments")
    assert judgments["verdict_a_shown_first"].isna().all()
    assert judgments["error"].str.startswith("LLM judge not asked").all()
    accuracy = catalog.load("judge_accuracy")
    assert set(accuracy["judges"]) == {"grounding"}
    assert accuracy["position_bias"]["verdicts_order1"] == 0
    assert (catalog.load("pair_motivations")["status"] == "ok").all()


def test_failed_calls_are_retried_on_the_next_run(
    tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, fake_server, interactions
):
    from momorec.llm.testing import Action

    motivation_params["client"]["max_retries"] = 0
    fake_server.queue(Action(status=400))  # the first generation fails for good in this run
    catalog = _catalog(
        tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, interactions
    )
    SequentialRunner().run(create_pipeline(), catalog)
    first = catalog.load("agent_answers")
    assert (first["status"] == "failed").sum() == 1
    assert json.loads((tmp_path / "llm_usage.json").read_text())["failures"] == 1

    rerun = _catalog(
        tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, interactions
    )
    SequentialRunner().run(create_pipeline(), rerun)
    usage = json.loads((tmp_path / "llm_usage.json").read_text())
    assert (rerun.load("agent_answers")["status"] == "ok").all()
    # Only what was missing is asked: the failed generation and its summary, plus what depends on them
    # (the judge for that arena pair and, if the leaderboard changed, the new top agent's pairs).
    assert usage["failures"] == 0 and 2 <= usage["calls"] < 28
    assert usage["cache_hits"] > 0


@pytest.mark.parametrize("analysis", ["two_step", "direct"])
def test_calls_per_pair_follow_the_analysis_mode(
    tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, fake_server, interactions,
    analysis,
):  # fmt: skip
    motivation_params["analysis"] = analysis
    catalog = _catalog(
        tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, interactions
    )
    SequentialRunner().run(create_pipeline(), catalog)
    calls_per_pair = 2 if analysis == "two_step" else 1
    usage = json.loads((tmp_path / "llm_usage.json").read_text())
    # Three agents on the 2 arena pairs, then the top agent on the 2 others.
    assert usage["calls"] == fake_server.n_requests == calls_per_pair * (3 * 2 + 2)
    pair_motivations = catalog.load("pair_motivations")
    assert len(pair_motivations) == 4 and (pair_motivations["status"] == "ok").all()
    answers = catalog.load("agent_answers")
    assert (answers["answer"] == answers["motivation"]).all() == (analysis == "direct")
