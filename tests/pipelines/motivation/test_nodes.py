"""Unit tests of the motivation nodes on tiny tables."""

from __future__ import annotations

import pandas as pd
import pytest

from momorec.agents.analysis import AnalysisSettings
from momorec.agents.arena import arena_agents
from momorec.agents.pairs import PAIR_COLUMNS
from momorec.llm import LLMCache
from momorec.llm.errors import LLMConfigError
from momorec.pipelines.motivation.nodes import (
    aggregate_item_motivations,
    evaluate_motivation_agreement,
    rank_agents,
    run_arena_agents,
    select_motivation_pairs,
    select_pair_motivations,
    summarise_llm_usage,
)


def test_select_pairs_keeps_the_most_supported_with_item_texts(copurchase_pairs, items):
    selected = select_motivation_pairs(copurchase_pairs.sample(frac=1, random_state=0), items, max_pairs=3)
    assert list(selected.columns) == PAIR_COLUMNS
    assert selected[["item_a", "item_b"]].values.tolist() == [[0, 1], [2, 3], [4, 5]]  # ties by item_a
    assert selected["rank"].tolist() == [0, 1, 2]
    assert selected.loc[0, "title_b"] == "Grill tongs"
    assert pd.isna(selected.loc[2, "category_b"])


def test_select_pairs_takes_a_share_of_the_pairs_or_the_smaller_budget(copurchase_pairs, items):
    share = 2.5 / len(copurchase_pairs)  # rounded up: 3 pairs
    by_share = select_motivation_pairs(copurchase_pairs, items, None, share)
    assert by_share[["item_a", "item_b"]].values.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert len(select_motivation_pairs(copurchase_pairs, items, 2, share)) == 2
    assert len(select_motivation_pairs(copurchase_pairs, items, None, 1.0)) == len(copurchase_pairs)
    with pytest.raises(ValueError, match="max_pairs_share"):
        select_motivation_pairs(copurchase_pairs, items, None, None)


def test_select_pairs_rejects_bad_input(copurchase_pairs, items):
    with pytest.raises(ValueError, match="copurchase_pairs: missing columns"):
        select_motivation_pairs(copurchase_pairs.drop(columns="support"), items, 3)
    with pytest.raises(ValueError, match="absent from items"):
        select_motivation_pairs(copurchase_pairs, items[items["item_idx"] != 5], 5)
    with pytest.raises(ValueError, match="max_pairs"):
        select_motivation_pairs(copurchase_pairs, items, 0)


def test_agents_are_prompt_by_model_and_unknown_prompts_fail(motivation_params):
    assert [agent.name for agent in arena_agents(motivation_params)] == [
        "goal_analyst@smollm2",
        "basket_story@smollm2",
        "use_context@smollm2",
    ]
    # Sampling settings multiply the contenders and change only their generation sampling.
    motivation_params["agents"].update(
        prompts=["goal_analyst"], sampling={"greedy": {"temperature": 0}, "warm": {"temperature": 0.9}}
    )
    agents = arena_agents(motivation_params)
    assert [agent.name for agent in agents] == ["goal_analyst+greedy@smollm2", "goal_analyst+warm@smollm2"]
    base = AnalysisSettings.from_params(motivation_params)
    assert (
        agents[1].settings(base).generation.temperature == 0.9
        and agents[1].settings(base).summary == base.summary
    )
    motivation_params["agents"]["sampling"] = {"odd": {"temprature": 1}}
    with pytest.raises(LLMConfigError, match="temprature"):
        arena_agents(motivation_params)
    motivation_params["agents"]["sampling"] = None
    motivation_params["agents"]["prompts"] = ["no_such_prompt"]
    with pytest.raises(LLMConfigError, match="no_such_prompt"):
        arena_agents(motivation_params)


def _answers(status_by_pair: dict[tuple[int, int], tuple[str | None, str]], agent: str) -> pd.DataFrame:
    rows = [
        {"item_a": a, "item_b": b, "agent": agent, "answer": "x", "motivation": m, "status": s, "error": None}
        for (a, b), (m, s) in status_by_pair.items()
    ]
    return pd.DataFrame(rows)


