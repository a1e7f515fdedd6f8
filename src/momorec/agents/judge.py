"""The judgment agent: which of two agents' motivations for the same pair is better.

Every comparison is asked twice, with the two labels swapped, so a judge that prefers whatever comes first
scores a tie rather than a win. Where the endpoint returns token log-probabilities (mode ``logprobs``), the
score comes from the verdict probabilities of both orders (``momorec.agents.preference``): a tie only within
``tie_margin``. Otherwise (mode ``verdicts``) it is the mean of the two parsed verdicts. The verdict must
parse strictly (``parse_verdict``); an unparseable verdict is asked again with another seed, then that order
is left out. A comparison with no parsed order is reported without a score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from momorec.agents.analysis import REQUIRED_SAMPLING, constrained_decoding
from momorec.agents.parsing import ParseError, parse_verdict, verdict_json_schema
from momorec.agents.preference import debiased_preference, outcome, verdict_probabilities
from momorec.agents.prompts import PROMPT_VERSION, ItemText, judge_messages, motivation_salt
from momorec.llm.client import ChatRequest, LLMClient
from momorec.llm.params import require_mapping, typed_value
from momorec.llm.structured import SamplingPlan, StructuredOutcome, generate_structured

# Score of the first agent of a comparison for each verdict, by order (order 1 shows it as label B).
_SCORE_AS_A = {"A": 1.0, "B": 0.0, "tie": 0.5}
# Temperature of the retries of an unparseable verdict (the first attempt uses the configured one).
RETRY_TEMPERATURE = 0.7
_SCORE_AS_B = {"A": 0.0, "B": 1.0, "tie": 0.5}
MODE_LOGPROBS = "logprobs"
MODE_VERDICTS = "verdicts"


@dataclass(frozen=True)
class Contender:
    """One agent's output for the pair under comparison."""

    agent: str
    motivation: str
    answer: str


@dataclass(frozen=True)
class Comparison:
    pair: tuple[ItemText, ItemText]
    first: Contender
    second: Contender


@dataclass(frozen=True)
class JudgeSettings:
    sampling: SamplingPlan
    attempts: int = 2
    answer_chars: int = 300
    json_mode: bool = True
    # Send the verdict's JSON schema so the server constrains decoding to it (json_mode must be on).
    constrained: bool = False
    salt: str = PROMPT_VERSION
    # Alternatives per answer token asked for (None: verdicts only); a tie within this margin of 0.5.
    top_logprobs: int | None = 5
    tie_margin: float = 0.05

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> JudgeSettings:
        """The settings of ``params:motivation`` (judge, json_mode, constrained, cache_salt)."""
        judge = require_mapping(params.get("judge"), "motivation.judge")
        return cls(
            sampling=SamplingPlan.from_params(judge, required=REQUIRED_SAMPLING, path="motivation.judge"),
            attempts=typed_value(judge.get("attempts", 2), "int", "motivation.judge.attempts"),
            answer_chars=typed_value(judge.get("answer_chars", 300), "int", "motivation.judge.answer_chars"),
            top_logprobs=typed_value(
                judge.get("top_logprobs", 5), "int | None", "motivation.judge.top_logprobs"
            ),
            tie_margin=typed_value(judge.get("tie_margin", 0.05), "float", "motivation.judge.tie_margin"),
            json_mode=typed_value(params.get("json_mode", True), "bool", "motivation.json_mode"),
            constrained=constrained_decoding(params),
            salt=motivation_salt(params),
        )

    def plan(self) -> SamplingPlan:
        # A greedy (temperature 0) retry with another seed repeats the same unparseable answer: retries sample.
        return replace(
            self.sampling,
            max_attempts=self.attempts,
            retry_temperature=max(self.sampling.temperature, RETRY_TEMPERATURE),
            json_mode=self.json_mode,
            json_schema=verdict_json_schema() if self.constrained else None,
            salt=self.salt,
            salt_per_attempt=False,
            top_logprobs=self.top_logprobs,
        )


