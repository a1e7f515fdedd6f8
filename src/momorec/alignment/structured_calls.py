"""Ask the LLM for one schema-valid JSON object per task: retry with a varied seed, then record a failure.

Every attempt is its own cached request (the attempt number is part of the salt and the seed), so a re-run
replays the same attempts from the cache and makes no call, and a malformed cached answer is never reused as
if it were new. Attempts after the first use ``retry_temperature`` so the answer can actually change.
A task whose every attempt is malformed (or whose call failed) is returned with status ``failed`` and its
last problems; nothing is filled in for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from momorec.llm import ChatRequest, LLMClient

Validator = Callable[[str | None], tuple[Any, list[str]]]
"""Maps an answer's text to ``(clean_value, [])`` or ``(None, problems)``."""

RESULT_COLUMNS = ["key", "status", "value_json", "attempts", "error", "prompt_tokens", "completion_tokens"]


@dataclass(frozen=True)
class SamplingPlan:
    """Sampling of the first attempt and of the retries (from ``params:alignment.<stage>``)."""

    max_attempts: int = 3
    temperature: float = 0.0
    retry_temperature: float = 0.7
    max_tokens: int = 200
    seed: int = 0
    json_mode: bool = True
    # Whether a stage's JSON schema is sent so the server constrains decoding to it (``with_schema``).
    constrained: bool = True
    # JSON-schema text the server constrains decoding to (``None``: JSON mode only); see EndpointConfig.
    json_schema: str | None = None
    salt: str = ""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")

    def with_schema(self, json_schema: str) -> SamplingPlan:
        """This plan with ``json_schema`` attached, or unchanged when it is not ``constrained``."""
        return replace(self, json_schema=json_schema) if self.constrained else self

    def request(self, messages: Sequence[dict[str, str]], attempt: int) -> ChatRequest:
        return ChatRequest.from_messages(
            messages,
            temperature=self.temperature if attempt == 1 else self.retry_temperature,
            max_tokens=self.max_tokens,
            seed=self.seed + attempt - 1,
            json_mode=self.json_mode,
            json_schema=self.json_schema,
            salt=f"{self.salt}|attempt={attempt}",
        )


def generate_structured(
    client: LLMClient,
    keys: Sequence[Any],
    messages: Sequence[Sequence[dict[str, str]]],
    validate: Validator,
    plan: SamplingPlan,
    description: str = "structured LLM calls",
) -> tuple[pd.DataFrame, float]:
    """One row per key (``RESULT_COLUMNS``) and the wall seconds spent; rows keep the order of ``keys``.

    ``value_json`` holds the validated object as JSON for ``status == "ok"`` and is empty otherwise;
    ``error`` holds the last attempt's problems (parse/validation) or the call's error.
    """
    if len(keys) != len(messages):
        raise ValueError(f"{len(keys)} keys but {len(messages)} message lists")
    started = time.perf_counter()
    state = [
        {"key": key, "status": "failed", "value_json": "", "attempts": 0, "error": "", "prompt_tokens": 0,
         "completion_tokens": 0}
        for key in keys
    ]  # fmt: skip
    pending = list(range(len(keys)))
    for attempt in range(1, plan.max_attempts + 1):
        if not pending:
            break
        requests = [plan.request(messages[index], attempt) for index in pending]
        results = client.complete_many(requests, description=f"{description} (attempt {attempt})")
        still_pending = []
        for index, result in zip(pending, results, strict=True):
            row = state[index]
            row["attempts"] = attempt
            row["prompt_tokens"] += result.prompt_tokens
            row["completion_tokens"] += result.completion_tokens
            if not result.ok:
                row["error"] = f"call failed ({result.error_kind}): {result.error}"
                still_pending.append(index)
                continue
            value, problems = validate(result.text)
            if problems:
                row["error"] = "; ".join(problems)[:500]
                still_pending.append(index)
                continue
            row.update(status="ok", value_json=json.dumps(value, sort_keys=True), error="")
        pending = still_pending
    table = pd.DataFrame(state, columns=RESULT_COLUMNS)
    return table.astype({"attempts": "int64", "prompt_tokens": "int64", "completion_tokens": "int64"}), (
        time.perf_counter() - started
    )
