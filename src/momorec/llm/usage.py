"""Usage accounting of LLM calls: counts, tokens, cost, latencies and failures, per stage and per run.

``cost_usd`` is priced by each call's model (``EndpointConfig.cost_usd``: 0 for the embedded model, ``None``
for a remote model without prices), so it compares with the dry run's estimate (``momorec.llm.estimate``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

COUNTERS = (
    "requests",
    "calls",
    "cache_hits",
    "attempts",
    "retries",
    "failures",
    "prompt_tokens",
    "completion_tokens",
    "rate_limited",
)


class UsageRecorder:
    """Thread-safe counters for one stage (e.g. ``generation``); ``as_dict`` is what nodes return.

    ``calls`` are requests that went to the endpoint (cache misses), ``attempts`` counts every HTTP try
    including retries, ``cache_hits`` are requests answered from the cache. Failures are counted by kind
    (``failure_kinds``) and by endpoint and kind (``failure_endpoints``, endpoints named by
    ``EndpointConfig.label``), so a failure report can say what failed where.
    """

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._failure_kinds: dict[str, int] = {}
        self._failure_endpoints: dict[str, dict[str, int]] = {}
        self._latencies: list[float] = []
        self._rate_limit_wait_s = 0.0
        self._cost_usd: float | None = 0.0

    def record_cache_hit(self) -> None:
        with self._lock:
            self._counts["requests"] += 1
            self._counts["cache_hits"] += 1

    def record_call(
        self,
        attempts: int,
        latency_s: float,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float | None = 0.0,
    ) -> None:
        """One answered call; ``cost_usd`` ``None``: the model has no price (the stage's cost is unknown)."""
        with self._lock:
            self._cost_usd = None if cost_usd is None or self._cost_usd is None else self._cost_usd + cost_usd
            self._counts["requests"] += 1
            self._counts["calls"] += 1
            self._counts["attempts"] += attempts
            self._counts["retries"] += attempts - 1
            self._counts["prompt_tokens"] += prompt_tokens
            self._counts["completion_tokens"] += completion_tokens
            self._latencies.append(latency_s)

    def record_rate_limited(self, pause_s: float) -> None:
        """One HTTP 429 answer (not a request's failure: the request waits ``pause_s`` and is sent again)."""
        with self._lock:
            self._counts["rate_limited"] += 1
            self._rate_limit_wait_s += pause_s

    def record_failure(self, attempts: int, kind: str, endpoint: str = "unknown endpoint") -> None:
        with self._lock:
            self._counts["requests"] += 1
            self._counts["calls"] += 1
            self._counts["attempts"] += attempts
            self._counts["retries"] += max(attempts - 1, 0)
            self._counts["failures"] += 1
            self._failure_kinds[kind] = self._failure_kinds.get(kind, 0) + 1
            per_endpoint = self._failure_endpoints.setdefault(endpoint, {})
            per_endpoint[kind] = per_endpoint.get(kind, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "stage": self.stage,
                **self._counts,
                "failure_kinds": dict(self._failure_kinds),
                "failure_endpoints": {e: dict(k) for e, k in self._failure_endpoints.items()},
                "latencies_s": list(self._latencies),
                "rate_limit_wait_s": round(self._rate_limit_wait_s, 3),
                "cost_usd": None if self._cost_usd is None else round(self._cost_usd, 6),
            }


def _percentiles(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"latency_p50_s": None, "latency_p90_s": None, "latency_p99_s": None, "latency_max_s": None}
    values = np.asarray(latencies, dtype=float)
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {
        "latency_p50_s": round(float(p50), 4),
        "latency_p90_s": round(float(p90), 4),
        "latency_p99_s": round(float(p99), 4),
        "latency_max_s": round(float(values.max()), 4),
    }


def merge_usage(stage_usages: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals and latency percentiles over stages, with a per-stage breakdown (no raw latency lists).

    Each stage keeps its failures by kind, so the usage table says which stage failed how.
    """
    totals = dict.fromkeys(COUNTERS, 0)
    failure_kinds: dict[str, int] = {}
    latencies: list[float] = []
    stages: dict[str, Any] = {}
    cost: float | None = 0.0
    for usage in stage_usages:
        stage_cost = usage.get("cost_usd", 0.0)
        cost = None if stage_cost is None or cost is None else cost + float(stage_cost)
        for counter in COUNTERS:
            totals[counter] += int(usage.get(counter, 0))
        for kind, n in usage.get("failure_kinds", {}).items():
            failure_kinds[kind] = failure_kinds.get(kind, 0) + int(n)
        stage_latencies = list(usage.get("latencies_s", []))
        latencies.extend(stage_latencies)
        stage_summary = (
            {c: int(usage.get(c, 0)) for c in COUNTERS}
            | {
                "failure_kinds": dict(usage.get("failure_kinds", {})),
                "cost_usd": stage_cost,
                "rate_limit_wait_s": float(usage.get("rate_limit_wait_s", 0.0)),
            }
            | _percentiles(stage_latencies)
        )
        stages[str(usage.get("stage", f"stage_{len(stages)}"))] = stage_summary
    cost = None if cost is None else round(cost, 6)
    return {
        **totals,
        "cost_usd": cost,
        "failure_kinds": failure_kinds,
        **_percentiles(latencies),
        "stages": stages,
    }
