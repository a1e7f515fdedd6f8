"""Client-side rate limits and HTTP 429 against a real rate-limited OpenAI-compatible server (no mocks).

The fake server serves at most N requests in any sliding window and answers the rest 429 with Retry-After,
as hosted APIs do per minute; the window is 1 s here so a test takes seconds (the client's limiter takes the
same window, so "N per window" means what "N per minute" means in a real run).
"""

from __future__ import annotations

import email.utils
import threading
import time

import pandas as pd
import pytest

from momorec.agents.analysis import AnalysisSettings
from momorec.agents.arena import AgentSpec, run_agents
from momorec.llm import (
    CallSettings,
    ChatRequest,
    EndpointConfig,
    LLMClient,
    LLMConfigError,
    LLMEndpointFailing,
    UsageRecorder,
)
from momorec.llm.errors import LLMRateLimited
from momorec.llm.rate_limit import RateLimiter, RateLimits, retry_after_seconds
from momorec.llm.structured import SamplingPlan
from momorec.llm.testing import Action, FakeChatServer

WINDOW_S = 1.0
QUICK = {"show_progress": False, "backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 5.0, "max_retries": 2}


def _client(server: FakeChatServer, limits: RateLimits | None = None, **settings) -> LLMClient:
    limits = limits or RateLimits()
    endpoint = EndpointConfig(name="fake", model="fake-model", base_url=server.base_url, limits=limits)
    limiter = RateLimiter(limits, endpoint.label(), window_s=WINDOW_S)
    return LLMClient(
        endpoint, CallSettings(**{**QUICK, **settings}), usage=UsageRecorder("test"), rate_limiter=limiter
    )


def _requests(n: int) -> list[ChatRequest]:
    return [
        ChatRequest.from_messages([{"role": "user", "content": f"q {i}"}], max_tokens=8) for i in range(n)
    ]


def _motivation_pairs(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_a": range(n),
            "item_b": range(n, 2 * n),
            "title_a": [f"Kettle grill model {i}" for i in range(n)],
            "title_b": [f"Grill tongs size {i}" for i in range(n)],
            "category_a": ["Garden"] * n,
            "category_b": ["Kitchen"] * n,
        }
    )


# ---------------------------------------------------------------------------------------------- Retry-After
def test_retry_after_in_seconds_milliseconds_and_as_an_http_date():
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28.0 <= retry_after_seconds({"Retry-After": date}, now=now) <= 31.0
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert retry_after_seconds({"Retry-After": past}, now=now) == 0.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None and retry_after_seconds(None) is None


@pytest.mark.parametrize("form", ["seconds", "http_date"])
def test_retry_after_is_honoured(form):
    """A 429's Retry-After (both forms) holds the request back that long, then it is answered."""
    # HTTP dates have whole seconds: 2 s ahead is at least 1 s from now.
    header = "1" if form == "seconds" else email.utils.formatdate(time.time() + 2, usegmt=True)
    with FakeChatServer() as server, _client(server, max_retries=0) as client:
        server.queue(Action(status=429, headers=(("Retry-After", header),)))
        started = time.monotonic()
        result = client.complete(_requests(1)[0])
        elapsed = time.monotonic() - started
        assert result.ok and server.n_requests == 2
        assert elapsed >= 0.95
        usage = client.usage.as_dict()
        assert (usage["rate_limited"], usage["failures"], usage["retries"]) == (1, 0, 0)


# ---------------------------------------------------------------------------------------------- breaker
def test_429s_do_not_trip_the_breaker_but_5xx_still_do():
    with FakeChatServer() as server:
        server.queue(*[Action(status=429, headers=(("Retry-After", "0"),))] * 6)
        with _client(server, circuit_breaker_failures=2, max_retries=0) as client:
            results = client.complete_many(_requests(3))
        assert all(r.ok for r in results)
        assert client.usage.as_dict()["rate_limited"] == 6 and client.usage.as_dict()["failures"] == 0

    with FakeChatServer(default_action=Action(status=503)) as server:
        client = _client(server, circuit_breaker_failures=2, max_retries=0, concurrency=1)
        with pytest.raises(LLMEndpointFailing, match="2 requests in a row"):
            client.complete_many(_requests(5))
        client.close()
        assert server.n_requests == 2


def test_a_429_storm_ends_loudly_after_max_wait():
    """An endpoint that answers nothing but 429 stops the stage after limits.max_wait_s, naming the key."""
    storm = Action(status=429, headers=(("Retry-After", "0"),))
    with FakeChatServer(default_action=storm) as server:
        client = _client(server, RateLimits(max_wait_s=0.5))
        started = time.monotonic()
        with pytest.raises(LLMRateLimited, match="max_wait_s") as raised:
            client.complete_many(_requests(4))
        client.close()
    assert time.monotonic() - started < 10
    assert "requests_per_minute" in str(raised.value) and "429" in str(raised.value)


def test_429s_without_retry_after_back_off_exponentially():
    with FakeChatServer() as server:
        server.queue(Action(status=429), Action(status=429))  # no header: 1 s, then 2 s
        with _client(server) as client:
            started = time.monotonic()
            assert client.complete(_requests(1)[0]).ok
        assert time.monotonic() - started >= 2.9
        assert client.usage.as_dict()["rate_limit_wait_s"] == pytest.approx(3.0, abs=0.01)


