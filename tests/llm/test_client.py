"""The chat client against a real HTTP fake server: cache, retries, timeouts, errors, concurrency, secrecy."""

from __future__ import annotations

import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from momorec.llm import (
    ChatRequest,
    EndpointConfig,
    LLMAuthenticationError,
    LLMCache,
    LLMConfigError,
    LLMEndpointUnreachable,
    Secret,
)
from momorec.llm.embedded import free_port
from momorec.llm.testing import Action, FakeChatServer


def request(i: int = 0, **sampling) -> ChatRequest:
    return ChatRequest.from_messages(
        [{"role": "user", "content": f"question {i}"}], max_tokens=16, **sampling
    )


def test_cache_key_changes_with_model_messages_sampling_and_salt():
    base = request(1, temperature=0.2, seed=1)
    keys = {
        base.cache_key("m"),
        base.cache_key("other-model"),
        request(2, temperature=0.2, seed=1).cache_key("m"),
        request(1, temperature=0.7, seed=1).cache_key("m"),
        request(1, temperature=0.2, seed=2).cache_key("m"),
        request(1, temperature=0.2, seed=1, salt="v2").cache_key("m"),
    }
    assert len(keys) == 6
    assert base.cache_key("m") == request(1, temperature=0.2, seed=1).cache_key("m")


def test_second_run_is_answered_from_the_cache(fake_server, make_client, cache_path):
    first = make_client(fake_server.base_url)
    results = first.complete_many([request(i) for i in range(5)])
    assert all(r.ok and not r.cached for r in results)
    assert fake_server.n_requests == 5
    first.close()

    second = make_client(fake_server.base_url)  # a new process would open the same file
    again = second.complete_many([request(i) for i in range(5)])
    assert fake_server.n_requests == 5
    assert [r.text for r in again] == [r.text for r in results]
    assert all(r.cached for r in again)
    usage = second.usage.as_dict()
    assert (usage["calls"], usage["cache_hits"]) == (0, 5)


def test_a_killed_run_resumes_with_only_the_missing_calls(cache_path):
    n_requests = 12
    with FakeChatServer(latency_s=0.1) as server:
        worker = textwrap.dedent(
            f"""
            from momorec.llm import CallSettings, ChatRequest, EndpointConfig, LLMCache, LLMClient
            client = LLMClient(EndpointConfig(name="fake", model="fake-model", base_url="{server.base_url}"),
                               CallSettings(concurrency=1, show_progress=False), LLMCache("{cache_path}"))
            requests = [ChatRequest.from_messages([{{"role": "user", "content": f"question {{i}}"}}], max_tokens=16)
                        for i in range({n_requests})]
            client.complete_many(requests)
            """
        )
        process = subprocess.Popen([sys.executable, "-c", worker])
        deadline = time.monotonic() + 60
        while server.n_requests < 5 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL, "the worker finished before it could be killed"
        stored = LLMCache(cache_path).count()
        assert 4 <= stored < n_requests
        seen_before_resume = server.n_requests

        cache = LLMCache(cache_path)
        from momorec.llm import CallSettings, LLMClient

        with LLMClient(
            EndpointConfig(name="fake", model="fake-model", base_url=server.base_url),
            CallSettings(concurrency=2, show_progress=False),
            cache,
        ) as client:
            results = client.complete_many([request(i) for i in range(n_requests)])
        assert all(r.ok for r in results)
        assert server.n_requests - seen_before_resume == n_requests - stored
        assert cache.count() == n_requests
        assert cache.integrity_ok()


@pytest.mark.parametrize("status", [500, 503])
def test_transient_http_errors_are_retried(fake_server, make_client, status):
    fake_server.queue(Action(status=status))
    client = make_client(fake_server.base_url)
    result = client.complete(request())
    assert result.ok
    assert fake_server.n_requests == 2
    assert client.usage.as_dict()["retries"] == 1


def test_a_429_is_sent_again_without_spending_a_retry(fake_server, make_client):
    fake_server.queue(Action(status=429, headers=(("Retry-After", "0"),)))
    client = make_client(fake_server.base_url, max_retries=0)
    result = client.complete(request())
    assert result.ok
    assert fake_server.n_requests == 2
    usage = client.usage.as_dict()
    assert (usage["retries"], usage["failures"], usage["rate_limited"]) == (0, 0, 1)


