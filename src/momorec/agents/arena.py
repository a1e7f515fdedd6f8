"""The agent arena: every agent answers the arena pairs, a judge compares them, ELO ranks them.

An agent is a (generation prompt variant, model) combination from ``params:motivation.agents``. Clients
come from the caller (one per model), so the arena is plain data in, data out around the agents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from momorec.agents.analysis import (
    STATUS_OK,
    AnalysisOutcome,
    AnalysisSettings,
    agent_name,
    run_analysis_agent,
)
from momorec.agents.elo import elo_leaderboard
from momorec.agents.judge import Comparison, Contender, JudgedComparison
from momorec.agents.pairs import pair_texts
from momorec.agents.prompts import GENERATION_PROMPTS
from momorec.llm.client import LLMClient
from momorec.llm.errors import LLMConfigError

ANSWER_COLUMNS = ["item_a", "item_b", "agent", "answer", "motivation", "status", "error"]
JUDGMENT_COLUMNS = ["rank", "item_a", "item_b", "agent_a", "agent_b", "verdict_a_shown_first", "verdict_a_shown_second", "score_a", "error"]  # fmt: skip
AgentSpec = tuple[str, str, str]
"""(agent name, prompt variant, model name)."""


def arena_agents(params: Mapping[str, Any]) -> list[AgentSpec]:
    """Every configured (prompt variant, model) combination, in configuration order (models outer)."""
    prompts = list(params["agents"]["prompts"])
    models = list(params["agents"]["models"])
    unknown = [p for p in prompts if p not in GENERATION_PROMPTS]
    if unknown:
        raise LLMConfigError(
            f"motivation.agents.prompts: unknown variants {unknown}; known: {sorted(GENERATION_PROMPTS)}"
        )
    if not prompts or not models:
        raise LLMConfigError("motivation.agents needs at least one prompt variant and one model")
    return [(agent_name(p, m), p, m) for m in models for p in prompts]


# ---------------------------------------------------------------------------------------------- answers
def answers_table(pairs: pd.DataFrame, agent: str, outcomes: Sequence[AnalysisOutcome]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_a": pairs["item_a"].to_numpy(),
            "item_b": pairs["item_b"].to_numpy(),
            "agent": agent,
            "answer": [o.answer for o in outcomes],
            "motivation": [o.motivation for o in outcomes],
            "status": [o.status for o in outcomes],
            "error": [o.error for o in outcomes],
        }
    )


def concat_answers(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The answer tables stacked, with ``ANSWER_COLUMNS`` and their types (empty when there are none)."""
    answers = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ANSWER_COLUMNS)
    answers = answers.reindex(columns=ANSWER_COLUMNS)
    return answers.astype(
        {"item_a": "int32", "item_b": "int32", "agent": "string", "answer": "string", "motivation": "string",
         "status": "string", "error": "string"}
    )  # fmt: skip


def run_agents(
    pairs: pd.DataFrame,
    agents: Sequence[AgentSpec],
    clients: Mapping[str, LLMClient],
    settings: AnalysisSettings,
) -> pd.DataFrame:
    """Every agent's answer and summary for every pair (``ANSWER_COLUMNS``), agents in the given order."""
    texts = pair_texts(pairs)
    frames = []
    for name, prompt, model in agents:
        outcomes = run_analysis_agent(clients[model], GENERATION_PROMPTS[prompt], texts, settings, label=name)
        frames.append(answers_table(pairs, name, outcomes))
    return concat_answers(frames)