def _pair_motivations(rows: list[tuple[int, int, int, str | None, str]]) -> pd.DataFrame:
    """A ``pair_motivations`` table of agent "a" from (item_a, item_b, support, motivation, status) rows."""
    table = pd.DataFrame(rows, columns=["item_a", "item_b", "support", "motivation", "status"])
    table.insert(4, "agent", "a")  # the pipeline's column order
    return table


def test_pair_motivations_take_the_top_agent_and_mark_missing_pairs_failed(copurchase_pairs, items):
    pairs = select_motivation_pairs(copurchase_pairs, items, 4)
    leaderboard = pd.DataFrame({"agent": ["top", "other"], "rating": [1010.0, 990.0]})
    answers = pd.concat(
        [
            _answers({(0, 1): ("hosting a barbecue", "ok"), (2, 3): (None, "failed")}, "top"),
            _answers({(0, 1): ("other text", "ok"), (4, 5): ("running", "ok")}, "other"),
        ]
    )
    chosen = select_pair_motivations(answers, pairs, leaderboard)
    assert chosen.columns.tolist() == ["item_a", "item_b", "support", "motivation", "agent", "status"]
    assert chosen["status"].tolist() == ["ok", "failed", "failed", "failed"]
    assert chosen.loc[0, "motivation"] == "hosting a barbecue" and (chosen["agent"] == "top").all()


def test_item_motivations_count_pairs_per_item_and_skip_failures():
    pair_motivations = _pair_motivations(
        [
            (0, 1, 5, "grilling", "ok"),
            (0, 2, 4, "grilling", "ok"),
            (2, 3, 3, "coffee", "ok"),
            (3, 4, 2, None, "failed"),
        ]
    )
    items = aggregate_item_motivations(pair_motivations)
    assert items.values.tolist() == [
        [0, "grilling", 2],
        [1, "grilling", 1],
        [2, "coffee", 1],
        [2, "grilling", 1],
        [3, "coffee", 1],
    ]
    assert str(items["item_idx"].dtype) == "int32"


def _comparisons(judge: str, scores: list[float | None], ranks: list[int] | None = None) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame(
        {
            "judge": judge,
            "rank": ranks or list(range(n)),
            "item_a": 0,
            "item_b": 1,
            "agent_a": ["goal_analyst@smollm2"] * n,
            "agent_b": ["basket_story@smollm2"] * n,
            "preference_a": scores,
            "score_a": scores,
            "mode": "logprobs" if judge == "llm" else judge,
        }
    )


def test_rank_agents_uses_scored_comparisons_of_every_judge(motivation_params):
    comparisons = pd.concat(
        [_comparisons("llm", [0.0, 0.0, None], [1, 0, 2]), _comparisons("grounding", [1.0, 1.0, 1.0])]
    )
    answers = _answers({(0, 1): ("m", "ok")}, "goal_analyst@smollm2")
    motivation_params["judge"]["mode"] = "llm"
    board, boards = rank_agents(comparisons, answers, motivation_params)
    # use_context has no games: its strength stays at the prior's centre, between the two others.
    assert board["agent"].tolist() == ["basket_story@smollm2", "use_context@smollm2", "goal_analyst@smollm2"]
    assert board["comparisons"].tolist() == [2, 0, 2] and board["wins"].tolist() == [2, 0, 0]
    assert board.columns.tolist()[:6] == ["judge", "mode", "agent", "rating", "ci_low", "ci_high"]
    assert (board["judge"] == "llm").all() and (board["mode"] == "logprobs").all()
    assert (board["ci_low"] < board["rating"]).all() and (board["rating"] < board["ci_high"]).all()
    assert boards["judge"].unique().tolist() == ["llm", "grounding", "combined"]
    grounding = boards[boards["judge"] == "grounding"]
    assert grounding["agent"].iloc[0] == "goal_analyst@smollm2" and grounding["wins"].iloc[0] == 3
    assert (boards.loc[boards["judge"] == "combined", "mode"] == "none").all()  # no comparisons: said so
    motivation_params["judge"]["mode"] = "grounding"
    assert rank_agents(comparisons, answers, motivation_params)[0]["agent"].iloc[0] == "goal_analyst@smollm2"
    motivation_params["judge"]["mode"] = "best"
    with pytest.raises(ValueError, match="motivation.judge.mode"):
        rank_agents(comparisons, answers, motivation_params)


