"""One way to ask the LLM for a valid structured answer: a sampling plan and a retry loop around a validator.

Every task is asked up to ``plan.max_attempts`` times; a task whose answer the caller's ``validate`` accepts
stops there, the others are asked again with the next seed (and ``retry_temperature``, so a greedy answer can
actually change). A task whose every attempt is malformed, or whose call failed, keeps its last problems and
no value is made up for it. Every attempt is its own cached request, so a re-run replays the same attempts
from the cache and makes no call.

Used by the motivation agents (summaries, verdicts) and by alignment (profiles, traits, compatibility).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from momorec.llm.client import ChatRequest, ChatResult, LLMClient
from momorec.llm.errors import LLMConfigError
from momorec.llm.params import require_mapping, typed_value

Validator = Callable[[str | None], tuple[Any, list[str]]]
"""Maps an answer's text to ``(value, [])`` (accepted), ``(None, problems)`` (malformed) or
``(value, problems)`` (well-formed but rejected: retried, and the last such value is kept for the record)."""

RESULT_COLUMNS = ["key", "status", "value_json", "attempts", "error", "prompt_tokens", "completion_tokens"]

# Parameter keys a plan reads from configuration, with their types (``momorec.llm.params.typed_value``).
_PARAM_TYPES: dict[str, str] = {
    "temperature": "float",
    "max_tokens": "int",
    "top_p": "float",
    "seed": "int",
    "max_attempts": "int",
    "retry_temperature": "float | None",
    "json_mode": "bool",
    "constrained": "bool",
}


@dataclass(frozen=True)
class SamplingPlan:
    """How one kind of call samples, on its first attempt and on the retries.

    Attempt ``n`` (1-based) uses seed ``seed + n - 1``; the first uses ``temperature``, the others
    ``retry_temperature`` (``None``: ``temperature`` again). With ``salt_per_attempt`` the attempt number is
    also part of the salt, hence of the cache key. Everything here that reaches the request is part of the
    cache key, so changing a default changes which cached answers are found.
    """

    temperature: float = 0.0
    max_tokens: int = 200
    top_p: float = 1.0
    seed: int = 0
    max_attempts: int = 3
    retry_temperature: float | None = 0.7
    json_mode: bool = True
    # Whether a stage's JSON schema is sent so the server constrains decoding to it (``with_schema``).
    constrained: bool = True
    # JSON-schema text the server constrains decoding to (``None``: JSON mode only); see EndpointConfig.
    json_schema: str | None = None
    salt: str = ""
    salt_per_attempt: bool = True
    # Ask for the answer tokens' top-k log-probabilities (``None``: not asked); see ``ChatRequest``.
    top_logprobs: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise LLMConfigError(f"max_attempts: must be >= 1, got {self.max_attempts}")
        if self.max_tokens < 1:
            raise LLMConfigError(f"max_tokens: must be >= 1, got {self.max_tokens}")
        if not 0.0 < self.top_p <= 1.0:
            raise LLMConfigError(f"top_p: must be in (0, 1], got {self.top_p}")
        for name in ("temperature", "retry_temperature"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise LLMConfigError(f"{name}: must be >= 0, got {value}")

    @classmethod
    def from_params(
        cls,
        params: Mapping[str, Any],
        required: Sequence[str] = (),
        path: str = "sampling",
        **fixed: Any,
    ) -> SamplingPlan:
        """A plan from a stage's parameters (the plan's keys, typed; other keys are the caller's), with
        ``fixed`` fields on top. Errors name ``path.<key>``."""
        params = require_mapping(params, path)
        missing = [key for key in required if key not in params]
        if missing:
            raise LLMConfigError(f"{path}: missing {missing} (found {sorted(params)})")
        known = {
            key: typed_value(params[key], kind, f"{path}.{key}")
            for key, kind in _PARAM_TYPES.items()
            if key in params
        }
        try:
            return cls(**{**known, **fixed})
        except LLMConfigError as error:
            raise LLMConfigError(f"{path}.{error}") from None

    def with_schema(self, json_schema: str) -> SamplingPlan:
        """This plan with ``json_schema`` attached, or unchanged when it is not ``constrained``."""
        return replace(self, json_schema=json_schema) if self.constrained else self

    def temperature_of(self, attempt: int) -> float:
        if attempt == 1 or self.retry_temperature is None:
            return self.temperature
        return self.retry_temperature

    def request(self, messages: Sequence[dict[str, str]], attempt: int = 1) -> ChatRequest:
        """The request of ``attempt`` (1-based) for ``messages``."""
        return ChatRequest.from_messages(
            messages,
            temperature=self.temperature_of(attempt),
            max_tokens=self.max_tokens,
            top_p=self.top_p,
            seed=self.seed + attempt - 1,  # a new seed per retry: the same request would return the same text
            json_mode=self.json_mode,
            json_schema=self.json_schema,
            salt=f"{self.salt}|attempt={attempt}" if self.salt_per_attempt else self.salt,
            top_logprobs=self.top_logprobs,
        )


@dataclass
class StructuredOutcome:
    """What the attempts of one task produced; ``ok`` when the last attempt's answer was accepted."""

    value: Any = None
    problems: list[str] = field(default_factory=list)
    failed_call: ChatResult | None = None
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # The last attempt's result (its token log-probabilities, when asked for).
    last_result: ChatResult | None = None

    @property
    def ok(self) -> bool:
        return self.attempts > 0 and self.failed_call is None and not self.problems

    def call_error(self) -> str:
        """``"<kind>: <message>"`` of the last attempt's failed call ("" when the call answered)."""
        if self.failed_call is None:
            return ""
        return f"{self.failed_call.error_kind}: {self.failed_call.error}"


