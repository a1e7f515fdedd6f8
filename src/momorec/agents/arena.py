"""The agent arena: every agent answers the arena pairs, judges compare them, Bradley–Terry (and ELO) rank them.

Judges (``JUDGES``): ``llm`` (the judgment agent, position-debiased from verdict probabilities where the
endpoint returns them), ``grounding`` (``grounding_judge``: no generation) and ``combined`` (a weighted mean of
the two preferences). Every judge gets a leaderboard; ``motivation.judge.mode`` picks the one that chooses the
top agent.

An agent is a (generation prompt variant, model) combination from ``params:motivation.agents``. Clients
come from the caller (one per model), so the arena is plain data in, data out around the agents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from momorec.agents.analysis import (
    SAMPLING_KEYS,
    STATUS_OK,
    AnalysisOutcome,
    AnalysisSettings,
    agent_name,
    run_analysis_agent,
)
from momorec.agents.bradley_terry import bradley_terry_ratings
from momorec.agents.elo import elo_leaderboard
from momorec.agents.grounding_judge import GroundingSettings, grounding_preference
from momorec.agents.judge import Comparison, Contender, JudgedComparison
from momorec.agents.pairs import pair_texts
from momorec.agents.preference import outcome
from momorec.agents.prompts import GENERATION_PROMPTS
from momorec.llm.client import LLMClient
from momorec.llm.errors import LLMConfigError
from momorec.llm.params import check_known, require_mapping, typed_value

ANSWER_COLUMNS = ["item_a", "item_b", "agent", "answer", "motivation", "status", "error"]
# order1: agent_a shown as label A; order2: agent_a shown as label B. p_*: the judge's verdict probabilities.
JUDGMENT_COLUMNS = ["rank", "item_a", "item_b", "agent_a", "agent_b", "verdict_a_shown_first", "verdict_a_shown_second", "score_a", "error",
                    "p_a_order1", "p_b_order1", "p_a_order2", "p_b_order2", "preference_a", "mode"]  # fmt: skip
COMPARISON_COLUMNS = [
    "judge",
    "rank",
    "item_a",
    "item_b",
    "agent_a",
    "agent_b",
    "preference_a",
    "score_a",
    "mode",
]
JUDGES = ("llm", "grounding", "combined")
# What an unjudged comparison's error says when the LLM judge was not asked (grounding mode by default).
LLM_JUDGE_NOT_ASKED = "LLM judge not asked (motivation.judge.mode grounding, also_ask_llm false)"
MODE_WALKOVER = "walkover"


class AgentSpec(NamedTuple):
    """One contender: a prompt variant on a model, with optional generation sampling overrides."""

    name: str
    prompt: str
    model: str
    sampling: tuple[tuple[str, Any], ...] = ()

    def settings(self, base: AnalysisSettings) -> AnalysisSettings:
        """``base`` with this agent's generation sampling overrides (they change its cache keys)."""
        if not self.sampling:
            return base
        return replace(base, generation=replace(base.generation, **dict(self.sampling)))


def _sampling_settings(params: Mapping[str, Any]) -> dict[str, tuple[tuple[str, Any], ...]]:
    """``agents.sampling`` (name -> overrides); absent or empty: one setting, the generation defaults."""
    configured = params["agents"].get("sampling") or {}
    settings = {}
    for name, overrides in configured.items():
        key = f"motivation.agents.sampling.{name}"
        overrides = require_mapping(overrides, key)
        check_known(overrides, set(SAMPLING_KEYS), key)
        kinds = {"temperature": "float", "top_p": "float", "max_tokens": "int", "seed": "int"}
        settings[str(name)] = tuple(
            sorted((k, typed_value(value, kinds[k], f"{key}.{k}")) for k, value in overrides.items())
        )
    return settings or {"": ()}