# ---------------------------------------------------------------------------------------------- the quota
def test_a_motivation_batch_against_n_per_window_finishes_with_no_failed_call():
    """No client-side limit: the server's 429s + Retry-After slow the client; every call is answered."""
    n_per_window = 6
    agent = AgentSpec("goal_analyst@fake", "goal_analyst", "fake")
    settings = AnalysisSettings(
        generation=SamplingPlan(temperature=0.2, max_tokens=64, seed=7),
        summary=SamplingPlan(temperature=0.7, max_tokens=32, seed=11),
    )
    with (
        FakeChatServer(rate_limit=n_per_window, rate_window_s=WINDOW_S) as server,
        _client(server, concurrency=4) as client,
    ):
        answers = run_agents(_motivation_pairs(12), [agent], {"fake": client}, settings)
        usage = client.usage.as_dict()
    assert (answers["status"] == "ok").all() and len(answers) == 12
    assert usage["failures"] == 0 and usage["calls"] == 24
    assert usage["rate_limited"] > 0  # the quota was met, and the client waited instead of failing
    assert server.max_served_in_window() <= n_per_window
    # It waited for the Retry-After rather than hammering: few refusals per served request.
    assert len(server.rate_limited_times) <= len(server.served_times)


def test_client_limits_keep_the_client_under_n_per_window_without_any_429():
    """requests_per_minute matched to the server's quota: no 429, and never more than N sent per window."""
    n_per_window = 5
    rpm = n_per_window * 60 / WINDOW_S
    with (
        FakeChatServer(rate_limit=n_per_window, rate_window_s=WINDOW_S) as server,
        _client(server, RateLimits(requests_per_minute=rpm), concurrency=4) as client,
    ):
        started = time.monotonic()
        results = client.complete_many(_requests(15))
        elapsed = time.monotonic() - started
    assert all(r.ok for r in results)
    assert server.rate_limited_times == [] and client.usage.as_dict()["rate_limited"] == 0
    assert server.max_served_in_window() <= n_per_window
    assert elapsed >= 2 * WINDOW_S  # 15 requests at 5 per window need three windows


def test_tokens_per_minute_spaces_requests_by_their_tokens():
    # Each request reserves ~2 prompt tokens + 8 max_tokens = 10; a 25-token window budget allows 2 at once.
    limits = RateLimits(tokens_per_minute=int(25 * 60 / WINDOW_S))
    with FakeChatServer() as server, _client(server, limits, concurrency=4) as client:
        started = time.monotonic()
        assert all(r.ok for r in client.complete_many(_requests(6)))
        elapsed = time.monotonic() - started
    # The fake server reports ~2-3 tokens per request, so used tokens free the budget sooner than reserved
    # ones would; still, at least one full window passes before the last requests fit.
    assert elapsed >= WINDOW_S * 0.9


def test_max_concurrency_bounds_requests_in_flight():
    with (
        FakeChatServer(latency_s=0.05) as server,
        _client(server, RateLimits(max_concurrency=2), concurrency=8) as client,
    ):
        assert all(r.ok for r in client.complete_many(_requests(16)))
    assert server.max_in_flight <= 2


# ---------------------------------------------------------------------------------------------- settings
@pytest.mark.parametrize(
    ("limits", "bad_key"),
    [
        ({"requests_per_minute": -5}, "requests_per_minute"),
        ({"requests_per_minute": 0}, "requests_per_minute"),
        ({"tokens_per_minute": "lots"}, "tokens_per_minute"),
        ({"tokens_per_minute": 1000.5}, "tokens_per_minute"),
        ({"max_concurrency": True}, "max_concurrency"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_wait_s": -1}, "max_wait_s"),
        ({"requests_per_second": 3}, "requests_per_second"),
        ("fast", "must be a mapping"),
    ],
)
def test_bad_limit_settings_name_the_key(limits, bad_key):
    with pytest.raises(LLMConfigError, match=rf"motivation\.models\.gpt\.limits.*{bad_key}"):
        EndpointConfig.from_params(
            "gpt", {"model": "gpt-4o-mini", "base_url": "http://x/v1", "limits": limits}
        )


@pytest.mark.parametrize("price", [-1, "cheap", True])
def test_bad_prices_name_the_key(price):
    with pytest.raises(LLMConfigError, match=r"motivation\.models\.gpt\.price_per_million_prompt_tokens"):
        EndpointConfig.from_params("gpt", {"model": "m", "price_per_million_prompt_tokens": price})


def test_limits_and_prices_are_read_from_the_model_entry():
    endpoint = EndpointConfig.from_params(
        "gpt",
        {
            "model": "m",
            "base_url": "http://127.0.0.1:9/v1",
            "limits": {"requests_per_minute": 500, "tokens_per_minute": 200000, "max_concurrency": 8},
            "price_per_million_prompt_tokens": 0.15,
            "price_per_million_completion_tokens": 0,
        },
    )
    assert endpoint.limits == RateLimits(500.0, 200000, 8)
    assert (endpoint.price_per_million_prompt_tokens, endpoint.price_per_million_completion_tokens) == (
        0.15,
        0.0,
    )
    assert endpoint.describe()["limits"]["requests_per_minute"] == 500.0


def test_without_configured_limits_a_429_halves_the_requests_in_flight():
    limiter = RateLimiter(RateLimits(), "the endpoint", window_s=WINDOW_S)
    held = [limiter.acquire(1) for _ in range(4)]  # four requests in flight
    assert limiter.rate_limited(0.0) == pytest.approx(0.1)  # "Retry-After: 0" still pauses a little
    for reservation in held[:3]:
        limiter.release(reservation, None, answered=False)
    limiter.acquire(1)  # two in flight: the new cap
    waiting = threading.Thread(target=limiter.acquire, args=(1,), daemon=True)
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive()  # held back by the cap, not by any window
    limiter.release(None, None, answered=True)
    waiting.join(2.0)
    assert not waiting.is_alive()
