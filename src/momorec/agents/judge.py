"""The judgment agent: which of two agents' motivations for the same pair is better.

Every comparison is asked twice, with the two labels swapped, so a judge that prefers whatever comes first
scores a tie rather than a win. The verdict must parse strictly (``parse_verdict``); an unparseable verdict
is asked again with another seed, then that order is left out. A comparison with no parsed order is
reported without a score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from momorec.agents.analysis import Sampling
from momorec.agents.parsing import ParseError, parse_verdict, verdict_json_schema
from momorec.agents.prompts import PROMPT_VERSION, ItemText, judge_messages
from momorec.llm.client import ChatRequest, LLMClient

# Score of the first agent of a comparison for each verdict, by order (order 1 shows it as label B).
_SCORE_AS_A = {"A": 1.0, "B": 0.0, "tie": 0.5}
# Temperature of the retries of an unparseable verdict (the first attempt uses the configured one).
RETRY_TEMPERATURE = 0.7
_SCORE_AS_B = {"A": 0.0, "B": 1.0, "tie": 0.5}


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
    sampling: Sampling
    attempts: int = 2
    answer_chars: int = 300
    json_mode: bool = True
    # Send the verdict's JSON schema so the server constrains decoding to it (json_mode must be on).
    constrained: bool = False
    salt: str = PROMPT_VERSION


@dataclass
class JudgedComparison:
    """Verdicts of both orders and the first agent's score (mean over parsed orders; None when none parsed)."""

    verdict_first_as_a: str | None = None
    verdict_first_as_b: str | None = None
    score_first: float | None = None
    error: str | None = None


def _reasoning(answer: str, limit: int) -> str:
    text = " ".join(answer.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def judge_request(
    comparison: Comparison, swapped: bool, settings: JudgeSettings, attempt: int
) -> ChatRequest:
    a, b = (comparison.second, comparison.first) if swapped else (comparison.first, comparison.second)
    messages = judge_messages(
        comparison.pair[0],
        comparison.pair[1],
        a.motivation,
        _reasoning(a.answer, settings.answer_chars),
        b.motivation,
        _reasoning(b.answer, settings.answer_chars),
    )
    return ChatRequest.from_messages(
        messages,
        # A greedy (temperature 0) retry with another seed repeats the same unparseable answer: retries sample.
        temperature=settings.sampling.temperature
        if attempt == 0
        else max(settings.sampling.temperature, RETRY_TEMPERATURE),
        max_tokens=settings.sampling.max_tokens,
        top_p=settings.sampling.top_p,
        seed=settings.sampling.seed + attempt,
        json_mode=settings.json_mode,
        json_schema=verdict_json_schema() if settings.constrained else None,
        salt=settings.salt,
    )


def run_judge(
    client: LLMClient, comparisons: Sequence[Comparison], settings: JudgeSettings, label: str = "judge"
) -> list[JudgedComparison]:
    """Judge every comparison in both orders; results in input order."""
    judged = [JudgedComparison() for _ in comparisons]
    pending = [(index, swapped) for index in range(len(comparisons)) for swapped in (False, True)]
    errors: dict[tuple[int, bool], str] = {}
    for attempt in range(settings.attempts):
        if not pending:
            break
        requests = [judge_request(comparisons[i], swapped, settings, attempt) for i, swapped in pending]
        results = client.complete_many(requests, description=f"{label} #{attempt + 1}")
        still_pending = []
        for (index, swapped), result in zip(pending, results, strict=True):
            try:
                if not result.ok:
                    raise ParseError(f"{result.error_kind}: {result.error}")
                winner = parse_verdict(result.text)["winner"]
            except ParseError as error:
                errors[(index, swapped)] = str(error)
                still_pending.append((index, swapped))
                continue
            errors.pop((index, swapped), None)
            if swapped:
                judged[index].verdict_first_as_b = winner
            else:
                judged[index].verdict_first_as_a = winner
        pending = still_pending
    for index, outcome in enumerate(judged):
        scores = []
        if outcome.verdict_first_as_a is not None:
            scores.append(_SCORE_AS_A[outcome.verdict_first_as_a])
        if outcome.verdict_first_as_b is not None:
            scores.append(_SCORE_AS_B[outcome.verdict_first_as_b])
        outcome.score_first = sum(scores) / len(scores) if scores else None
        failed = [errors[key] for key in ((index, False), (index, True)) if key in errors]
        outcome.error = "; ".join(failed) or None
    return judged
