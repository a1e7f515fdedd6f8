"""Nodes of the motivation stage: pairs → agents → judge → ELO arena → motivations per pair and per item.

Thin adapters around ``momorec.agents``. Nodes that call an LLM take the ``llm_cache`` dataset and the
``motivation`` parameters, open their clients for the duration of the node (an embedded server is started
only on a cache miss and always stopped when the node ends) and return their usage accounting next to their
data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from momorec.agents import arena, judge_accuracy, motivations
from momorec.agents.estimate import leak_canary_pairs, motivation_estimate
from momorec.agents.grounding_judge import GroundingSettings, score_answers
from momorec.agents.pairs import pair_budget, select_pairs
from momorec.agents.stage import (
    MotivationSettings,
    judge_accuracy_metrics,
    judge_arena_pairs,
    run_agents_on_pairs,
    titles_cut,
)
from momorec.io.mlflow_metrics import as_mlflow_metrics
from momorec.llm.cache import LLMCache
from momorec.llm.estimate import is_dry_run, log_estimate, stop_if_dry_run
from momorec.llm.usage import UsageRecorder, merge_usage

logger = logging.getLogger(__name__)


def select_motivation_pairs(
    copurchase_pairs: pd.DataFrame,
    items: pd.DataFrame,
    max_pairs: int | None,
    max_pairs_share: float | None = None,
) -> pd.DataFrame:
    """The most supported co-purchase pairs (a count, a share of the pairs, or the smaller of both) with both
    items' titles and categories."""
    budget = pair_budget(len(copurchase_pairs), max_pairs, max_pairs_share)
    return select_pairs(copurchase_pairs, items, max(budget, 1))


def estimate_llm_calls(
    motivation_pairs: pd.DataFrame,
    items: pd.DataFrame,
    interactions: pd.DataFrame,
    llm_cache: LLMCache,
    params: Mapping[str, Any],
    pair_params: Mapping[str, Any],
) -> dict[str, Any]:
    """The stage's calls, tokens and cost before its first request, the leak canary's extra share apart."""
    settings = MotivationSettings.from_params(params)
    canary = leak_canary_pairs(
        interactions, items, pair_params, params["max_pairs"], params.get("max_pairs_share")
    )
    estimate = motivation_estimate(
        titles_cut(motivation_pairs, settings.max_title_tokens),
        settings,
        llm_cache,
        titles_cut(canary, settings.max_title_tokens),
        dry_run=is_dry_run("motivation", params),
    )
    log_estimate("motivation", estimate, "llm_estimate")
    return estimate


