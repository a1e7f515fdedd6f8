"""Fixtures of the alignment tests: the LLM layer's fake OpenAI server, clients on it, tiny data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from momorec.alignment.llm_setup import build_client
from momorec.llm import LLMCache, LLMClient
from momorec.llm.settings import alignment_llm_settings
from momorec.llm.testing import FakeChatServer
from tests.alignment.tiny_data import Responder, schema_responder, tiny_interactions, tiny_items, train_part


def make_llm_params(base_url: str) -> dict[str, Any]:
    return {
        "name": "alignment",
        "endpoint": {"model": "fake-model", "base_url": base_url, "require_api_key": False},
        "client": {
            "concurrency": 2,
            "timeout_s": 5,
            "max_retries": 0,
            "backoff_s": 0.01,
            "show_progress": False,
        },
    }


def start_fake_server(responder: Responder = schema_responder) -> FakeChatServer:
    """The LLM layer's fake server answering with ``responder(messages, body)``."""
    return FakeChatServer(reply=lambda body: responder(body["messages"], body)).start()


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeChatServer]]:
    """``start(responder)`` runs a fake server for the rest of the test."""
    servers: list[FakeChatServer] = []

    def start(responder: Responder = schema_responder) -> FakeChatServer:
        servers.append(start_fake_server(responder))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def client_for(tmp_path: Path) -> Callable[[FakeChatServer], LLMClient]:
    """A client on the server, caching in this test's own SQLite file (a second client shares it)."""
    return lambda server: build_client(
        alignment_llm_settings(make_llm_params(server.base_url)), "test", LLMCache(tmp_path / "llm.sqlite")
    )


@pytest.fixture
def items():
    return tiny_items()


@pytest.fixture
def interactions():
    return tiny_interactions()


@pytest.fixture
def train_interactions(interactions):
    return train_part(interactions)
