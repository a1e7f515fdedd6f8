"""The analysis agent: a generation module (free-form reasoning) and a summary module (one short label).

An agent is one generation prompt variant on one model. The summary runs at a higher temperature than the
generation; an unparseable or generic summary is asked again with another seed, up to ``summary_attempts``
times, and then recorded as ``failed`` or ``rejected_generic`` — never replaced by made-up text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from momorec.agents.parsing import ParseError, is_generic, parse_motivation, summary_json_schema
from momorec.agents.prompts import (
    PROMPT_VERSION,
    SUMMARY_EXAMPLE_MOTIVATION,
    GenerationPrompt,
    ItemText,
    summary_messages,
)
from momorec.llm.client import ChatRequest, LLMClient

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_GENERIC = "rejected_generic"


def agent_name(prompt_name: str, model_name: str) -> str:
    return f"{prompt_name}@{model_name}"


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters of one kind of call."""

    temperature: float
    max_tokens: int
    top_p: float = 1.0
    seed: int = 0

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Sampling:
        return cls(
            temperature=float(params["temperature"]),
            max_tokens=int(params["max_tokens"]),
            top_p=float(params.get("top_p", 1.0)),
            seed=int(params.get("seed", 0)),
        )


@dataclass(frozen=True)
class AnalysisSettings:
    generation: Sampling
    summary: Sampling
    summary_attempts: int = 3
    max_words: int = 12
    generic_blocklist: tuple[str, ...] = ()
    json_mode: bool = True
    # Send the summary's JSON schema so the server constrains decoding to it (json_mode must be on).
    constrained: bool = False
    salt: str = PROMPT_VERSION


@dataclass
class AnalysisOutcome:
    """What one agent produced for one pair."""

    answer: str | None = None
    motivation: str | None = None
    status: str = STATUS_FAILED
    error: str | None = None
    summary_attempts: int = 0
    notes: list[str] = field(default_factory=list)


def generation_request(
    prompt: GenerationPrompt, pair: tuple[ItemText, ItemText], settings: AnalysisSettings
) -> ChatRequest:
    sampling = settings.generation
    return ChatRequest.from_messages(
        prompt.messages(*pair),
        temperature=sampling.temperature,
        max_tokens=sampling.max_tokens,
        top_p=sampling.top_p,
        seed=sampling.seed,
        salt=settings.salt,
    )


def summary_request(
    pair: tuple[ItemText, ItemText], answer: str, settings: AnalysisSettings, attempt: int
) -> ChatRequest:
    sampling = settings.summary
    return ChatRequest.from_messages(
        summary_messages(pair[0], pair[1], answer, settings.max_words),
        temperature=sampling.temperature,
        max_tokens=sampling.max_tokens,
        top_p=sampling.top_p,
        seed=sampling.seed + attempt,  # a new seed per retry: the same request would return the same text
        json_mode=settings.json_mode,
        json_schema=summary_json_schema(settings.max_words) if settings.constrained else None,
        salt=settings.salt,
    )


def run_analysis_agent(
    client: LLMClient,
    prompt: GenerationPrompt,
    pairs: Sequence[tuple[ItemText, ItemText]],
    settings: AnalysisSettings,
    label: str = "",
) -> list[AnalysisOutcome]:
    """Generate and summarise the shared motivation of every pair with one agent (results in pair order)."""
    outcomes = [AnalysisOutcome() for _ in pairs]
    generations = client.complete_many(
        [generation_request(prompt, pair, settings) for pair in pairs], description=f"{label} generation"
    )
    pending: list[int] = []
    for index, result in enumerate(generations):
        if result.ok and result.text and result.text.strip():
            outcomes[index].answer = result.text.strip()
            pending.append(index)
        else:
            outcomes[
                index
            ].error = f"generation: {result.error_kind or 'empty answer'}: {result.error or ''}".strip()

    for attempt in range(settings.summary_attempts):
        if not pending:
            break
        requests = [summary_request(pairs[i], outcomes[i].answer, settings, attempt) for i in pending]
        results = client.complete_many(requests, description=f"{label} summary #{attempt + 1}")
        still_pending = []
        for index, result in zip(pending, results, strict=True):
            outcome = outcomes[index]
            outcome.summary_attempts = attempt + 1
            if not result.ok:
                outcome.status, outcome.error = STATUS_FAILED, f"summary: {result.error_kind}: {result.error}"
                still_pending.append(index)
                continue
            try:
                motivation = parse_motivation(result.text, settings.max_words)
                if motivation.lower() == SUMMARY_EXAMPLE_MOTIVATION:
                    raise ParseError("the summary repeated the prompt's worked example")
            except ParseError as error:
                outcome.status, outcome.error = STATUS_FAILED, f"summary unparseable: {error}"
                still_pending.append(index)
                continue
            outcome.motivation = motivation
            if is_generic(motivation, settings.generic_blocklist):
                outcome.status, outcome.error = STATUS_GENERIC, f"generic motivation: {motivation!r}"
                still_pending.append(index)
            else:
                outcome.status, outcome.error = STATUS_OK, None
        pending = still_pending
    for index in pending:
        if outcomes[index].status == STATUS_FAILED:
            outcomes[index].motivation = None
    return outcomes
