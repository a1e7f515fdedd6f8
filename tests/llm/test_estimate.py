"""The estimate's building blocks: token counts, prices, cache lookups, totals and the printed table."""

from __future__ import annotations

import pytest

from momorec.agents.analysis import AnalysisSettings, generation_request, summary_request
from momorec.agents.prompts import GENERATION_PROMPTS, ItemText
from momorec.llm import CallSettings, ChatRequest, EndpointConfig, LLMCache, LLMClient, UsageRecorder
from momorec.llm.estimate import (
    CacheView,
    PlannedCall,
    TokenCounter,
    add_totals,
    estimate_parts,
    estimate_table,
    summarise,
)
from momorec.llm.structured import SamplingPlan
from momorec.llm.testing import FakeChatServer

EMBEDDED = EndpointConfig(name="smollm2", model="smollm2-135m-instruct-q4_1")
PAIRS = [
    (ItemText("Kettle grill, 57 cm", "Garden > Grills"), ItemText("Grill tongs, stainless", "Kitchen")),
    (ItemText("Trail running shoes", "Sports"), ItemText("Hydration vest 5 L", "Sports")),
]
SETTINGS = AnalysisSettings(
    generation=SamplingPlan(temperature=0.2, max_tokens=16, seed=7),
    summary=SamplingPlan(temperature=0.7, max_tokens=16, seed=11),
)


def _request(text: str, max_tokens: int = 10) -> ChatRequest:
    return ChatRequest.from_messages([{"role": "user", "content": text}], max_tokens=max_tokens)


def test_the_approximate_rule_counts_characters_messages_and_the_reply():
    remote = EndpointConfig(name="gpt", model="m", base_url="http://127.0.0.1:9/v1")
    assert TokenCounter().prompt_tokens(remote, _request("x" * 40)) == 10 + 4 + 3


def test_prices_give_the_cost_and_missing_prices_an_unknown_one():
    priced = EndpointConfig(
        name="gpt", model="m", base_url="http://x/v1",
        price_per_million_prompt_tokens=0.15, price_per_million_completion_tokens=0.6,
    )  # fmt: skip
    assert priced.cost_usd(1_000_000, 100_000) == pytest.approx(0.15 + 0.06)
    assert EndpointConfig(name="gpt", model="m", base_url="http://x/v1").cost_usd(10, 10) is None
    assert EMBEDDED.cost_usd(10, 10) == 0.0


def test_cached_requests_are_hits_others_are_priced_calls(tmp_path):
    with FakeChatServer() as server:
        remote = EndpointConfig(
            name="gpt", model="fake-model", base_url=server.base_url,
            price_per_million_prompt_tokens=1.0, price_per_million_completion_tokens=2.0,
        )  # fmt: skip
        cache = LLMCache(tmp_path / "cache.sqlite")
        with LLMClient(remote, CallSettings(show_progress=False), cache, UsageRecorder("t")) as client:
            assert client.complete(_request("asked before")).ok
        view = CacheView(cache, {"gpt": remote})
        planned = [
            PlannedCall("a", "gpt", _request("asked before"), "1", cached=view.answer("gpt", _request("asked before")) is not None),
            PlannedCall("a", "gpt", _request("x" * 40), "2"),
            PlannedCall("b", "gpt", _request("x" * 40), "3", unknown_prompt_tokens=5),
        ]  # fmt: skip
        parts = estimate_parts(planned, {"gpt": remote})
    assert (parts["a"]["requests"], parts["a"]["calls"], parts["a"]["cache_hits"]) == (2, 1, 1)
    assert parts["a"]["prompt_tokens"] == 17 and parts["a"]["completion_tokens"] == 10
    assert parts["a"]["cost_usd"] == pytest.approx((17 * 1.0 + 10 * 2.0) / 1e6)
    assert parts["b"]["prompt_tokens"] == 22
    total = summarise(parts)
    assert (total["requests"], total["calls"], total["prompt_tokens"]) == (3, 2, 39)
    # An identity another stage already plans (the leak canary vs the honest run) is left out.
    assert estimate_parts(planned, {"gpt": remote}, skip=frozenset({"2", "3"}))["a"]["calls"] == 0


def test_an_unknown_cost_stays_unknown_in_totals():
    total = add_totals({"requests": 1, "calls": 1, "cache_hits": 0, "prompt_tokens": 1, "completion_tokens": 1,
                        "cost_usd": 0.5}, {"requests": 1, "calls": 1, "cost_usd": None})  # fmt: skip
    assert total["cost_usd"] is None and total["calls"] == 2
    table = estimate_table({"parts": {"x": total}, "total": total})
    assert "unknown" in table and table.splitlines()[0].split()[:3] == ["part", "requests", "calls"]


@pytest.mark.llm
@pytest.mark.slow
def test_the_embedded_token_count_equals_the_embedded_servers():
    """The tokenizer read from the GGUF, on the model's chat template, counts what llama.cpp's server counts."""
    requests = [
        generation_request(GENERATION_PROMPTS[p], pair, SETTINGS)
        for p in GENERATION_PROMPTS
        for pair in PAIRS
    ]
    requests.append(summary_request(PAIRS[0], "Both serve a barbecue in the garden.", SETTINGS, 0))
    counter = TokenCounter()
    with LLMClient(EMBEDDED, CallSettings(show_progress=False)) as client:
        served = [client.complete(request).prompt_tokens for request in requests]
    assert served == [counter.prompt_tokens(EMBEDDED, request) for request in requests]


def test_a_dry_run_ends_a_click_command_with_exit_status_0():
    """``kedro run`` is a click command: the dry run's stop must not read as a failed run to scripts."""
    import click
    from click.testing import CliRunner

    from momorec.llm.errors import LLMDryRun, LLMError

    @click.command()
    def run() -> None:
        raise LLMDryRun("dry run: no request")

    assert issubclass(LLMDryRun, LLMError) and str(LLMDryRun("why")) == "why"
    assert CliRunner().invoke(run, standalone_mode=True).exit_code == 0
