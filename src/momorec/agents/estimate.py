"""The requests the motivation stage will send, listed without sending any (for ``momorec.llm.estimate``).

The same request builders as the run (``analysis.generation_request``, ``analysis.summary_request``,
``judge.judge_request``), on the same pairs and settings, so the requests that can be known in advance are
the very ones the run sends (and are found in the cache when it holds them). The parts are the stage's
nodes: ``arena_agents`` (every agent on the arena pairs: a generation and a summary each), ``judge`` (two
verdicts per comparison of two agents, when the LLM judge is asked) and ``top_agent`` (the arena's winner on
the other pairs).

What cannot be known before the run is assumed: every agent answers usably (so every comparison is judged);
the top agent is the one whose answers the cache holds most of (a previous run's winner), else the first
agent; an answer not in the cache is ``max_tokens`` long where a later prompt quotes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from momorec.agents.analysis import (
    AnalysisSettings,
    direct_request,
    first_request,
    generation_request,
    summary_request,
    summary_validator,
)
from momorec.agents.arena import AgentSpec
from momorec.agents.judge import Comparison, Contender, JudgeSettings, judge_request
from momorec.agents.pairs import pair_budget, pair_texts, select_pairs
from momorec.agents.prompts import GENERATION_PROMPTS, GenerationPrompt, ItemText
from momorec.agents.stage import MotivationSettings
from momorec.data.features import build_copurchase_pairs
from momorec.llm.cache import LLMCache
from momorec.llm.client import ChatRequest
from momorec.llm.estimate import (
    TOKEN_RULES,
    CacheView,
    PlannedCall,
    TokenCounter,
    add_totals,
    estimate_parts,
    summarise,
)

# What a pair's answer looks like in a judge prompt when it is not cached yet.
_PLACEHOLDER_WORD = "word "

Known = dict[tuple[int, str], tuple[str, str]]  # (pair position, agent) -> (answer, motivation)


def _agent_calls(
    part: str,
    pairs: list[tuple[ItemText, ItemText]],
    agent: AgentSpec,
    settings: AnalysisSettings,
    view: CacheView,
    known: Known | None = None,
    positions: list[int] | None = None,
) -> list[PlannedCall]:
    """One agent's generation and summary requests for ``pairs`` (summaries followed through the cache)."""
    settings = agent.settings(settings)
    validate = summary_validator(settings)
    prompt = GENERATION_PROMPTS[agent.prompt]
    if settings.direct:
        return _direct_calls(part, pairs, agent, prompt, settings, view, known, positions)
    calls = []
    for position, pair in zip(positions or range(len(pairs)), pairs, strict=True):
        generation = generation_request(prompt, pair, settings)
        generation_key = view.key(agent.model, generation)
        answer = view.answer(agent.model, generation)
        calls.append(PlannedCall(part, agent.model, generation, generation_key, cached=answer is not None))
        if answer is None or not answer.strip():
            summary = summary_request(pair, "", settings, 0)
            unknown = settings.generation.max_tokens  # the answer the summary will quote
            calls.append(PlannedCall(part, agent.model, summary, f"summary0|{generation_key}", unknown))
            continue
        answer = answer.strip()
        attempts, motivation = _attempts_through_cache(
            part,
            agent.model,
            lambda attempt, answer=answer, pair=pair: summary_request(pair, answer, settings, attempt),
            lambda attempt, key=generation_key: f"summary{attempt}|{key}",
            settings.summary_plan().max_attempts,
            view,
            validate,
        )
        calls += attempts
        if motivation is not None and known is not None:
            known[(position, agent.name)] = (answer, motivation)
    return calls


def _attempts_through_cache(
    part: str,
    model: str,
    request_of: Callable[[int], ChatRequest],
    identity_of: Callable[[int], str],
    max_attempts: int,
    view: CacheView,
    validate: Callable[[str], tuple[str, list]],
) -> tuple[list[PlannedCall], str | None]:
    """The run's attempts at one retried request, as far as the cache knows their answers: a call per attempt
    until an uncached one (the last planned) or a valid answer; that answer's motivation, else None."""
    calls = []
    for attempt in range(max_attempts):
        request = request_of(attempt)
        text = view.answer(model, request)
        calls.append(PlannedCall(part, model, request, identity_of(attempt), cached=text is not None))
        if text is None:
            break
        motivation, problems = validate(text)
        if not problems:
            return calls, motivation
    return calls, None


def _direct_calls(
    part: str,
    pairs: list[tuple[ItemText, ItemText]],
    agent: AgentSpec,
    prompt: GenerationPrompt,
    settings: AnalysisSettings,
    view: CacheView,
    known: Known | None,
    positions: list[int] | None,
) -> list[PlannedCall]:
    """``motivation.analysis: direct``: one request per pair, its retries followed through the cache."""
    validate = summary_validator(settings)
    calls = []
    for position, pair in zip(positions or range(len(pairs)), pairs, strict=True):
        first_key = view.key(agent.model, first_request(prompt, pair, settings))
        attempts, motivation = _attempts_through_cache(
            part,
            agent.model,
            lambda attempt, pair=pair: direct_request(prompt, pair, settings, attempt),
            lambda attempt, key=first_key: f"direct{attempt}|{key}",
            settings.direct_plan().max_attempts,
            view,
            validate,
        )
        calls += attempts
        if motivation is not None and known is not None:
            known[(position, agent.name)] = (motivation, motivation)
    return calls