def arena_agents(params: Mapping[str, Any]) -> list[AgentSpec]:
    """Every configured (prompt variant, sampling setting, model) combination, models outer.

    An agent is named ``prompt@model``, or ``prompt+setting@model`` when ``agents.sampling`` names settings.
    """
    prompts = list(params["agents"]["prompts"])
    models = list(params["agents"]["models"])
    unknown = [p for p in prompts if p not in GENERATION_PROMPTS]
    if unknown:
        raise LLMConfigError(
            f"motivation.agents.prompts: unknown variants {unknown}; known: {sorted(GENERATION_PROMPTS)}"
        )
    if not prompts or not models:
        raise LLMConfigError("motivation.agents needs at least one prompt variant and one model")
    samplings = _sampling_settings(params)
    return [
        AgentSpec(agent_name(f"{p}+{s}" if s else p, m), p, m, overrides)
        for m in models
        for p in prompts
        for s, overrides in samplings.items()
    ]


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
    for agent in agents:
        outcomes = run_analysis_agent(
            clients[agent.model],
            GENERATION_PROMPTS[agent.prompt],
            texts,
            agent.settings(settings),
            label=agent.name,
        )
        frames.append(answers_table(pairs, agent.name, outcomes))
    return concat_answers(frames)


# ---------------------------------------------------------------------------------------------- judging
def _checked_mode(mode: str) -> str:
    if mode not in JUDGES:
        raise ValueError(f"motivation.judge.mode: {mode!r} is not one of {list(JUDGES)}")
    return mode


def judge_mode(judge_params: Mapping[str, Any]) -> str:
    """``motivation.judge.mode``, checked: the judge whose leaderboard picks the top agent."""
    return _checked_mode(str(judge_params.get("mode", "llm")))


def judges_to_run(mode: str, also_ask_llm: bool) -> tuple[str, ...]:
    """The judges a run needs: all three when ``mode`` reads the LLM's verdicts or when asked for; else grounding.

    The LLM judge costs two calls per comparison (about half the LLM time of a cold default run); without it
    the combined judge would only repeat the grounding judge, so it is left out too.
    """
    mode = _checked_mode(mode)
    return JUDGES if mode != "grounding" or also_ask_llm else ("grounding",)


def configured_judges(judge_params: Mapping[str, Any]) -> tuple[str, ...]:
    """:func:`judges_to_run` for ``params:motivation.judge``."""
    return judges_to_run(judge_mode(judge_params), bool(judge_params.get("also_ask_llm", False)))


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
                       "verdict_a_shown_first": None, "verdict_a_shown_second": None, "score_a": np.nan, "error": None,
                       "preference_a": np.nan, "mode": None}  # fmt: skip
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
                    row["score_a"] = row["preference_a"] = 1.0 if has_i else 0.0
                    row["mode"] = MODE_WALKOVER
                    row["error"] = "only one agent produced a motivation"
                else:
                    row["error"] = "neither agent produced a motivation"
                rows.append(row)
    return rows, comparisons, to_judge


def judgments_table(
    rows: list[dict[str, Any]], to_judge: Sequence[int], judged: Sequence[JudgedComparison] | None
) -> pd.DataFrame:
    """The judgment rows (``JUDGMENT_COLUMNS``) with the judge's verdicts filled in at ``to_judge``.

    ``judged`` None: the LLM judge was not asked; those rows keep no verdict and say so in ``error``.
    """
    if judged is None:
        for row_index in to_judge:
            rows[row_index]["error"] = LLM_JUDGE_NOT_ASKED
        to_judge, judged = [], []
    for row_index, judgment in zip(to_judge, judged, strict=True):
        order1 = judgment.probabilities_first_as_a or {}
        order2 = judgment.probabilities_first_as_b or {}
        rows[row_index].update(
            verdict_a_shown_first=judgment.verdict_first_as_a,
            verdict_a_shown_second=judgment.verdict_first_as_b,
            score_a=np.nan if judgment.score_first is None else judgment.score_first,
            error=judgment.error,
            p_a_order1=order1.get("A", np.nan),
            p_b_order1=order1.get("B", np.nan),
            p_a_order2=order2.get("A", np.nan),
            p_b_order2=order2.get("B", np.nan),
            preference_a=np.nan if judgment.preference_first is None else judgment.preference_first,
            mode=judgment.mode,
        )
    judgments = pd.DataFrame(rows, columns=JUDGMENT_COLUMNS)
    return judgments.astype(
        {"rank": "int32", "item_a": "int32", "item_b": "int32", "agent_a": "string", "agent_b": "string",
         "verdict_a_shown_first": "string", "verdict_a_shown_second": "string", "score_a": "float64", "error": "string",
         "p_a_order1": "float64", "p_b_order1": "float64", "p_a_order2": "float64", "p_b_order2": "float64",
         "preference_a": "float64", "mode": "string"}
    )  # fmt: skip