@dataclass
class JudgedComparison:
    """Verdicts and verdict probabilities of both orders, and the first agent's preference and score.

    ``mode`` says where the score comes from: ``logprobs`` (both orders' probabilities, debiased) or
    ``verdicts`` (mean over the parsed orders' verdicts); the score is None when no order parsed.
    """

    verdict_first_as_a: str | None = None
    verdict_first_as_b: str | None = None
    score_first: float | None = None
    error: str | None = None
    probabilities_first_as_a: dict[str, float] | None = None
    probabilities_first_as_b: dict[str, float] | None = None
    preference_first: float | None = None
    mode: str | None = None


def _reasoning(answer: str, limit: int) -> str:
    text = " ".join(answer.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def judge_messages_of(comparison: Comparison, swapped: bool, answer_chars: int) -> list[dict[str, str]]:
    """The judge prompt with the first contender as label A (``swapped``: as label B)."""
    a, b = (comparison.second, comparison.first) if swapped else (comparison.first, comparison.second)
    return judge_messages(
        comparison.pair[0],
        comparison.pair[1],
        a.motivation,
        _reasoning(a.answer, answer_chars),
        b.motivation,
        _reasoning(b.answer, answer_chars),
    )


def judge_request(
    comparison: Comparison, swapped: bool, settings: JudgeSettings, attempt: int
) -> ChatRequest:
    """The verdict request of ``attempt`` (0-based)."""
    return settings.plan().request(judge_messages_of(comparison, swapped, settings.answer_chars), attempt + 1)


def _verdict(text: str | None) -> tuple[str | None, list[str]]:
    try:
        return parse_verdict(text)["winner"], []
    except ParseError as error:
        return None, [str(error)]


def _order_error(order: StructuredOutcome) -> str | None:
    if order.ok:
        return None
    return order.call_error() if order.failed_call is not None else "; ".join(order.problems)


def _probabilities(order: StructuredOutcome) -> dict[str, float] | None:
    result = order.last_result
    if not order.ok or result is None or not result.token_logprobs:
        return None
    return verdict_probabilities(result.token_logprobs)


def _judged(as_a: StructuredOutcome, as_b: StructuredOutcome, tie_margin: float) -> JudgedComparison:
    judged = JudgedComparison(
        verdict_first_as_a=as_a.value if as_a.ok else None,
        verdict_first_as_b=as_b.value if as_b.ok else None,
        probabilities_first_as_a=_probabilities(as_a),
        probabilities_first_as_b=_probabilities(as_b),
    )
    judged.error = "; ".join(e for e in (_order_error(as_a), _order_error(as_b)) if e) or None
    if judged.probabilities_first_as_a is not None and judged.probabilities_first_as_b is not None:
        judged.preference_first = debiased_preference(
            judged.probabilities_first_as_a, judged.probabilities_first_as_b
        )
        judged.score_first = outcome(judged.preference_first, tie_margin)
        judged.mode = MODE_LOGPROBS
        return judged
    scores = []
    if judged.verdict_first_as_a is not None:
        scores.append(_SCORE_AS_A[judged.verdict_first_as_a])
    if judged.verdict_first_as_b is not None:
        scores.append(_SCORE_AS_B[judged.verdict_first_as_b])
    judged.score_first = sum(scores) / len(scores) if scores else None
    judged.preference_first = judged.score_first
    judged.mode = MODE_VERDICTS if scores else None
    return judged


def run_judge(
    client: LLMClient, comparisons: Sequence[Comparison], settings: JudgeSettings, label: str = "judge"
) -> list[JudgedComparison]:
    """Judge every comparison in both orders; results in input order."""
    batch = generate_structured(
        client,
        [
            judge_messages_of(comparison, swapped, settings.answer_chars)
            for comparison in comparisons
            for swapped in (False, True)
        ],
        _verdict,
        settings.plan(),
        description=f"{label} #{{attempt}}",
    )
    orders = batch.outcomes
    return [
        _judged(orders[2 * index], orders[2 * index + 1], settings.tie_margin)
        for index in range(len(comparisons))
    ]
