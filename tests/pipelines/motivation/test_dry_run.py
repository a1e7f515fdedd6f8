"""The dry run: the motivation pipeline against the fake OpenAI-compatible server, estimate vs. real run."""

from __future__ import annotations

import json

import pytest
from kedro.runner import SequentialRunner

from momorec.agents.estimate import motivation_estimate
from momorec.agents.stage import MotivationSettings
from momorec.llm.cache import LLMCache
from momorec.llm.errors import LLMConfigError, LLMDryRun
from momorec.pipelines.motivation import create_pipeline
from tests.pipelines.motivation.test_pipeline import OUTPUTS, _catalog

PRICES = {"price_per_million_prompt_tokens": 0.15, "price_per_million_completion_tokens": 0.6}


def _run(tmp_path, items, copurchase_pairs, item_true_motivations, params, interactions):
    catalog = _catalog(tmp_path, items, copurchase_pairs, item_true_motivations, params, interactions)
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


@pytest.mark.parametrize(
    ("also_ask_llm", "analysis"), [(False, "two_step"), (True, "two_step"), (True, "direct")]
)
def test_the_dry_run_makes_no_request_and_its_call_count_is_within_10_percent_of_the_real_run(
    tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, fake_server, interactions,
    also_ask_llm, analysis,
):  # fmt: skip
    motivation_params["judge"]["also_ask_llm"] = also_ask_llm
    motivation_params["analysis"] = analysis
    motivation_params["models"]["smollm2"].update(PRICES)
    dry = {**motivation_params, "dry_run": True}
    with pytest.raises(LLMDryRun, match="no LLM request was made"):
        _run(tmp_path, items, copurchase_pairs, item_true_motivations, dry, interactions)
    assert fake_server.n_requests == 0
    # Nothing downstream of the estimate was written: no made-up answers, no motivations.
    assert not any((tmp_path / f"{name}.parquet").exists() for name in OUTPUTS)
    assert not (tmp_path / "llm_usage.json").exists()
    estimate = json.loads((tmp_path / "llm_estimate.json").read_text())
    assert estimate["dry_run"] is True
    expected_parts = {"arena_agents", "top_agent"} | ({"judge"} if also_ask_llm else set())
    assert set(estimate["parts"]) == expected_parts
    assert estimate["leak_canary"] is not None and "total" in estimate["leak_canary"]

    _run(tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, interactions)
    usage = json.loads((tmp_path / "llm_usage.json").read_text())
    assert usage["failures"] == 0 and usage["calls"] == fake_server.n_requests
    assert abs(estimate["total"]["calls"] - usage["calls"]) <= 0.1 * usage["calls"]
    for part, numbers in estimate["parts"].items():
        assert abs(numbers["calls"] - usage["stages"][part]["calls"]) <= 0.1 * usage["stages"][part]["calls"]
    # Same fields in both files, so they compare line by line; the real cost is priced from real tokens.
    for field in ("calls", "prompt_tokens", "completion_tokens", "cost_usd"):
        assert field in usage and field in estimate["total"]
    expected_cost = (usage["prompt_tokens"] * 0.15 + usage["completion_tokens"] * 0.6) / 1e6
    assert usage["cost_usd"] == pytest.approx(expected_cost, abs=1e-6)
    assert estimate["total"]["cost_usd"] > 0
    # Completion tokens are estimated as max_tokens: an upper bound of what was spent.
    assert estimate["total"]["completion_tokens"] >= usage["completion_tokens"]


def test_after_a_real_run_the_estimate_finds_every_call_in_the_cache(
    tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, fake_server, interactions
):
    motivation_params["judge"]["also_ask_llm"] = True
    _run(tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, interactions)
    n_requests = fake_server.n_requests
    dry = {**motivation_params, "dry_run": True}
    with pytest.raises(LLMDryRun):
        _run(tmp_path, items, copurchase_pairs, item_true_motivations, dry, interactions)
    estimate = json.loads((tmp_path / "llm_estimate.json").read_text())
    assert fake_server.n_requests == n_requests
    assert estimate["total"]["calls"] == 0 and estimate["total"]["cache_hits"] == n_requests
    assert estimate["total"]["cost_usd"] == 0.0


def test_a_remote_model_without_prices_has_an_unknown_cost_and_the_embedded_one_costs_nothing(
    tmp_path, items, copurchase_pairs, motivation_params
):
    pairs = copurchase_pairs.merge(items[["item_idx", "title"]], left_on="item_a", right_on="item_idx")
    pairs = pairs.rename(columns={"title": "title_a"}).drop(columns="item_idx")
    pairs = pairs.merge(items[["item_idx", "title"]], left_on="item_b", right_on="item_idx")
    pairs = pairs.rename(columns={"title": "title_b"}).drop(columns="item_idx")
    pairs = pairs.assign(category_a="Garden", category_b="Kitchen").head(4)
    cache = LLMCache(tmp_path / "cache.sqlite")
    remote = motivation_estimate(pairs, MotivationSettings.from_params(motivation_params), cache)
    assert remote["total"]["cost_usd"] is None and remote["total"]["calls"] > 0
    assert "4 characters per token" in remote["token_rules"]["smollm2"]

    embedded_params = {**motivation_params, "models": {"smollm2": {"model": "smollm2-135m-instruct-q4_1"}}}
    embedded = motivation_estimate(pairs, MotivationSettings.from_params(embedded_params), cache)
    assert embedded["total"]["cost_usd"] == 0.0
    assert embedded["total"]["calls"] == remote["total"]["calls"]
    assert "tokenizer" in embedded["token_rules"]["smollm2"]
    # The tokenizer counts the chat template too; the two rules agree within a factor of two.
    ratio = embedded["total"]["prompt_tokens"] / remote["total"]["prompt_tokens"]
    assert 0.5 < ratio < 2.0


def test_dry_run_must_be_a_boolean(
    tmp_path, items, copurchase_pairs, item_true_motivations, motivation_params, fake_server, interactions
):
    bad = {**motivation_params, "dry_run": "yes"}
    with pytest.raises(LLMConfigError, match="motivation.dry_run"):
        _run(tmp_path, items, copurchase_pairs, item_true_motivations, bad, interactions)
    assert fake_server.n_requests == 0
