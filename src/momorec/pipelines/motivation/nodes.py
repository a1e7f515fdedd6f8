"""Nodes of the motivation stage: pairs → agents → judge → ELO arena → motivations per pair and per item.

Thin adapters around ``momorec.agents``. Nodes that call an LLM take the ``llm_cache`` dataset and the
``motivation`` parameters, open their clients for the duration of the node (an embedded server is started
only on a cache miss and always stopped when the node ends) and return their usage accounting next to their
data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import pandas as pd

from momorec.agents import arena, motivations
from momorec.agents.analysis import AnalysisSettings
from momorec.agents.arena import AgentSpec, arena_agents
from momorec.agents.judge import JudgeSettings, run_judge
from momorec.agents.pairs import select_pairs
from momorec.llm.cache import LLMCache
from momorec.llm.client import LLMClient
from momorec.llm.session import open_clients
from momorec.llm.tokens import with_titles_cut
from momorec.llm.usage import UsageRecorder, merge_usage

logger = logging.getLogger(__name__)


def _clients(
    models: Sequence[str], params: Mapping[str, Any], cache: LLMCache, usage: UsageRecorder
) -> AbstractContextManager[dict[str, LLMClient]]:
    return open_clients(models, params["models"], params["client"], params.get("embedded", {}), cache, usage)


def _titles_cut(pairs: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    """``pairs`` with both titles cut to ``max_title_tokens``: titles of any length would overflow the context."""
    max_tokens = params.get("max_title_tokens")
    return with_titles_cut(with_titles_cut(pairs, max_tokens, "title_a"), max_tokens, "title_b")


def _run_agents(
    pairs: pd.DataFrame,
    agents: list[AgentSpec],
    cache: LLMCache,
    params: Mapping[str, Any],
    usage: UsageRecorder,
) -> pd.DataFrame:
    settings = AnalysisSettings.from_params(params)
    with _clients([model for _, _, model in agents], params, cache, usage) as clients:
        return arena.run_agents(_titles_cut(pairs, params), agents, clients, settings)


def select_motivation_pairs(
    copurchase_pairs: pd.DataFrame, items: pd.DataFrame, max_pairs: int
) -> pd.DataFrame:
    """The ``max_pairs`` most supported co-purchase pairs with both items' titles and categories."""
    return select_pairs(copurchase_pairs, items, max_pairs)


def run_arena_agents(
    motivation_pairs: pd.DataFrame, llm_cache: LLMCache, params: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every agent's answer and summary for the ``arena_pairs`` most supported pairs."""
    arena = motivation_pairs.head(int(params["arena_pairs"]))
    usage = UsageRecorder("arena_agents")
    answers = _run_agents(arena, arena_agents(params), llm_cache, params, usage)
    return answers, usage.as_dict()


def judge_arena(
    arena_answers: pd.DataFrame,
    motivation_pairs: pd.DataFrame,
    llm_cache: LLMCache,
    params: Mapping[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Pairwise verdicts between agents on each arena pair, asked in both orders.

    When only one of two agents produced a usable motivation it wins without a judge call; when neither did,
    there is no comparison.
    """
    usage = UsageRecorder("judge")
    agents = [name for name, _, _ in arena_agents(params)]
    pairs = motivation_pairs.head(int(params["arena_pairs"]))
    rows, comparisons, to_judge = arena.arena_comparisons(_titles_cut(pairs, params), arena_answers, agents)
    settings = JudgeSettings.from_params(params)
    judged = []
    if comparisons:
        model = params["judge"]["model"]
        with _clients([model], params, llm_cache, usage) as clients:
            judged = run_judge(clients[model], comparisons, settings)
    return arena.judgments_table(rows, to_judge, judged), usage.as_dict()


def rank_agents(
    arena_judgments: pd.DataFrame, arena_answers: pd.DataFrame, params: Mapping[str, Any]
) -> pd.DataFrame:
    """The ELO leaderboard (agent, rating, wins, losses, ties, comparisons, ok_fraction), best first."""
    agents = [name for name, _, _ in arena_agents(params)]
    return arena.agent_leaderboard(arena_judgments, arena_answers, agents, params["elo"])


def generate_top_agent_motivations(
    motivation_pairs: pd.DataFrame,
    arena_answers: pd.DataFrame,
    agent_leaderboard: pd.DataFrame,
    llm_cache: LLMCache,
    params: Mapping[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """All agents' arena answers plus the top agent's answers for every other selected pair.

    Only pairs the top agent has not answered in the arena are sent to the LLM.
    """
    usage = UsageRecorder("top_agent")
    top = motivations.top_agent(agent_leaderboard)
    agents = {spec[0]: spec for spec in arena_agents(params)}
    todo = motivations.pairs_not_answered(motivation_pairs, arena_answers, top)
    logger.info(
        "Top agent %s: %d pairs answered in the arena, %d to generate",
        top, int((arena_answers["agent"] == top).sum()), len(todo),
    )  # fmt: skip
    frames = [arena_answers]
    if not todo.empty:
        frames.append(_run_agents(todo, [agents[top]], llm_cache, params, usage))
    return arena.concat_answers(frames), usage.as_dict()


def select_pair_motivations(
    agent_answers: pd.DataFrame, motivation_pairs: pd.DataFrame, agent_leaderboard: pd.DataFrame
) -> pd.DataFrame:
    """The top agent's motivation (and status) for every selected pair, in pair order."""
    return motivations.pair_motivations(
        agent_answers, motivation_pairs, motivations.top_agent(agent_leaderboard)
    )


def aggregate_item_motivations(pair_motivations: pd.DataFrame) -> pd.DataFrame:
    """Each item's motivations from the pairs it belongs to, with the number of pairs giving each."""
    return motivations.item_motivations(pair_motivations)


def summarise_llm_usage(
    arena_usage: dict[str, Any], judge_usage: dict[str, Any], top_agent_usage: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Usage totals of the run (json) and the same numbers as MLflow metrics."""
    usage = merge_usage([arena_usage, judge_usage, top_agent_usage])
    metrics = {
        key: {"value": float(value), "step": 0}
        for key, value in usage.items()
        if isinstance(value, int | float) and value is not None
    }
    for stage, numbers in usage["stages"].items():
        for key in ("calls", "cache_hits", "failures"):
            metrics[f"{stage}.{key}"] = {"value": float(numbers[key]), "step": 0}
    return usage, metrics


def evaluate_motivation_agreement(
    pair_motivations: pd.DataFrame, items: pd.DataFrame, item_true_motivations: pd.DataFrame
) -> dict[str, Any]:
    """How often the two items of a pair with a generated motivation share a ground-truth motivation."""
    return motivations.motivation_agreement(pair_motivations, items, item_true_motivations)
