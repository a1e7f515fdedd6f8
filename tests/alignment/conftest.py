"""Fixtures of the alignment tests: a scripted fake OpenAI server, LLM parameters pointing at it, tiny data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.alignment.fake_llm import FakeChatServer, Responder
from tests.alignment.tiny_data import schema_responder, tiny_interactions, tiny_items, train_part


@pytest.fixture
def fake_server() -> Iterator[Callable[[Responder], FakeChatServer]]:
    """``start(responder)`` runs a fake server for the rest of the test."""
    servers: list[FakeChatServer] = []

    def start(responder: Responder = schema_responder) -> FakeChatServer:
        server = FakeChatServer(responder).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def make_llm_params(base_url: str, cache_path: Path | None) -> dict[str, Any]:
    return {
        "name": "alignment",
        "endpoint": {"model": "fake-model", "base_url": base_url},
        "client": {
            "concurrency": 2,
            "timeout_s": 5,
            "max_retries": 0,
            "backoff_s": 0.01,
            "show_progress": False,
        },
        "cache_path": str(cache_path) if cache_path else None,
    }


@pytest.fixture
def llm_params_for(tmp_path: Path) -> Callable[[FakeChatServer], dict[str, Any]]:
    return lambda server: make_llm_params(server.base_url, tmp_path / "llm_cache.sqlite")


@pytest.fixture
def items():
    return tiny_items()


@pytest.fixture
def interactions():
    return tiny_interactions()


@pytest.fixture
def train_interactions(interactions):
    return train_part(interactions)
