"""How many failed LLM calls a stage tolerates: the stage's failure budget and the endpoint's circuit breaker.

A failed request (after its retries) becomes a failed row of the stage's output, never an invented answer.
Some failures are expected (a small model's malformed body, one prompt over the context window), so a
stage may carry a few; but a stage whose calls mostly failed must not end "successfully" with no
motivations. Two checks make that loud:

- ``check_failure_budget``: when a stage's calls are done, its share of failed requests (cache hits
  included in the denominator, so a re-run that retries only the failures is judged on the whole stage)
  above ``max_failed_fraction`` raises ``LLMFailureBudgetExceeded`` with the counts by kind and endpoint and
  how to resume. Below it every failure kind is logged as a warning and stays in the usage report.
- ``CircuitBreaker``: ``threshold`` requests in a row failing on the endpoint's side (timeouts, refused or
  reset connections, HTTP 5xx/408, malformed bodies) stop the stage at once with
  ``LLMEndpointFailing``, so an endpoint that accepts connections and never answers costs about one
  request deadline, not a deadline per request. Failures specific to one request (HTTP 400 such as a
  context overflow, other 4xx) prove the endpoint is answering and neither count nor reset it. Nor does
  HTTP 429: a rate-limited endpoint is healthy, and the client slows down instead
  (``momorec.llm.rate_limit``, which stops a 429 storm after ``limits.max_wait_s``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from momorec.llm.errors import RESUME_HINT, LLMEndpointFailing, LLMFailureBudgetExceeded

logger = logging.getLogger(__name__)

# Failure kinds that say nothing about the endpoint's health, only about one request.
REQUEST_SPECIFIC_KINDS = ("context_overflow",)


def is_endpoint_failure(kind: str) -> bool:
    """Whether a failure kind counts toward the circuit breaker (the endpoint's side, not the request's)."""
    if kind in REQUEST_SPECIFIC_KINDS:
        return False
    if kind.startswith("http_"):
        status = int(kind.removeprefix("http_"))
        return status >= 500 or status == 408
    return True


def describe_failures(usage: Mapping[str, Any]) -> str:
    """``"timeout x3, http_500 x1 at model 'a' (...)"``, one clause per endpoint, most failures first."""
    clauses = []
    for endpoint, kinds in usage.get("failure_endpoints", {}).items():
        counts = ", ".join(
            f"{kind} x{n}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        clauses.append(f"{counts} at {endpoint}")
    if not clauses:  # a usage record from before per-endpoint counts
        clauses = [", ".join(f"{kind} x{n}" for kind, n in usage.get("failure_kinds", {}).items())]
    return "; ".join(clauses)


def check_failure_budget(usage: Mapping[str, Any], max_failed_fraction: float) -> None:
    """Raise when the stage's share of failed requests exceeds ``max_failed_fraction``; else log each kind."""
    failures, requests = int(usage.get("failures", 0)), int(usage.get("requests", 0))
    if failures == 0:
        return
    stage = usage.get("stage", "?")
    share = failures / max(requests, 1)
    if share > max_failed_fraction:
        raise LLMFailureBudgetExceeded(
            f"LLM stage {stage!r}: {failures} of {requests} requests failed ({share:.0%}, above the failure "
            f"budget of {max_failed_fraction:.0%}, client.max_failed_fraction): {describe_failures(usage)}. "
            f"{RESUME_HINT}"
        )
    for endpoint, kinds in usage.get("failure_endpoints", {}).items():
        for kind, n in sorted(kinds.items()):
            logger.warning(
                "LLM stage %r: %d of %d requests failed with %s at %s (within the failure budget of %.0f%%; "
                "they are failed rows of the stage's output and are retried on the next run)",
                stage, n, requests, kind, endpoint, 100 * max_failed_fraction,
            )  # fmt: skip


class CircuitBreaker:
    """Opens after ``threshold`` endpoint-side failures in a row of one endpoint; a success closes the count."""

    def __init__(self, threshold: int, endpoint_label: str) -> None:
        self.threshold = threshold
        self.endpoint_label = endpoint_label
        self._lock = threading.Lock()
        self._consecutive: list[tuple[str, str]] = []  # (kind, message) of the current run of failures
        self._open_message: str | None = None  # set once the breaker opens

    def check(self) -> None:
        """Raise the breaker's error when it is open (called before each request)."""
        with self._lock:
            if self._open_message is not None:
                raise LLMEndpointFailing(self._open_message)

    def record_success(self) -> None:
        with self._lock:
            self._consecutive.clear()

    def record_failure(self, kind: str, message: str) -> None:
        """Count one failed request; raise ``LLMEndpointFailing`` when this one opens (or finds open) the breaker."""
        if not is_endpoint_failure(kind):
            return
        with self._lock:
            if self._open_message is None:
                self._consecutive.append((kind, message))
                if len(self._consecutive) >= self.threshold:
                    kinds: dict[str, int] = {}
                    for failed_kind, _ in self._consecutive:
                        kinds[failed_kind] = kinds.get(failed_kind, 0) + 1
                    counts = ", ".join(f"{k} x{n}" for k, n in kinds.items())
                    self._open_message = (
                        f"Stopped calling {self.endpoint_label}: {len(self._consecutive)} requests in a row "
                        f"failed ({counts}; last: {message}). Check that the server answers and that its "
                        f"timeouts fit client.timeout_s / client.deadline_s. {RESUME_HINT}"
                    )
            if self._open_message is not None:
                raise LLMEndpointFailing(self._open_message)
