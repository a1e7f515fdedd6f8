"""The analysis agent: a generation module (free-form reasoning) and a summary module (one short label).

An agent is one generation prompt variant on one model. The summary runs at a higher temperature than the
generation; an unparseable or generic summary is asked again with another seed, up to ``summary_attempts``
times, and then recorded as ``failed`` or ``rejected_generic`` — never replaced by made-up text.

``motivation.analysis: direct`` skips the generation: one call per pair asks the variant's question and gets
the label as JSON (first attempt sampled like the generation, retries like the summary; the summary's schema,
length and checks); the answer is the label itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from momorec.agents.parsing import ParseError, is_generic, parse_motivation, summary_json_schema
from momorec.agents.prompts import (
    PROMPT_VERSION,
    SUMMARY_EXAMPLE_MOTIVATION,
    GenerationPrompt,
    ItemText,
    direct_messages,
    motivation_salt,
    summary_messages,
)
from momorec.llm.client import ChatRequest, LLMClient
from momorec.llm.errors import LLMConfigError
from momorec.llm.params import check_known, require_mapping, typed_value
from momorec.llm.structured import SamplingPlan, StructuredOutcome, Validator, generate_structured

# The sampling keys of the generation and summary modules (``motivation.generation`` / ``.summary``).
SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "seed")
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_GENERIC = "rejected_generic"
# Sampling keys every module of the motivation stage must configure.
REQUIRED_SAMPLING = ("temperature", "max_tokens")
# ``motivation.analysis``: a free generation then its summary (two calls per pair), or one summary-like call.
ANALYSIS_TWO_STEP = "two_step"
ANALYSIS_DIRECT = "direct"
ANALYSIS_MODES = (ANALYSIS_TWO_STEP, ANALYSIS_DIRECT)


def agent_name(prompt_name: str, model_name: str) -> str:
    return f"{prompt_name}@{model_name}"


def constrained_decoding(params: Mapping[str, Any]) -> bool:
    """``constrained`` sends JSON schemas, which only a JSON-mode request carries: both must be on."""
    constrained = typed_value(params.get("constrained", False), "bool", "motivation.constrained")
    if constrained and not typed_value(params.get("json_mode", True), "bool", "motivation.json_mode"):
        raise LLMConfigError("motivation.constrained: true needs motivation.json_mode: true")
    return constrained


@dataclass(frozen=True)
class AnalysisSettings:
    """Sampling of the two modules (temperature, max_tokens, top_p, seed) and the summary's checks."""

    generation: SamplingPlan
    summary: SamplingPlan
    summary_attempts: int = 3
    max_words: int = 12
    generic_blocklist: tuple[str, ...] = ()
    json_mode: bool = True
    # Send the summary's JSON schema so the server constrains decoding to it (json_mode must be on).
    constrained: bool = False
    salt: str = PROMPT_VERSION
    # ANALYSIS_TWO_STEP (generation, then summary) or ANALYSIS_DIRECT (one call per pair).
    mode: str = ANALYSIS_TWO_STEP

    def __post_init__(self) -> None:
        if self.mode not in ANALYSIS_MODES:
            raise LLMConfigError(f"motivation.analysis: {self.mode!r} is not one of {list(ANALYSIS_MODES)}")

    @property
    def direct(self) -> bool:
        return self.mode == ANALYSIS_DIRECT

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> AnalysisSettings:
        """The settings of ``params:motivation`` (generation, summary, json_mode, constrained, cache_salt)."""
        summary = require_mapping(params.get("summary"), "motivation.summary")
        generation = require_mapping(params.get("generation"), "motivation.generation")
        check_known(generation, set(SAMPLING_KEYS), "motivation.generation")
        check_known(summary, {*SAMPLING_KEYS, "attempts", "max_words"}, "motivation.summary")
        attempts = typed_value(summary.get("attempts", 3), "int", "motivation.summary.attempts")
        max_words = typed_value(summary.get("max_words", 12), "int", "motivation.summary.max_words")
        for key, value in (("attempts", attempts), ("max_words", max_words)):
            if value < 1:
                raise LLMConfigError(f"motivation.summary.{key}: must be >= 1, got {value}")
        return cls(
            generation=SamplingPlan.from_params(
                generation, required=REQUIRED_SAMPLING, path="motivation.generation"
            ),
            summary=SamplingPlan.from_params(summary, required=REQUIRED_SAMPLING, path="motivation.summary"),
            summary_attempts=attempts,
            max_words=max_words,
            generic_blocklist=tuple(params.get("generic_blocklist") or ()),
            json_mode=typed_value(params.get("json_mode", True), "bool", "motivation.json_mode"),
            constrained=constrained_decoding(params),
            salt=motivation_salt(params),
            mode=typed_value(params.get("analysis", ANALYSIS_TWO_STEP), "str", "motivation.analysis"),
        )

    def generation_plan(self) -> SamplingPlan:
        """One plain-text attempt (no JSON mode)."""
        return replace(
            self.generation, max_attempts=1, json_mode=False, json_schema=None, **self._agent_salt()
        )

    def summary_plan(self) -> SamplingPlan:
        """The summary's retries keep its temperature; only the seed changes."""
        return replace(
            self.summary,
            max_attempts=self.summary_attempts,
            retry_temperature=None,
            json_mode=self.json_mode,
            json_schema=summary_json_schema(self.max_words) if self.constrained else None,
            **self._agent_salt(),
        )

    def direct_plan(self) -> SamplingPlan:
        """``motivation.analysis: direct``: the first attempt samples like the generation (temperature, top_p,
        seed: the careful answer), the retries like the summary (its temperature, so a rejected answer can
        change); the summary's max_tokens, attempts and schema."""
        return replace(
            self.summary_plan(),
            temperature=self.generation.temperature,
            top_p=self.generation.top_p,
            seed=self.generation.seed,
            retry_temperature=self.summary.temperature,
        )

    def _agent_salt(self) -> dict[str, Any]:
        # The agents' cache keys carry the prompt salt alone, not the attempt number.
        return {"salt": self.salt, "salt_per_attempt": False}


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
    return settings.generation_plan().request(prompt.messages(*pair))