def test_other_4xx_is_a_failure_without_retry_and_is_retried_next_run(fake_server, make_client, cache_path):
    fake_server.queue(Action(status=400))
    client = make_client(fake_server.base_url)
    result = client.complete(request())
    assert not result.ok and result.error_kind == "http_400" and result.text is None
    assert fake_server.n_requests == 1
    assert client.cache.count() == 0 and client.cache.failure_count() == 1
    # The failure is not an answer: the next run asks again and gets one.
    assert make_client(fake_server.base_url).complete(request()).ok
    assert fake_server.n_requests == 2


def test_persistent_5xx_becomes_a_recorded_failure(fake_server, make_client):
    fake_server.queue(*[Action(status=500)] * 3)
    client = make_client(fake_server.base_url, max_retries=2)
    result = client.complete(request())
    assert not result.ok and result.error_kind == "http_500"
    assert fake_server.n_requests == 3
    usage = client.usage.as_dict()
    assert (usage["failures"], usage["attempts"], usage["failure_kinds"]) == (1, 3, {"http_500": 1})


def test_timeouts_are_retried_then_recorded(fake_server, make_client):
    fake_server.queue(Action(delay_s=1.0), Action(delay_s=1.0))
    client = make_client(fake_server.base_url, timeout_s=0.25, max_retries=1)
    started = time.perf_counter()
    result = client.complete(request())
    assert time.perf_counter() - started < 1.5
    assert not result.ok and result.error_kind == "timeout"
    assert client.cache.count() == 0 and client.cache.failure_count() == 1
    # A slow first attempt followed by a normal one succeeds.
    fake_server.queue(Action(delay_s=1.0))
    assert client.complete(request(1)).ok


def test_malformed_and_empty_bodies_are_retried_and_never_cached(fake_server, make_client):
    fake_server.queue(Action(raw_body=b"<html>bad gateway</html>"), Action(content=""))
    client = make_client(fake_server.base_url, max_retries=2)
    result = client.complete(request())
    assert result.ok and result.text
    assert fake_server.n_requests == 3
    fake_server.queue(*[Action(content="")] * 3)
    empty = client.complete(request(1))
    assert not empty.ok and empty.error_kind == "empty_response"
    assert client.cache.count() == 1


def test_server_down_raises_an_error_naming_the_endpoint(make_client):
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = make_client(url, max_retries=1)
    with pytest.raises(LLMEndpointUnreachable, match=r"127\.0\.0\.1:\d+/v1"):
        client.complete(request())


def test_server_down_stops_a_batch(make_client):
    client = make_client(f"http://127.0.0.1:{free_port()}/v1", max_retries=0, concurrency=4)
    with pytest.raises(LLMEndpointUnreachable):
        client.complete_many([request(i) for i in range(20)])


