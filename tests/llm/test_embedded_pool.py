"""The embedded pool: its default shape, start and stop together, and the client's fixed lanes over it.

The lane tests put real local HTTP servers (``FakeChatServer``) behind the pool's interface, so they run in
milliseconds without the model; the last test starts two real llama.cpp servers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from momorec.llm import CallSettings, ChatRequest, EndpointConfig, LLMAuthenticationError, LLMClient
from momorec.llm.embedded import (
    EMBEDDED_MODEL_ALIAS,
    EmbeddedPool,
    EmbeddedServer,
    find_embedded_gguf,
    pool_shape,
)
from momorec.llm.errors import LLMConfigError, LLMEndpointUnreachable
from momorec.llm.session import build_client
from momorec.llm.settings import LLMSettings
from momorec.llm.testing import FakeChatServer

EMBEDDED = EndpointConfig(name="smollm2", model=EMBEDDED_MODEL_ALIAS)  # no base_url: the embedded endpoint


class FakeEmbeddedServer:
    """What ``EmbeddedPool`` needs of a server, answered by a ``FakeChatServer`` on 127.0.0.1."""

    gguf_path: Path | None = None
    logprobs = False

    def __init__(self, fail_to_start: bool = False, **fake_options) -> None:
        self.fake = FakeChatServer(**fake_options)
        self.fail_to_start = fail_to_start
        self.running = False

    @property
    def base_url(self) -> str:
        return self.fake.base_url

    def launch(self) -> None:
        if not self.running:
            self.fake.start()
            self.running = True

    def wait_until_ready(self) -> None:
        if self.fail_to_start:
            raise LLMEndpointUnreachable("the fake server did not become ready")

    def stop(self) -> None:
        if self.running:
            self.fake.stop()
            self.running = False

    def questions(self) -> list[str]:
        return [body["messages"][0]["content"] for body in self.fake.requests]


def question(i: int) -> ChatRequest:
    return ChatRequest.from_messages([{"role": "user", "content": f"question {i}"}], max_tokens=8)


def echo(body: dict) -> str:
    return f"answer to {body['messages'][0]['content']}"


def pooled_client(servers: list[FakeEmbeddedServer]) -> LLMClient:
    settings = CallSettings(show_progress=False, max_retries=0, timeout_s=5.0)
    return LLMClient(EMBEDDED, settings, embedded_server=EmbeddedPool(servers))


@pytest.mark.parametrize(
    ("servers", "threads", "cores", "shape"),
    [(None, None, 2, (2, 1)), (None, None, 1, (1, 1)), (None, None, 16, (4, 4)), (None, None, 6, (4, 1)),
     (1, None, 2, (1, 2)), (1, None, 64, (1, 4)), (3, 2, 2, (3, 2))],
)  # fmt: skip
def test_the_pool_shape_defaults_to_one_server_per_core(servers, threads, cores, shape):
    assert pool_shape(servers, threads, cores) == shape


@pytest.mark.parametrize(("servers", "threads"), [(0, None), (-1, None), (2, 0)])
def test_a_pool_shape_below_one_is_refused(servers, threads):
    with pytest.raises(LLMConfigError, match="motivation.embedded"):
        pool_shape(servers, threads, cores=2)


def test_an_empty_pool_is_refused():
    with pytest.raises(LLMConfigError):
        EmbeddedPool([])


def test_each_server_gets_every_nth_request_in_order_and_results_keep_input_order():
    # The first server is slower: with a shared queue it would answer fewer requests, and in another order.
    servers = [FakeEmbeddedServer(latency_s=0.03, reply=echo), FakeEmbeddedServer(reply=echo)]
    with pooled_client(servers) as client:
        assert client.lanes == 2
        results = client.complete_many([question(i) for i in range(7)])
        assert all(server.running for server in servers)
    assert not any(server.running for server in servers)  # stopped with the client
    assert servers[0].questions() == [f"question {i}" for i in (0, 2, 4, 6)]
    assert servers[1].questions() == [f"question {i}" for i in (1, 3, 5)]
    assert all(server.fake.max_in_flight == 1 for server in servers)
    assert [r.text for r in results] == [f"answer to question {i}" for i in range(7)]


def test_a_fatal_error_on_one_server_stops_the_other_lanes_at_once():
    servers = [FakeEmbeddedServer(latency_s=0.02), FakeEmbeddedServer(expected_key="only-this-key")]
    with pooled_client(servers) as client, pytest.raises(LLMAuthenticationError):
        client.complete_many([question(i) for i in range(200)])
    assert servers[0].fake.n_requests < 100  # the healthy lane's share was cancelled, not worked through


def test_a_pool_that_cannot_start_stops_the_servers_it_started():
    servers = [FakeEmbeddedServer(), FakeEmbeddedServer(fail_to_start=True)]
    with pytest.raises(LLMEndpointUnreachable):
        EmbeddedPool(servers).start()
    assert not any(server.running for server in servers)


def test_the_session_builds_one_lane_per_configured_server_without_starting_them():
    models = {"smollm2": {"model": EMBEDDED_MODEL_ALIAS, "base_url": None}}
    llm = LLMSettings.from_params(
        models, {"show_progress": False}, {"servers": 3, "n_threads": 1}, "motivation"
    )
    client = build_client("smollm2", llm, None, usage=None)
    assert client.lanes == 3 and client.settings.concurrency == 3
    assert not client._embedded.running and [s.n_threads for s in client._embedded.servers] == [1, 1, 1]
    remote_models = {"r": {"model": "m", "base_url": "http://127.0.0.1:9/v1", "require_api_key": False}}
    remote = build_client(
        "r", LLMSettings.from_params(remote_models, {"concurrency": 5}, {"servers": 3}, "m"), None, usage=None
    )
    assert remote.lanes == 1 and remote.settings.concurrency == 5


def test_servers_keep_every_token_s_logits_only_when_log_probabilities_are_asked_for():
    def flag(server: EmbeddedServer) -> str:
        command = server.command(Path("model.gguf"), 8080)
        return command[command.index("--logits_all") + 1]

    assert flag(EmbeddedServer()) == "False" and flag(EmbeddedServer(logprobs=True)) == "True"
    models = {"smollm2": {"model": EMBEDDED_MODEL_ALIAS, "base_url": None}}
    for logprobs in (False, True):
        llm = LLMSettings.from_params(models, {}, {"servers": 2}, "motivation")
        client = build_client("smollm2", llm, None, usage=None, logprobs=logprobs)
        assert client._embedded.logprobs is logprobs
        assert all(server.logprobs is logprobs for server in client._embedded.servers)


def test_a_log_probability_request_to_servers_without_them_fails_before_starting_them():
    servers = [FakeEmbeddedServer(), FakeEmbeddedServer()]
    request = ChatRequest.from_messages(
        [{"role": "user", "content": "A or B?"}], max_tokens=1, top_logprobs=5
    )
    with pooled_client(servers) as client:
        with pytest.raises(LLMConfigError, match="log-probabilities"):
            client.complete(request)
        assert not any(server.running for server in servers)
        assert client.complete(question(0)).ok  # a plain request still goes through


@pytest.mark.llm
@pytest.mark.slow
def test_two_real_servers_answer_together_and_stop_with_the_client():
    try:
        find_embedded_gguf()
    except Exception as error:
        pytest.skip(f"embedded model not installed: {error}")
    pool = EmbeddedPool.create(n_servers=2, n_threads=1)
    with LLMClient(
        EMBEDDED, CallSettings(timeout_s=120, show_progress=False), embedded_server=pool
    ) as client:
        results = client.complete_many([question(i) for i in range(4)])
        assert pool.running and len({server.port for server in pool.servers}) == 2
    assert not any(server.running for server in pool.servers)
    assert all(r.ok and r.text for r in results), [r.error for r in results]
