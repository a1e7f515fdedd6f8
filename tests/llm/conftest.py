"""Fixtures for the LLM layer: the scripted fake server, a cache on tmp_path and a client factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from momorec.llm import CallSettings, EndpointConfig, LLMCache, LLMClient, Secret, UsageRecorder
from momorec.llm.testing import FakeChatServer

FAST_RETRIES = {
    "max_retries": 2,
    "backoff_s": 0.01,
    "max_backoff_s": 0.05,
    "timeout_s": 5.0,
    "show_progress": False,
}


@pytest.fixture
def fake_server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as server:
        yield server


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "llm_cache.sqlite"


@pytest.fixture
def make_client(cache_path: Path) -> Iterator[Callable[..., LLMClient]]:
    """``make_client(base_url, api_key=None, cache=True, **settings)``; every client is closed afterwards."""
    created: list[LLMClient] = []

    def factory(base_url: str, api_key: str | None = None, cache: bool = True, **settings) -> LLMClient:
        endpoint = EndpointConfig(
            name="fake", model="fake-model", base_url=base_url, api_key=Secret(api_key) if api_key else None
        )
        client = LLMClient(
            endpoint,
            CallSettings(**{**FAST_RETRIES, **settings}),
            LLMCache(cache_path) if cache else None,
            UsageRecorder("test"),
        )
        created.append(client)
        return client

    yield factory
    for client in created:
        client.close()
        if client.cache is not None:
            client.cache.close()