def _placeholder(settings: AnalysisSettings, judge: JudgeSettings, agent: str) -> Contender:
    words = max(1, settings.max_words)
    answer_words = max(1, judge.answer_chars // len(_PLACEHOLDER_WORD))
    return Contender(agent, (_PLACEHOLDER_WORD * words).strip(), (_PLACEHOLDER_WORD * answer_words).strip())


def _judge_calls(
    pairs: list[tuple[ItemText, ItemText]],
    agents: list[AgentSpec],
    settings: AnalysisSettings,
    judge: JudgeSettings,
    model: str,
    view: CacheView,
    known: Known,
) -> list[PlannedCall]:
    calls = []
    for position, pair in enumerate(pairs):
        for i, first in enumerate(agents):
            for second in agents[i + 1 :]:
                contenders = []
                for agent in (first, second):
                    if (position, agent.name) in known:
                        answer, motivation = known[(position, agent.name)]
                        contenders.append(Contender(agent.name, motivation, answer))
                    else:
                        contenders.append(_placeholder(settings, judge, agent.name))
                exact = all((position, agent.name) in known for agent in (first, second))
                comparison = Comparison(pair, contenders[0], contenders[1])
                for swapped in (False, True):
                    request = judge_request(comparison, swapped, judge, 0)
                    cached = exact and view.answer(model, request) is not None
                    exact_key = view.key(model, request) if exact else ""
                    identity = f"judge|{pair}|{first.name}|{second.name}|{swapped}|{exact_key}"
                    calls.append(PlannedCall("judge", model, request, identity, cached=cached))
    return calls


def _likely_top_agent(
    pairs: list[tuple[ItemText, ItemText]],
    agents: list[AgentSpec],
    settings: AnalysisSettings,
    view: CacheView,
) -> AgentSpec:
    """The agent whose generations for ``pairs`` the cache holds most of (first agent on a tie)."""

    def cached(agent: AgentSpec) -> int:
        agent_settings = agent.settings(settings)
        prompt = GENERATION_PROMPTS[agent.prompt]
        return sum(view.answer(agent.model, first_request(prompt, pair, agent_settings)) is not None
                   for pair in pairs)  # fmt: skip

    if len(agents) == 1 or view.cache is None:
        return agents[0]
    counts = [cached(agent) for agent in agents]
    return agents[counts.index(max(counts))]


def plan_motivation_calls(
    pairs: pd.DataFrame, stage: MotivationSettings, view: CacheView
) -> list[PlannedCall]:
    """Every request of the motivation stage for ``pairs`` (``motivation_pairs`` with titles cut)."""
    settings = stage.analysis
    agents = list(stage.agents)
    texts = pair_texts(pairs)
    arena, rest = texts[: stage.arena_pairs], texts[stage.arena_pairs :]
    known: Known = {}
    calls = []
    for agent in agents:
        calls += _agent_calls("arena_agents", arena, agent, settings, view, known)
    if stage.asks_llm_judge and len(agents) > 1:
        calls += _judge_calls(arena, agents, settings, stage.judge, stage.judge_model, view, known)
    if rest:
        top = _likely_top_agent(rest, agents, settings, view)
        calls += _agent_calls("top_agent", rest, top, settings, view)
    return calls


def leak_canary_pairs(
    interactions: pd.DataFrame,
    items: pd.DataFrame,
    pair_params: Mapping[str, Any],
    max_pairs: int | None,
    max_pairs_share: float | None,
) -> pd.DataFrame:
    """The pairs the leak canary sends to the agents: built from every split (``interactions``), as it does."""
    copurchase = build_copurchase_pairs(
        interactions, pair_params["pair_window"], pair_params["min_support"], pair_params.get("max_pairs")
    )
    return select_pairs(copurchase, items, max(pair_budget(len(copurchase), max_pairs, max_pairs_share), 1))


def motivation_estimate(
    pairs: pd.DataFrame,
    stage: MotivationSettings,
    cache: LLMCache | None,
    canary_pairs: pd.DataFrame | None = None,
    counter: TokenCounter | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The stage's estimate (``momorec.llm.estimate``) and, apart, the leak canary's extra calls.

    ``stage`` is the node's typed settings (read once, ``MotivationSettings.from_params``). The canary shares
    the cache with the honest run, so only its requests the honest run does not make (and the cache does not
    hold) are its own cost.
    """
    counter = counter or TokenCounter()
    used = {agent.model for agent in stage.agents} | {stage.judge_model}
    endpoints = {name: stage.llm.endpoint(name) for name in sorted(used)}
    view = CacheView(cache, endpoints)
    planned = plan_motivation_calls(pairs, stage, view)
    parts = estimate_parts(planned, endpoints, counter)
    estimate: dict[str, Any] = {
        "stage": "motivation",
        "dry_run": dry_run,
        "pairs": len(pairs),
        "models": {name: endpoint.describe() for name, endpoint in endpoints.items()},
        "token_rules": {name: TOKEN_RULES[TokenCounter.rule(e)] for name, e in endpoints.items()},
        "parts": parts,
        "total": summarise(parts),
        "leak_canary": None,
    }
    if canary_pairs is not None:
        honest = frozenset(call.identity for call in planned)
        canary = estimate_parts(plan_motivation_calls(canary_pairs, stage, view), endpoints, counter, honest)
        estimate["leak_canary"] = {"pairs": len(canary_pairs), "parts": canary, "total": summarise(canary)}
        estimate["total_with_leak_canary"] = add_totals(
            dict(estimate["total"]), estimate["leak_canary"]["total"]
        )
    return estimate