def run_arena_agents(
    motivation_pairs: pd.DataFrame,
    llm_estimate: dict[str, Any],
    llm_cache: LLMCache,
    params: Mapping[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every agent's answer and summary for the ``arena_pairs`` most supported pairs (a dry run stops here)."""
    stop_if_dry_run("motivation", params, llm_estimate, "llm_estimate")
    settings = MotivationSettings.from_params(params)
    usage = UsageRecorder("arena_agents")
    pairs = motivation_pairs.head(settings.arena_pairs)
    return run_agents_on_pairs(pairs, settings.agents, settings, llm_cache, usage), usage.as_dict()


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
    settings = MotivationSettings.from_params(params)
    usage = UsageRecorder("judge")
    pairs = motivation_pairs.head(settings.arena_pairs)
    return judge_arena_pairs(arena_answers, pairs, settings, llm_cache, usage), usage.as_dict()


def _agent_names(params: Mapping[str, Any]) -> list[str]:
    return [agent.name for agent in arena.arena_agents(params)]


def score_arena_grounding(
    arena_answers: pd.DataFrame, motivation_pairs: pd.DataFrame, params: Mapping[str, Any]
) -> pd.DataFrame:
    """The grounding judge's score of every usable arena answer (no generation; the run's sentence encoder)."""
    grounding = params["judge"]["grounding"]
    return score_answers(
        arena_answers,
        motivation_pairs,
        str(grounding["encoder"]),
        params.get("generic_blocklist", ()),
        GroundingSettings.from_params(grounding),
    )


def compare_arena(
    arena_judgments: pd.DataFrame, arena_grounding: pd.DataFrame, params: Mapping[str, Any]
) -> pd.DataFrame:
    """Each judge's (llm, grounding, combined; grounding alone when the LLM judge is not asked) preference and
    outcome per arena comparison."""
    judge = params["judge"]
    combined = judge.get("combined", {})
    return arena.judge_comparisons(
        arena_judgments,
        arena_grounding,
        GroundingSettings.from_params(judge["grounding"]),
        llm_weight=float(combined.get("llm_weight", 0.5)),
        combined_margin=float(combined.get("tie_margin", 0.02)),
        judges=arena.configured_judges(params["judge"]),
    )


def rank_agents(
    arena_comparisons: pd.DataFrame, arena_answers: pd.DataFrame, params: Mapping[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every judge's Bradley–Terry leaderboard, and the one of ``judge.mode`` (which picks the top agent)."""
    boards = arena.judge_leaderboards(
        arena_comparisons,
        arena_answers,
        _agent_names(params),
        params["elo"],
        float(params["judge"].get("confidence", 0.95)),
        judges=arena.configured_judges(params["judge"]),
    )
    mode = arena.judge_mode(params["judge"])
    logger.info("Agents ranked by the %s judge (motivation.judge.mode)", mode)
    return boards[boards["judge"] == mode].reset_index(drop=True), boards


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
    settings = MotivationSettings.from_params(params)
    usage = UsageRecorder("top_agent")
    top = motivations.top_agent(agent_leaderboard)
    agents = {agent.name: agent for agent in settings.agents}
    todo = motivations.pairs_not_answered(motivation_pairs, arena_answers, top)
    logger.info(
        "Top agent %s: %d pairs answered in the arena, %d to generate",
        top, int((arena_answers["agent"] == top).sum()), len(todo),
    )  # fmt: skip
    frames = [arena_answers]
    if not todo.empty:
        frames.append(run_agents_on_pairs(todo, [agents[top]], settings, llm_cache, usage))
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
    per_stage = {
        f"{stage}.{key}": numbers[key]
        for stage, numbers in usage["stages"].items()
        for key in ("calls", "cache_hits", "failures")
    }
    return usage, as_mlflow_metrics({**usage, **per_stage})


def evaluate_motivation_agreement(
    pair_motivations: pd.DataFrame, items: pd.DataFrame, item_true_motivations: pd.DataFrame
) -> dict[str, Any]:
    """How often the two items of a pair with a generated motivation share a ground-truth motivation."""
    return motivations.motivation_agreement(pair_motivations, items, item_true_motivations)


def evaluate_judges(
    arena_answers: pd.DataFrame,
    arena_judgments: pd.DataFrame,
    arena_comparisons: pd.DataFrame,
    arena_leaderboards: pd.DataFrame,
    motivation_pairs: pd.DataFrame,
    items: pd.DataFrame,
    item_true_motivations: pd.DataFrame,
    params: Mapping[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, dict[str, float]]]:
    """Evaluation only: each judge's agreement with the shop's ground truth, the oracle leaderboard, bias.

    Returns the report (json), the oracle leaderboard (empty without ground truth) and MLflow metrics.
    """
    truth = item_true_motivations.merge(items[["item_idx", "item_id"]], on="item_id", how="inner")
    report, oracle_board = judge_accuracy.judge_accuracy_report(
        arena_answers,
        arena_judgments,
        arena_comparisons,
        arena_leaderboards,
        truth,
        _agent_names(params),
        params["judge"],
        params["elo"],
    )
    return report, oracle_board, as_mlflow_metrics(judge_accuracy_metrics(report))