def summary_request(
    pair: tuple[ItemText, ItemText], answer: str, settings: AnalysisSettings, attempt: int
) -> ChatRequest:
    """The summary request of ``attempt`` (0-based)."""
    messages = summary_messages(pair[0], pair[1], answer, settings.max_words)
    return settings.summary_plan().request(messages, attempt + 1)


def direct_request(
    prompt: GenerationPrompt, pair: tuple[ItemText, ItemText], settings: AnalysisSettings, attempt: int
) -> ChatRequest:
    """The one-call request (``motivation.analysis: direct``) of ``attempt`` (0-based)."""
    messages = direct_messages(prompt, pair[0], pair[1], settings.max_words)
    return settings.direct_plan().request(messages, attempt + 1)


def first_request(
    prompt: GenerationPrompt, pair: tuple[ItemText, ItemText], settings: AnalysisSettings
) -> ChatRequest:
    """The first request an agent sends for ``pair``: its generation, or its direct call's first attempt."""
    if settings.direct:
        return direct_request(prompt, pair, settings, 0)
    return generation_request(prompt, pair, settings)


def summary_validator(settings: AnalysisSettings) -> Validator:
    """Accepts a specific short motivation; a generic one is rejected but kept (value and problem)."""

    def validate(text: str | None) -> tuple[str | None, list[str]]:
        try:
            motivation = parse_motivation(text, settings.max_words)
            if motivation.lower() == SUMMARY_EXAMPLE_MOTIVATION:
                raise ParseError("the summary repeated the prompt's worked example")
        except ParseError as error:
            return None, [f"summary unparseable: {error}"]
        if is_generic(motivation, settings.generic_blocklist):
            return motivation, [f"generic motivation: {motivation!r}"]
        return motivation, []

    return validate


def _summarised(outcome: AnalysisOutcome, summary: StructuredOutcome) -> None:
    outcome.summary_attempts = summary.attempts
    if summary.ok:
        outcome.motivation, outcome.status, outcome.error = summary.value, STATUS_OK, None
    elif summary.failed_call is None and summary.value is not None:
        outcome.motivation, outcome.status, outcome.error = summary.value, STATUS_GENERIC, summary.problems[0]
    elif summary.failed_call is not None:
        outcome.status, outcome.error = STATUS_FAILED, f"summary: {summary.call_error()}"
    else:
        outcome.status, outcome.error = STATUS_FAILED, "; ".join(summary.problems)


def run_analysis_agent(
    client: LLMClient,
    prompt: GenerationPrompt,
    pairs: Sequence[tuple[ItemText, ItemText]],
    settings: AnalysisSettings,
    label: str = "",
) -> list[AnalysisOutcome]:
    """Generate and summarise the shared motivation of every pair with one agent (results in pair order)."""
    if settings.direct:
        return _run_direct(client, prompt, pairs, settings, label)
    outcomes = [AnalysisOutcome() for _ in pairs]
    generations = client.complete_many(
        [generation_request(prompt, pair, settings) for pair in pairs], description=f"{label} generation"
    )
    answered: list[int] = []
    for index, result in enumerate(generations):
        if result.ok and result.text and result.text.strip():
            outcomes[index].answer = result.text.strip()
            answered.append(index)
        else:
            outcomes[
                index
            ].error = f"generation: {result.error_kind or 'empty answer'}: {result.error or ''}".strip()
    summaries = generate_structured(
        client,
        [summary_messages(*pairs[i], outcomes[i].answer, settings.max_words) for i in answered],
        summary_validator(settings),
        settings.summary_plan(),
        description=f"{label} summary #{{attempt}}",
    )
    for index, summary in zip(answered, summaries.outcomes, strict=True):
        _summarised(outcomes[index], summary)
    return outcomes


def _run_direct(
    client: LLMClient,
    prompt: GenerationPrompt,
    pairs: Sequence[tuple[ItemText, ItemText]],
    settings: AnalysisSettings,
    label: str,
) -> list[AnalysisOutcome]:
    """One constrained call per pair; the label is also the answer (there is no separate reasoning)."""
    outcomes = [AnalysisOutcome() for _ in pairs]
    direct = generate_structured(
        client,
        [direct_messages(prompt, first, second, settings.max_words) for first, second in pairs],
        summary_validator(settings),
        settings.direct_plan(),
        description=f"{label} direct #{{attempt}}",
    )
    for outcome, result in zip(outcomes, direct.outcomes, strict=True):
        _summarised(outcome, result)
        outcome.answer = outcome.motivation
    return outcomes