def test_equal_ratings_are_broken_by_usable_answers_then_configuration_order(motivation_params):
    motivation_params["agents"]["prompts"] = ["goal_analyst", "basket_story"]
    motivation_params["judge"]["mode"] = "llm"
    ties = _comparisons("llm", [0.5])
    answers = pd.concat(
        [
            _answers({(0, 1): ("m", "ok"), (2, 3): (None, "failed")}, "goal_analyst@smollm2"),
            _answers({(0, 1): ("m", "ok"), (2, 3): ("n", "ok")}, "basket_story@smollm2"),
        ]
    )
    board = rank_agents(ties, answers, motivation_params)[0]
    assert board["agent"].tolist() == ["basket_story@smollm2", "goal_analyst@smollm2"]
    assert board["ok_fraction"].tolist() == [1.0, 0.5] and board["ties"].tolist() == [1, 1]
    even = answers.assign(status="ok")
    assert rank_agents(ties, even, motivation_params)[0]["agent"].iloc[0] == "goal_analyst@smollm2"


def test_usage_summary_and_metrics():
    stage = {"stage": "s", "requests": 3, "calls": 2, "cache_hits": 1, "attempts": 3, "retries": 1, "failures": 0,
             "prompt_tokens": 30, "completion_tokens": 9, "failure_kinds": {}, "latencies_s": [0.1, 0.2]}  # fmt: skip
    empty = {"stage": "e", "latencies_s": []}
    usage, metrics = summarise_llm_usage(
        stage, empty, {**stage, "stage": "t", "failures": 1, "failure_kinds": {"timeout": 1}}
    )
    assert (usage["calls"], usage["cache_hits"], usage["failures"]) == (4, 2, 1)
    assert usage["failure_kinds"] == {"timeout": 1}
    assert usage["latency_p50_s"] == pytest.approx(0.15)
    assert usage["stages"]["e"]["latency_p50_s"] is None
    assert metrics["calls"] == {"value": 4.0, "step": 0} and metrics["t.failures"]["value"] == 1.0
    assert all(isinstance(m["value"], float) for m in metrics.values())


def test_agreement_with_ground_truth(items, item_true_motivations):
    pair_motivations = _pair_motivations(
        [
            (0, 1, 5, "hosting a summer barbecue", "ok"),
            (2, 3, 4, "buying gifts", "ok"),
            (0, 4, 3, "x y", "ok"),
            (1, 2, 2, None, "failed"),
        ]
    )
    report = evaluate_motivation_agreement(pair_motivations, items, item_true_motivations)
    # Pairs (0,1) and (2,3) share a true motivation, (0,4) does not; the failed pair is not counted.
    assert report["fraction_sharing_true_motivation"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["fraction_text_names_shared_truth"] == 0.5  # "barbecue" named, "espresso" not
    empty_truth = item_true_motivations.iloc[0:0]
    assert (
        evaluate_motivation_agreement(pair_motivations, items, empty_truth)[
            "fraction_sharing_true_motivation"
        ]
        is None
    )


def test_constrained_decoding_needs_json_mode(
    copurchase_pairs, items, motivation_params, fake_server, tmp_path
):
    pairs = select_motivation_pairs(copurchase_pairs, items, max_pairs=2)
    params = {**motivation_params, "constrained": True, "json_mode": False}
    with pytest.raises(LLMConfigError, match="needs motivation.json_mode"):
        run_arena_agents(pairs, {}, LLMCache(tmp_path / "cache.sqlite"), params)
    assert fake_server.n_requests == 0
