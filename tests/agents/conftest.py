"""Fixtures for agent tests: a client on the fake server and two sample pairs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from momorec.agents.analysis import AnalysisSettings
from momorec.agents.prompts import ItemText
from momorec.llm import CallSettings, EndpointConfig, LLMCache, LLMClient, UsageRecorder
from momorec.llm.structured import SamplingPlan
from momorec.llm.testing import FakeChatServer


@pytest.fixture
def fake_server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as server:
        yield server


@pytest.fixture
def client(fake_server, tmp_path) -> Iterator[LLMClient]:
    with LLMClient(
        EndpointConfig(name="fake", model="fake-model", base_url=fake_server.base_url),
        # Failures are scripted on purpose here; the stage failure budget is tested in tests/llm.
        CallSettings(
            concurrency=1, max_retries=1, backoff_s=0.01, show_progress=False, max_failed_fraction=1.0
        ),
        LLMCache(tmp_path / "cache.sqlite"),
        UsageRecorder("agents"),
    ) as llm_client:
        yield llm_client


@pytest.fixture
def pairs() -> list[tuple[ItemText, ItemText]]:
    return [
        (ItemText("Kettle grill, 57 cm", "Garden > Grills"), ItemText("Grill tongs, stainless", "Kitchen")),
        (
            ItemText("Trail running shoes", "Sports > Running"),
            ItemText("Hydration vest, 5 L", "Sports > Running"),
        ),
    ]


@pytest.fixture
def analysis_settings() -> AnalysisSettings:
    return AnalysisSettings(
        generation=SamplingPlan(temperature=0.2, max_tokens=64, seed=7),
        summary=SamplingPlan(temperature=0.7, max_tokens=32, seed=11),
        summary_attempts=3,
        max_words=12,
        generic_blocklist=("meet needs", "convenience"),
    )