@dataclass
class StructuredBatch:
    """The outcomes of a batch of tasks, in task order, and the wall seconds the attempts took."""

    outcomes: list[StructuredOutcome]
    wall_seconds: float

    def to_table(self, keys: Sequence[Any]) -> pd.DataFrame:
        """One row per task (``RESULT_COLUMNS``): ``value_json`` holds the accepted value as JSON ("" otherwise),
        ``error`` the last attempt's problems or the call's error."""
        if len(keys) != len(self.outcomes):
            raise ValueError(f"{len(keys)} keys but {len(self.outcomes)} outcomes")
        rows = [
            {
                "key": key,
                "status": "ok" if outcome.ok else "failed",
                "value_json": json.dumps(outcome.value, sort_keys=True) if outcome.ok else "",
                "attempts": outcome.attempts,
                "error": f"call failed ({outcome.failed_call.error_kind}): {outcome.failed_call.error}"
                if outcome.failed_call is not None
                else "; ".join(outcome.problems)[:500],
                "prompt_tokens": outcome.prompt_tokens,
                "completion_tokens": outcome.completion_tokens,
            }
            for key, outcome in zip(keys, self.outcomes, strict=True)
        ]
        table = pd.DataFrame(rows, columns=RESULT_COLUMNS)
        return table.astype({"attempts": "int64", "prompt_tokens": "int64", "completion_tokens": "int64"})


def _record(outcome: StructuredOutcome, result: ChatResult, validate: Validator) -> None:
    outcome.prompt_tokens += result.prompt_tokens
    outcome.completion_tokens += result.completion_tokens
    outcome.last_result = result
    if not result.ok:
        outcome.value, outcome.problems, outcome.failed_call = None, [], result
        return
    value, problems = validate(result.text)
    outcome.value, outcome.problems, outcome.failed_call = value, list(problems), None


def generate_structured(
    client: LLMClient,
    messages: Sequence[Sequence[dict[str, str]]],
    validate: Validator,
    plan: SamplingPlan,
    description: str = "structured LLM calls (attempt {attempt})",
) -> StructuredBatch:
    """Ask for every task's answer until ``validate`` accepts it or ``plan.max_attempts`` are spent.

    ``description`` labels each attempt's progress bar (``{attempt}`` is replaced by the attempt number).
    """
    started = time.perf_counter()
    outcomes = [StructuredOutcome() for _ in messages]
    pending = list(range(len(messages)))
    for attempt in range(1, plan.max_attempts + 1):
        if not pending:
            break
        requests = [plan.request(messages[index], attempt) for index in pending]
        results = client.complete_many(requests, description=description.format(attempt=attempt))
        for index, result in zip(pending, results, strict=True):
            outcomes[index].attempts = attempt
            _record(outcomes[index], result, validate)
        pending = [index for index in pending if not outcomes[index].ok]
    return StructuredBatch(outcomes, time.perf_counter() - started)