def judge_comparisons(
    judgments: pd.DataFrame,
    grounding: pd.DataFrame,
    grounding_settings: GroundingSettings,
    llm_weight: float,
    combined_margin: float,
    judges: Sequence[str] = JUDGES,
) -> pd.DataFrame:
    """Each of ``judges``' preference and score per comparison (``COMPARISON_COLUMNS``, judges stacked).

    ``grounding`` holds the grounding score of each usable answer (item_a, item_b, agent, grounding). Walkovers
    (one agent without a usable motivation) count the same for every judge. ``combined`` averages the LLM's
    and the grounding judge's preferences with weight ``llm_weight`` on the LLM (grounding alone where the LLM
    has none), a tie within ``combined_margin``.
    """
    if not 0 <= llm_weight <= 1:
        raise ValueError(f"combined judge: llm_weight must lie in [0, 1], got {llm_weight}")
    keys = ["rank", "item_a", "item_b", "agent_a", "agent_b"]
    base = judgments[keys].astype({"agent_a": str, "agent_b": str}).reset_index(drop=True)
    walkover = (judgments["mode"] == MODE_WALKOVER).fillna(False).to_numpy(dtype=bool)
    scores = grounding.set_index(["item_a", "item_b", "agent"])["grounding"].astype("float64")
    score_a = scores.reindex(
        pd.MultiIndex.from_arrays([base["item_a"], base["item_b"], base["agent_a"]])
    ).to_numpy()
    score_b = scores.reindex(
        pd.MultiIndex.from_arrays([base["item_a"], base["item_b"], base["agent_b"]])
    ).to_numpy()
    ground_pref, ground_score = grounding_preference(score_a - score_b, grounding_settings)
    ground_mode = np.where(np.isnan(score_a - score_b), None, "grounding")
    walk_score = judgments["score_a"].to_numpy(dtype=np.float64)
    ground_pref = np.where(walkover, walk_score, ground_pref)
    ground_score = np.where(walkover, walk_score, ground_score)
    ground_mode = np.where(walkover, MODE_WALKOVER, ground_mode)

    llm_pref = judgments["preference_a"].to_numpy(dtype=np.float64)
    has_llm = ~np.isnan(llm_pref) & ~walkover
    mixed = np.where(has_llm, llm_weight * llm_pref + (1 - llm_weight) * ground_pref, ground_pref)
    outcome(0.5, combined_margin)  # validates the margin
    decided = np.where(mixed > 0.5, 1.0, 0.0)
    mixed_score = np.where(
        np.isnan(mixed), np.nan, np.where(np.abs(mixed - 0.5) <= combined_margin, 0.5, decided)
    )
    mixed_score = np.where(walkover, walk_score, mixed_score)
    llm_mode = judgments["mode"].astype(object).where(judgments["mode"].notna(), None).to_numpy()
    mixed_mode = np.where(walkover, MODE_WALKOVER, np.where(has_llm, "combined", ground_mode))
    unknown = sorted(set(judges) - set(JUDGES))
    if unknown or not judges:
        raise ValueError(f"judges must be a non-empty subset of {list(JUDGES)}, got {list(judges)}")
    frames = {
        "llm": base.assign(judge="llm", preference_a=llm_pref, score_a=walk_score, mode=llm_mode),
        "grounding": base.assign(
            judge="grounding", preference_a=ground_pref, score_a=ground_score, mode=ground_mode
        ),
        "combined": base.assign(judge="combined", preference_a=mixed, score_a=mixed_score, mode=mixed_mode),
    }
    table = pd.concat([frames[judge] for judge in JUDGES if judge in judges], ignore_index=True)
    table = table[COMPARISON_COLUMNS]
    return table.astype(
        {"judge": "string", "rank": "int32", "item_a": "int32", "item_b": "int32", "agent_a": "string",
         "agent_b": "string", "preference_a": "float64", "score_a": "float64", "mode": "string"}
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- ranking
LEADERBOARD_COLUMNS = ["judge", "mode", "agent", "rating", "ci_low", "ci_high", "elo", "wins", "losses", "ties", "comparisons", "ok_fraction"]  # fmt: skip


def leaderboard_mode(modes: pd.Series) -> str:
    """Which kind of evidence produced a judge's leaderboard: one mode, or the modes with their counts."""
    counts = modes.dropna().astype(str).value_counts()
    counts = counts[counts.index != MODE_WALKOVER]
    if counts.empty:
        return "none"
    if len(counts) == 1:
        return str(counts.index[0])
    return "mixed (" + ", ".join(f"{mode}: {n}" for mode, n in counts.sort_index().items()) + ")"


def agent_leaderboard(
    comparisons: pd.DataFrame,
    answers: pd.DataFrame,
    agents: Sequence[str],
    elo: Mapping[str, Any],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One judge's leaderboard (``LEADERBOARD_COLUMNS``), best first.

    ``rating`` and its interval are the Bradley–Terry fit on the ELO scale (order-free); ``elo`` is the
    sequential ELO rating of the same games in pair-rank order. Equal ratings (e.g. a judge that only ever
    ties) are broken by the fraction of arena pairs for which the agent produced a usable motivation, then by
    configuration order.
    """
    games = comparisons.dropna(subset=["score_a"]).sort_values(["rank", "agent_a", "agent_b"], kind="stable")
    games = games[["agent_a", "agent_b", "score_a"]].astype({"agent_a": str, "agent_b": str})
    initial = float(elo["initial_rating"])
    board = elo_leaderboard(games, agents=list(agents), initial_rating=initial, k=float(elo["k"]),
                            beta=float(elo["beta"])).rename(columns={"rating": "elo"})  # fmt: skip
    board = board.merge(bradley_terry_ratings(games, list(agents), initial, confidence), on="agent")
    ok_fraction = (answers["status"] == STATUS_OK).groupby(answers["agent"].astype(str)).mean()
    board["ok_fraction"] = board["agent"].map(ok_fraction).fillna(0.0).astype("float64")
    board["judge"] = str(comparisons["judge"].iloc[0]) if "judge" in comparisons and len(comparisons) else ""
    board["mode"] = leaderboard_mode(comparisons["mode"]) if "mode" in comparisons else "none"
    board["order"] = board["agent"].map({agent: i for i, agent in enumerate(agents)})
    board["rounded"] = board["rating"].round(6)
    board = board.sort_values(
        ["rounded", "ok_fraction", "order"], ascending=[False, False, True], kind="stable"
    )
    return board[LEADERBOARD_COLUMNS].reset_index(drop=True)


def judge_leaderboards(
    comparisons: pd.DataFrame,
    answers: pd.DataFrame,
    agents: Sequence[str],
    elo: Mapping[str, Any],
    confidence: float = 0.95,
    judges: Sequence[str] = JUDGES,
) -> pd.DataFrame:
    """The leaderboard of each of ``judges``, stacked in ``JUDGES`` order."""
    frames = [
        agent_leaderboard(
            comparisons[comparisons["judge"] == judge], answers, agents, elo, confidence
        ).assign(judge=judge)
        for judge in JUDGES
        if judge in judges
    ]
    return pd.concat(frames, ignore_index=True)