def test_requests_run_concurrently_and_the_cache_stays_consistent(make_client):
    with FakeChatServer(latency_s=0.2) as server:
        client = make_client(server.base_url, concurrency=4)
        # 16 requests over 8 distinct keys: duplicates race to insert the same row.
        requests = [request(i % 8) for i in range(16)]
        started = time.perf_counter()
        results = client.complete_many(requests)
        elapsed = time.perf_counter() - started
    assert server.max_in_flight == 4
    assert elapsed < 16 * 0.2  # sanity: not sequential
    assert all(r.ok for r in results)
    assert [r.text for r in results[:8]] == [r.text for r in results[8:]]
    assert client.cache.count() == 8
    assert client.cache.integrity_ok()
    with sqlite3.connect(client.cache.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_rejected_key_stops_at_once_with_a_clear_error(make_client):
    with FakeChatServer(expected_key="right-key") as server:
        client = make_client(server.base_url, api_key="sk-wrong-key-123")
        with pytest.raises(LLMAuthenticationError) as error:
            client.complete(request())
        assert server.base_url in str(error.value) and "401" in str(error.value)
        assert "sk-wrong-key-123" not in str(error.value)
        assert server.n_requests == 0  # refused before the request was processed, and not retried
        assert make_client(server.base_url, api_key="right-key", cache=False).complete(request()).ok


def test_missing_key_for_an_endpoint_that_needs_one():
    endpoint = EndpointConfig(
        name="remote", model="m", base_url="http://127.0.0.1:9/v1", require_api_key=True
    )
    with pytest.raises(LLMConfigError, match=r"127\.0\.0\.1:9/v1"):
        endpoint.key_for_client()
    openai_endpoint = EndpointConfig(name="gpt", model="gpt-4o-mini", base_url="https://api.openai.com/v1")
    with pytest.raises(LLMConfigError, match="MOMOREC_LLM_API_KEY"):
        openai_endpoint.key_for_client()


def test_the_api_key_never_appears_in_reprs_cache_or_usage(make_client, cache_path):
    secret = "sk-test-secret-value-42"
    with FakeChatServer(expected_key=secret) as server:
        client = make_client(server.base_url, api_key=secret)
        assert client.complete(request()).ok
        visible = " ".join(
            [repr(client), json.dumps(client.describe()), repr(client.endpoint), str(client.endpoint.api_key),
             json.dumps(client.endpoint.describe()), json.dumps(client.usage.as_dict())]
        )  # fmt: skip
        assert secret not in visible
        client.cache.close()
    assert secret.encode() not in cache_path.read_bytes()
    with sqlite3.connect(cache_path) as connection:
        rows = connection.execute("SELECT * FROM completions").fetchall()
    assert rows and secret not in repr(rows)
    with pytest.raises(TypeError):
        pickle.dumps(Secret(secret))


def test_key_resolution_order(monkeypatch):
    from momorec.llm.config import register_credentials, resolve_api_key

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("MOMOREC_LLM_API_KEY", raising=False)
    register_credentials({})
    assert resolve_api_key("m") is None
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai-env")
    assert resolve_api_key("m", base_url="https://api.openai.com/v1").reveal() == "from-openai-env"
    # A user's OpenAI key is never handed to another endpoint (local server, vLLM, proxy).
    assert resolve_api_key("m", base_url="http://127.0.0.1:8000/v1") is None
    assert resolve_api_key("m") is None
    monkeypatch.setenv("MOMOREC_LLM_API_KEY", "from-momorec-env")
    assert resolve_api_key("m").reveal() == "from-momorec-env"
    register_credentials({"api_key": "from-credentials", "special": {"api_key": "per-model"}})
    try:
        assert resolve_api_key("m").reveal() == "from-credentials"
        assert resolve_api_key("special").reveal() == "per-model"
    finally:
        register_credentials({})


SCHEMA = json.dumps({"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]})


def test_requests_without_a_schema_keep_their_cache_keys_and_a_schema_changes_them():
    plain = ChatRequest.from_messages([{"role": "user", "content": "hi"}], json_mode=True)
    assert "json_schema" not in plain.as_record("m")  # keys of caches written before schemas existed hold
    constrained = ChatRequest.from_messages(
        [{"role": "user", "content": "hi"}], json_mode=True, json_schema=SCHEMA
    )
    assert constrained.cache_key("m") != plain.cache_key("m")


@pytest.mark.parametrize(
    ("base_url", "style", "expected"),
    [
        (
            "http://h/v1",
            "auto",
            {"type": "json_schema", "json_schema": {"name": "answer", "schema": "S", "strict": False}},
        ),
        (
            "http://h/v1",
            "json_schema",
            {"type": "json_schema", "json_schema": {"name": "answer", "schema": "S", "strict": False}},
        ),
        (None, "auto", {"type": "json_object", "schema": "S"}),  # the embedded llama-cpp-python server
        ("http://h/v1", "json_object_schema", {"type": "json_object", "schema": "S"}),
        ("http://h/v1", "json_object", {"type": "json_object"}),
    ],
)
def test_the_schema_is_sent_in_the_style_the_server_reads(base_url, style, expected):
    expected = json.loads(json.dumps(expected).replace('"S"', SCHEMA))
    endpoint = EndpointConfig(name="m", model="m", base_url=base_url, structured_output=style)
    assert endpoint.response_format(json_mode=True, json_schema=SCHEMA) == expected
    assert endpoint.response_format(json_mode=False, json_schema=None) is None
    assert endpoint.response_format(json_mode=True, json_schema=None) == {"type": "json_object"}


def test_an_unknown_structured_output_style_is_refused():
    with pytest.raises(LLMConfigError, match="structured_output"):
        EndpointConfig.from_params("m", {"model": "m", "structured_output": "grammar"})


def test_the_schema_reaches_the_server(fake_server, make_client):
    client = make_client(fake_server.base_url)
    request = ChatRequest.from_messages(
        [{"role": "user", "content": "hi"}], json_mode=True, json_schema=SCHEMA
    )
    assert client.complete(request).ok
    assert fake_server.requests[-1]["response_format"]["json_schema"]["schema"] == json.loads(SCHEMA)