# ---------------------------------------------------------------------------------------------- judging
def arena_comparisons(
    pairs: pd.DataFrame, answers: pd.DataFrame, agents: Sequence[str]
) -> tuple[list[dict[str, Any]], list[Comparison], list[int]]:
    """One judgment row per (pair, agent pair), the comparisons to ask the judge, and their row positions.

    When only one of two agents produced a usable motivation it wins without a judge call; when neither did,
    there is no comparison.
    """
    usable = answers[answers["status"] == STATUS_OK].set_index(["item_a", "item_b", "agent"])
    rows: list[dict[str, Any]] = []
    comparisons: list[Comparison] = []
    to_judge: list[int] = []
    for (rank, item_a, item_b), pair_text in zip(
        pairs[["rank", "item_a", "item_b"]].itertuples(index=False), pair_texts(pairs), strict=True
    ):
        for i, agent_i in enumerate(agents):
            for agent_j in agents[i + 1 :]:
                has_i, has_j = (
                    (item_a, item_b, agent_i) in usable.index,
                    (item_a, item_b, agent_j) in usable.index,
                )
                row = {"rank": rank, "item_a": item_a, "item_b": item_b, "agent_a": agent_i, "agent_b": agent_j,
                       "verdict_a_shown_first": None, "verdict_a_shown_second": None, "score_a": np.nan, "error": None}  # fmt: skip
                if has_i and has_j:
                    first, second = (
                        usable.loc[(item_a, item_b, agent_i)],
                        usable.loc[(item_a, item_b, agent_j)],
                    )
                    comparisons.append(
                        Comparison(
                            pair_text,
                            Contender(agent_i, str(first["motivation"]), str(first["answer"])),
                            Contender(agent_j, str(second["motivation"]), str(second["answer"])),
                        )
                    )
                    to_judge.append(len(rows))
                elif has_i or has_j:
                    row["score_a"] = 1.0 if has_i else 0.0
                    row["error"] = "only one agent produced a motivation"
                else:
                    row["error"] = "neither agent produced a motivation"
                rows.append(row)
    return rows, comparisons, to_judge


def judgments_table(
    rows: list[dict[str, Any]], to_judge: Sequence[int], judged: Sequence[JudgedComparison]
) -> pd.DataFrame:
    """The judgment rows (``JUDGMENT_COLUMNS``) with the judge's verdicts filled in at ``to_judge``."""
    for row_index, outcome in zip(to_judge, judged, strict=True):
        rows[row_index].update(
            verdict_a_shown_first=outcome.verdict_first_as_a,
            verdict_a_shown_second=outcome.verdict_first_as_b,
            score_a=np.nan if outcome.score_first is None else outcome.score_first,
            error=outcome.error,
        )
    judgments = pd.DataFrame(rows, columns=JUDGMENT_COLUMNS)
    return judgments.astype(
        {"rank": "int32", "item_a": "int32", "item_b": "int32", "agent_a": "string", "agent_b": "string",
         "verdict_a_shown_first": "string", "verdict_a_shown_second": "string", "score_a": "float64", "error": "string"}
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- ranking
def agent_leaderboard(
    judgments: pd.DataFrame, answers: pd.DataFrame, agents: Sequence[str], elo: Mapping[str, Any]
) -> pd.DataFrame:
    """The ELO leaderboard (agent, rating, wins, losses, ties, comparisons, ok_fraction), best first.

    Equal ratings (e.g. a judge that only ever ties) are broken by the fraction of arena pairs for which the
    agent produced a usable motivation, then by configuration order.
    """
    games = judgments.dropna(subset=["score_a"]).sort_values(["rank", "agent_a", "agent_b"], kind="stable")
    board = elo_leaderboard(
        games[["agent_a", "agent_b", "score_a"]].astype({"agent_a": str, "agent_b": str}),
        agents=list(agents),
        initial_rating=float(elo["initial_rating"]),
        k=float(elo["k"]),
        beta=float(elo["beta"]),
    )
    ok_fraction = (answers["status"] == STATUS_OK).groupby(answers["agent"].astype(str)).mean()
    board["ok_fraction"] = board["agent"].map(ok_fraction).fillna(0.0).astype("float64")
    board["order"] = board["agent"].map({agent: i for i, agent in enumerate(agents)})
    board["rounded"] = board["rating"].round(6)
    board = board.sort_values(
        ["rounded", "ok_fraction", "order"], ascending=[False, False, True], kind="stable"
    )
    return board.drop(columns=["order", "rounded"]).reset_index(drop=True)
