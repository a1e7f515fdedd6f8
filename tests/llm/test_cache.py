"""Cache keys include the endpoint; version-1 files are migrated once, keeping only attributable answers."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from momorec.llm import CallSettings, ChatRequest, EndpointConfig, LLMCache, LLMClient
from momorec.llm.cache import SCHEMA_VERSION
from momorec.llm.client import embedded_identity
from momorec.llm.embedded import EMBEDDED_MODEL_ALIAS, EmbeddedServer
from momorec.llm.errors import LLMConfigError
from momorec.llm.testing import FakeChatServer

_V1_SCHEMA = """
CREATE TABLE completions (key TEXT PRIMARY KEY, model TEXT NOT NULL, request_json TEXT NOT NULL,
    response_text TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    latency_s REAL NOT NULL, created_at REAL NOT NULL);
CREATE TABLE failures (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, model TEXT NOT NULL,
    kind TEXT NOT NULL, message TEXT NOT NULL, created_at REAL NOT NULL);
"""


def request(i: int) -> ChatRequest:
    return ChatRequest.from_messages([{"role": "user", "content": f"question {i}"}], max_tokens=8, seed=1)


def _write_version_1(path, rows: list[tuple[ChatRequest, str, str]]) -> None:
    """A cache file as the code before endpoint keys wrote it: keys of (request, model) only."""
    with sqlite3.connect(path) as db:
        db.executescript(_V1_SCHEMA)
        for chat_request, model, answer in rows:
            record = chat_request.as_record(model)
            db.execute(
                "INSERT INTO completions VALUES (?, ?, ?, ?, 1, 1, 0.1, ?)",
                (
                    chat_request.cache_key(model),
                    model,
                    json.dumps(record, sort_keys=True),
                    answer,
                    time.time(),
                ),
            )
        db.execute(
            "INSERT INTO failures (key, model, kind, message, created_at) VALUES ('k', 'm', 'x', 'y', 0)"
        )


def _embedded_client(cache: LLMCache, port_hint: int) -> LLMClient:
    server = EmbeddedServer(model_alias=EMBEDDED_MODEL_ALIAS)
    server.port = port_hint  # never started: a cached run does not need it
    endpoint = EndpointConfig(name="smollm2", model=EMBEDDED_MODEL_ALIAS)
    return LLMClient(endpoint, CallSettings(show_progress=False), cache, embedded_server=server)


def test_the_key_depends_on_the_endpoint_and_the_embedded_identity_not_on_its_port(tmp_path):
    first = request(0)
    keys = {first.cache_key("m"), first.cache_key("m", "http://a/v1"), first.cache_key("m", "http://b/v1")}
    assert len(keys) == 3
    cache = LLMCache(tmp_path / "c.sqlite")
    assert _embedded_client(cache, 1111).cache_identity == _embedded_client(cache, 2222).cache_identity
    assert embedded_identity(None) == "embedded:SmolLM2-135M-Instruct.Q4_1.gguf"


def test_base_urls_are_normalised_and_a_fingerprint_replaces_them():
    same = [
        EndpointConfig(name="n", model="m", base_url=url)
        for url in ("http://Host:8000/v1/", "HTTP://host:8000/v1")
    ]
    assert same[0].cache_identity("") == same[1].cache_identity("") == "http://host:8000/v1"
    moved = [
        EndpointConfig(name="n", model="m", base_url=u, fingerprint="my-vllm")
        for u in ("http://a:1", "http://b:2")
    ]
    assert moved[0].cache_identity("") == moved[1].cache_identity("") == "fingerprint:my-vllm"
    assert (
        EndpointConfig.from_params(
            "n", {"model": "m", "base_url": "http://a", "fingerprint": "f"}
        ).fingerprint
        == "f"
    )


def test_answers_of_one_endpoint_are_not_served_to_another(tmp_path):
    cache = LLMCache(tmp_path / "c.sqlite")
    settings = CallSettings(show_progress=False)
    with FakeChatServer() as first, FakeChatServer() as second:
        for server in (first, second, first):
            client = LLMClient(
                EndpointConfig(name="n", model="fake-model", base_url=server.base_url), settings, cache
            )
            client.complete_many([request(i) for i in range(3)])
        assert (first.n_requests, second.n_requests) == (3, 3)
    with sqlite3.connect(cache.path) as db:
        endpoints = sorted(e for (e,) in db.execute("SELECT DISTINCT endpoint FROM completions"))
    assert endpoints == sorted([first.base_url, second.base_url])


def test_a_version_1_file_is_migrated_once_keeping_the_embedded_models_answers(tmp_path):
    path = tmp_path / "c.sqlite"
    _write_version_1(
        path,
        [(request(0), EMBEDDED_MODEL_ALIAS, "embedded answer 0"), (request(1), EMBEDDED_MODEL_ALIAS, "embedded answer 1"),
         (request(0), "gpt-4o-mini", "remote answer")],
    )  # fmt: skip
    cache = LLMCache(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT COUNT(*) FROM completions").fetchone()[0] == 2
        assert db.execute("SELECT model FROM completions_unattributed").fetchall() == [("gpt-4o-mini",)]
        assert db.execute("SELECT COUNT(*) FROM failures").fetchone()[0] == 1
    # The embedded model's answers are found by a client of the embedded endpoint without any call.
    client = _embedded_client(cache, 4242)
    results = client.complete_many([request(0), request(1)])
    assert [r.text for r in results] == ["embedded answer 0", "embedded answer 1"]
    assert all(r.cached for r in results)
    # A remote endpoint does not get the unattributed remote answer.
    with FakeChatServer() as server:
        remote = LLMClient(
            EndpointConfig(name="r", model="gpt-4o-mini", base_url=server.base_url),
            CallSettings(show_progress=False),
            cache,
        )
        assert not remote.complete(request(0)).cached and server.n_requests == 1
    # Opening the migrated file again changes nothing.
    cache.close()
    LLMCache(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM completions_unattributed").fetchone()[0] == 1


def test_a_file_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LLMConfigError, match="newer"):
        LLMCache(path)


def test_failure_messages_are_redacted_before_they_are_stored(tmp_path):
    cache = LLMCache(tmp_path / "c.sqlite")
    cache.record_failure("k", "m", "http_500", "echo: Authorization: Bearer sk-abcdefghijklmnopqrst", "e")
    cache.close()
    assert b"sk-abcdefghijklmnopqrst" not in (tmp_path / "c.sqlite").read_bytes()
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert "[REDACTED]" in db.execute("SELECT message FROM failures").fetchone()[0]
