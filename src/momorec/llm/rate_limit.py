"""Client-side rate limits of one model: requests and tokens per minute, requests in flight, HTTP 429.

A hosted API refuses requests beyond a key's quota with HTTP 429, often with a ``Retry-After`` header. The
client keeps under the configured quota itself (``RateLimits``, from ``<model entry>.limits``) and, when
the endpoint still answers 429, slows down instead of failing:

- **Sliding windows.** At most ``requests_per_minute`` requests start, and at most ``tokens_per_minute``
  tokens are reserved, in any window of ``window_s`` seconds (60; shorter only in tests), plus a margin
  (5 %, at least 0.25 s) for the network delay between the client's send and the server's count. A request reserves
  its estimated tokens (prompt at 4 characters per token, plus ``max_tokens``) before it is sent; the
  endpoint's reported usage replaces the estimate when the answer arrives. A request larger than the whole
  token budget is sent alone, once the window is empty.
- **Concurrency.** At most ``max_concurrency`` requests in flight, whatever the number of worker threads.
- **HTTP 429.** Every worker pauses until ``Retry-After`` (seconds or an HTTP date; else an exponential
  backoff; at least 0.1 s) and the request rate is halved (down to a tenth), then recovers step by step with
  each answered request. Without a configured ``requests_per_minute`` the number of requests in flight is
  halved instead (down to one), and grows back by one per that many answered requests. A 429 is neither a
  retry of the request nor a failure for the circuit breaker.
- **No endless waiting.** When the endpoint has answered nothing but 429 for ``max_wait_s`` seconds, the
  stage stops with ``LLMRateLimited``: the quota is too small or exhausted, and waiting will not help.

One limiter is shared by every client of the same model at the same endpoint in this process
(``shared_limiter``), so the worker threads of one client and the clients of consecutive nodes keep one
budget. Thread-safe.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from momorec.llm.errors import LLMConfigError

WINDOW_S = 60.0
# A request leaves the client's window this share of the window later than it would at the server: the
# server counts arrivals, which trail the client's send times by a varying network delay.
_WINDOW_SLACK = 0.05
_MIN_SLACK_S = 0.25
# A 429 halves the request rate, down to this share of the configured one; each answered request gives back
# this share of the configured rate.
_SLOWDOWN = 0.5
_MIN_RATE_SHARE = 0.1
_RECOVERY_STEP = 0.05
# Backoff after a 429 without Retry-After: first pause, doubled per 429 in a row, capped.
_BACKOFF_FIRST_S = 1.0
_BACKOFF_MAX_S = 60.0
# Past this many, the in-flight cap learned from 429s is lifted.
_MAX_IN_FLIGHT_CAP = 64
# How often a worker held back by the in-flight cap looks again.
_IN_FLIGHT_POLL_S = 0.02
# The shortest pause after a 429 (a "Retry-After: 0" must not turn into a tight loop of refused requests).
_MIN_PAUSE_S = 0.1
# A Retry-After beyond this is capped: a server that asks for an hour is a quota problem (max_wait_s decides).
_RETRY_AFTER_CAP_S = 300.0


class LimitWaitExceeded(Exception):
    """Raised inside the client when the 429 budget (``max_wait_s``) is spent; turned into ``LLMRateLimited``."""


def positive_setting(value: Any, key: str, integer: bool) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LLMConfigError(f"{key} must be a positive number or null, got {value!r}")
    if integer and not float(value).is_integer():
        raise LLMConfigError(f"{key} must be a whole number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise LLMConfigError(f"{key} must be > 0 or null, got {value!r}")
    return int(value) if integer else float(value)


@dataclass(frozen=True)
class RateLimits:
    """The limits of one model (``None``: no client-side limit of that kind)."""

    requests_per_minute: float | None = None
    tokens_per_minute: int | None = None
    max_concurrency: int | None = None
    # The longest time the endpoint may answer only 429 before the stage stops.
    max_wait_s: float = 600.0

    KEYS = ("requests_per_minute", "tokens_per_minute", "max_concurrency", "max_wait_s")

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None, key: str) -> RateLimits:
        """The limits under ``key`` (e.g. ``motivation.models.gpt.limits``); every error names the bad key."""
        if params is None:
            return cls()
        if not isinstance(params, Mapping):
            raise LLMConfigError(f"{key} must be a mapping of {list(cls.KEYS)}, got {params!r}")
        unknown = set(params) - set(cls.KEYS)
        if unknown:
            raise LLMConfigError(f"{key}: unknown keys {sorted(unknown)} (known: {list(cls.KEYS)})")
        max_wait = positive_setting(
            params.get("max_wait_s", cls.max_wait_s), f"{key}.max_wait_s", integer=False
        )
        return cls(
            requests_per_minute=positive_setting(
                params.get("requests_per_minute"), f"{key}.requests_per_minute", integer=False
            ),
            tokens_per_minute=positive_setting(
                params.get("tokens_per_minute"), f"{key}.tokens_per_minute", integer=True
            ),
            max_concurrency=positive_setting(
                params.get("max_concurrency"), f"{key}.max_concurrency", integer=True
            ),
            max_wait_s=cls.max_wait_s if max_wait is None else max_wait,
        )

    def describe(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.KEYS}


def retry_after_seconds(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """The pause a 429/503 answer asks for: ``retry-after-ms``, ``Retry-After`` in seconds or as an HTTP date.

    ``None`` when the answer names none (or an unreadable one); never negative.
    """
    if not headers:
        return None
    lowered = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    milliseconds = lowered.get("retry-after-ms")
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000.0, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(moment.timestamp() - (time.time() if now is None else now), 0.0)


class RateLimiter:
    """Sliding-window request and token budgets, a concurrency bound and the 429 slow-down of one model."""

    def __init__(
        self,
        limits: RateLimits,
        label: str = "the endpoint",
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits
        self.label = label
        self.window_s = window_s
        self._span = window_s + max(window_s * _WINDOW_SLACK, _MIN_SLACK_S)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()  # send times of the window's requests
        self._tokens: deque[list[float]] = deque()  # [send time, reserved tokens] of the window's requests
        self._token_sum = 0.0
        self._rate_share = 1.0  # of requests_per_minute, lowered by 429s
        # Without a configured requests_per_minute a 429 halves the requests in flight instead (``None``:
        # no cap); each answered request brings the cap closer to where it was.
        self._in_flight = 0
        self._in_flight_cap: int | None = None
        self._cap_credit = 0
        self._paused_until = 0.0
        self._rate_limited_in_a_row = 0
        self._streak_started = 0.0  # when the current run of 429s (no answer in between) began
        self._semaphore = (
            threading.BoundedSemaphore(limits.max_concurrency) if limits.max_concurrency is not None else None
        )
        self.n_rate_limited = 0  # 429 answers seen
        self.waited_s = 0.0  # seconds workers spent waiting for the budget or a pause

    # ------------------------------------------------------------------ before and after a request
    def acquire(self, estimated_tokens: int) -> list[float] | None:
        """Wait until a request of ``estimated_tokens`` fits every budget; returns its token reservation."""
        if self._semaphore is not None:
            self._semaphore.acquire()
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    self._check_stalled(now)
                    self._forget_before(now - self._span)
                    wait = self._wait_needed(now, estimated_tokens)
                    if wait <= 0:
                        self._in_flight += 1
                        self._starts.append(now)
                        reservation = None
                        if self.limits.tokens_per_minute is not None:
                            reservation = [now, float(estimated_tokens)]
                            self._tokens.append(reservation)
                            self._token_sum += estimated_tokens
                        return reservation
                with self._lock:
                    self.waited_s += wait
                self._sleep(wait)
        except BaseException:
            if self._semaphore is not None:
                self._semaphore.release()
            raise

    def release(self, reservation: list[float] | None, used_tokens: int | None, answered: bool) -> None:
        """After the answer: the reservation becomes the tokens used; an answered request is progress."""
        with self._lock:
            self._in_flight -= 1
            if reservation is not None and used_tokens is not None and used_tokens > 0:
                # The reservation may already have left the window; then it no longer counts.
                if any(entry is reservation for entry in self._tokens):
                    self._token_sum += used_tokens - reservation[1]
                reservation[1] = float(used_tokens)
            if answered:
                self._rate_limited_in_a_row = 0
                self._rate_share = min(1.0, self._rate_share + _RECOVERY_STEP)
                if self._in_flight_cap is not None:
                    self._cap_credit += 1
                    if self._cap_credit >= self._in_flight_cap:  # additive increase: +1 per cap answers
                        self._in_flight_cap, self._cap_credit = self._in_flight_cap + 1, 0
                        if self._in_flight_cap > _MAX_IN_FLIGHT_CAP:
                            self._in_flight_cap = None
        if self._semaphore is not None:
            self._semaphore.release()

    def rate_limited(self, retry_after_s: float | None) -> float:
        """Record a 429: pause every worker (``Retry-After`` or a backoff) and halve the rate; the pause in s.

        Raises ``LimitWaitExceeded`` when the endpoint has answered only 429s for ``max_wait_s``.
        """
        with self._lock:
            now = self._clock()
            self.n_rate_limited += 1
            if self._rate_limited_in_a_row == 0:
                self._streak_started = now
            self._rate_limited_in_a_row += 1
            self._check_stalled(now)
            if retry_after_s is None:
                pause = min(_BACKOFF_FIRST_S * 2 ** (self._rate_limited_in_a_row - 1), _BACKOFF_MAX_S)
            else:
                pause = min(max(retry_after_s, _MIN_PAUSE_S), _RETRY_AFTER_CAP_S)
            self._paused_until = max(self._paused_until, now + pause)
            if self.limits.requests_per_minute is None:
                current = self._in_flight_cap or max(self._in_flight, 1)
                self._in_flight_cap, self._cap_credit = max(1, current // 2), 0
            self._rate_share = max(_MIN_RATE_SHARE, self._rate_share * _SLOWDOWN)
            return pause

    # ------------------------------------------------------------------ internals (lock held)
    def _check_stalled(self, now: float) -> None:
        stalled_s = now - self._streak_started
        if self._rate_limited_in_a_row and stalled_s > self.limits.max_wait_s:
            raise LimitWaitExceeded(
                f"{self.label} answered HTTP 429 (rate limited) {self._rate_limited_in_a_row} times in a row and "
                f"nothing else for {stalled_s:.0f} s (limits.max_wait_s = "
                f"{self.limits.max_wait_s:g}): the key's quota is exhausted or far below the configured limits. "
                f"Lower requests_per_minute / tokens_per_minute under the model's limits, or raise the quota."
            )

    def _forget_before(self, horizon: float) -> None:
        while self._starts and self._starts[0] <= horizon:
            self._starts.popleft()
        while self._tokens and self._tokens[0][0] <= horizon:
            self._token_sum -= self._tokens.popleft()[1]

    def _wait_needed(self, now: float, estimated_tokens: int) -> float:
        waits = [self._paused_until - now]
        rpm = self.limits.requests_per_minute
        if self._in_flight_cap is not None and self._in_flight >= self._in_flight_cap:
            waits.append(_IN_FLIGHT_POLL_S)
        if rpm is not None:
            # The window's budget at the current (possibly lowered) rate; at least one request per window.
            allowed = max(1, math.floor(rpm * self.window_s / WINDOW_S * self._rate_share))
            if len(self._starts) >= allowed:
                waits.append(self._starts[len(self._starts) - allowed] + self._span - now)
        tpm = self.limits.tokens_per_minute
        if tpm is not None and self._tokens:
            budget = tpm * self.window_s / WINDOW_S
            if self._token_sum + estimated_tokens > budget:
                # Wait for the oldest reservation to leave the window (a large request waits for an empty one).
                waits.append(self._tokens[0][0] + self._span - now)
        return max(max(waits), 0.0) if waits else 0.0


_shared: dict[tuple[str, RateLimits, float], RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(identity: str, limits: RateLimits, label: str, window_s: float = WINDOW_S) -> RateLimiter:
    """The process's limiter for one model at one endpoint (``identity``) with these limits."""
    key = (identity, limits, window_s)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = RateLimiter(limits, label, window_s)
        return _shared[key]
