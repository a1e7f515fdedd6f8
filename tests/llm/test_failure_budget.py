"""The failure budget of a stage, the circuit breaker of an endpoint, and the request deadline."""

from __future__ import annotations

import logging
import time

import pytest

from momorec.llm import CallSettings, ChatRequest, EndpointConfig, LLMClient, UsageRecorder
from momorec.llm.errors import LLMConfigError, LLMEndpointFailing, LLMFailureBudgetExceeded
from momorec.llm.failure_budget import CircuitBreaker, check_failure_budget, is_endpoint_failure
from momorec.llm.session import open_clients
from momorec.llm.settings import LLMSettings
from momorec.llm.testing import Action, BlackHoleServer, FakeChatServer

ENDPOINT = "model 'm' (served-m at http://127.0.0.1:1/v1)"


def request(i: int) -> ChatRequest:
    return ChatRequest.from_messages([{"role": "user", "content": f"question {i}"}], max_tokens=8)


def _usage(ok: int, failures: dict[str, int]) -> dict:
    usage = UsageRecorder("arena_agents")
    for _ in range(ok):
        usage.record_cache_hit()
    for kind, n in failures.items():
        for _ in range(n):
            usage.record_failure(1, kind, ENDPOINT)
    return usage.as_dict()


def test_above_the_budget_the_error_says_how_many_of_which_kind_where_and_how_to_resume():
    with pytest.raises(LLMFailureBudgetExceeded) as error:
        check_failure_budget(_usage(6, {"timeout": 3, "http_500": 1}), 0.2)
    message = str(error.value)
    assert "'arena_agents'" in message and "4 of 10 requests failed (40%" in message
    assert f"timeout x3, http_500 x1 at {ENDPOINT}" in message
    assert "llm_cache" in message and "run again" in message


def test_within_the_budget_each_kind_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="momorec.llm.failure_budget"):
        check_failure_budget(_usage(18, {"context_overflow": 1, "http_400": 1}), 0.2)
    assert len(caplog.records) == 2
    assert "1 of 20 requests failed with context_overflow" in caplog.text and ENDPOINT in caplog.text


def test_the_budget_is_a_strict_share_and_zero_failures_pass():
    check_failure_budget(_usage(8, {"timeout": 2}), 0.2)  # exactly 20%: allowed
    with pytest.raises(LLMFailureBudgetExceeded):
        check_failure_budget(_usage(7, {"timeout": 2}), 0.2)
    check_failure_budget(_usage(0, {}), 0.0)
    with pytest.raises(LLMFailureBudgetExceeded):
        check_failure_budget(_usage(99, {"timeout": 1}), 0.0)


def test_settings_reject_impossible_budgets():
    with pytest.raises(LLMConfigError, match="max_failed_fraction"):
        CallSettings(max_failed_fraction=1.5)
    with pytest.raises(LLMConfigError, match="deadline_s"):
        CallSettings(deadline_s=0)
    with pytest.raises(LLMConfigError, match="circuit_breaker_failures"):
        CallSettings(circuit_breaker_failures=0)


def test_which_failures_count_toward_the_breaker():
    assert all(is_endpoint_failure(k) for k in ["timeout", "connection", "http_500", "http_408",
                                                 "malformed_response", "empty_response"])  # fmt: skip
    # 429 says the endpoint is healthy but rate-limited: the client slows down (momorec.llm.rate_limit).
    assert not any(is_endpoint_failure(k) for k in ["context_overflow", "http_400", "http_422", "http_429"])


def test_the_breaker_opens_after_n_in_a_row_and_a_success_resets_it():
    breaker = CircuitBreaker(3, ENDPOINT)
    breaker.record_failure("timeout", "slow")
    breaker.record_failure("http_400", "bad request")  # request-specific: neither counts nor resets
    breaker.record_success()
    breaker.record_failure("timeout", "slow")
    breaker.record_failure("http_503", "busy")
    with pytest.raises(LLMEndpointFailing, match=r"3 requests in a row failed \(timeout x2, http_503 x1"):
        breaker.record_failure("timeout", "slow again")
    with pytest.raises(LLMEndpointFailing, match=ENDPOINT.replace("(", r"\(").replace(")", r"\)")):
        breaker.check()


def _client(base_url: str, **settings) -> LLMClient:
    defaults = {"backoff_s": 0.01, "max_backoff_s": 0.02, "show_progress": False}
    endpoint = EndpointConfig(name="fake", model="fake-model", base_url=base_url)
    return LLMClient(endpoint, CallSettings(**{**defaults, **settings}), usage=UsageRecorder("test"))


def test_the_deadline_bounds_a_request_with_all_its_retries():
    with BlackHoleServer() as black_hole:
        client = _client(black_hole.base_url, timeout_s=0.4, deadline_s=0.7, max_retries=5)
        started = time.perf_counter()
        result = client.complete(request(0))
        elapsed = time.perf_counter() - started
        client.close()
    assert not result.ok and result.error_kind == "timeout"
    assert "deadline of 0.7 s" in result.error
    assert 0.6 < elapsed < 1.5  # two attempts (0.4 s + the 0.3 s left), not six of 0.4 s


def test_a_hanging_endpoint_stops_a_batch_through_the_breaker():
    with BlackHoleServer() as black_hole:
        client = _client(
            black_hole.base_url, timeout_s=0.3, deadline_s=0.3, concurrency=2, circuit_breaker_failures=3
        )
        started = time.perf_counter()
        with pytest.raises(LLMEndpointFailing, match="timeout x3"):
            client.complete_many([request(i) for i in range(40)])
        elapsed = time.perf_counter() - started
        client.close()
    assert elapsed < 3  # ~2 rounds of 0.3 s, not 40 requests x 0.3 s / 2 workers
    assert client.usage.as_dict()["failures"] < 10


def test_leaving_the_client_checks_the_budget_but_not_after_an_error():
    with FakeChatServer(default_action=Action(status=400)) as server:
        with pytest.raises(LLMFailureBudgetExceeded, match="http_400 x2"), _client(server.base_url) as client:
            client.complete_many([request(0), request(1)])
        # The node's own error is not replaced by the budget's.
        with pytest.raises(KeyError), _client(server.base_url) as client:
            client.complete(request(0))
            raise KeyError("node bug")


def test_open_clients_checks_the_shared_usage_once():
    with FakeChatServer(default_action=Action(status=400)) as server:
        models = {"a": {"model": "fake-model", "base_url": server.base_url, "require_api_key": False}}
        usage = UsageRecorder("judge")
        client_params = {"show_progress": False, "max_failed_fraction": 0.5}
        llm = LLMSettings.from_params(models, client_params, {}, "motivation")
        with (
            pytest.raises(LLMFailureBudgetExceeded, match=r"'judge': 1 of 1 requests"),
            open_clients(["a"], llm, None, usage) as clients,
        ):
            clients["a"].complete(request(0))
