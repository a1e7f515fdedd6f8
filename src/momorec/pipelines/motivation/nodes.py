"""Nodes of the motivation stage: pairs → agents → judge → ELO arena → motivations per pair and per item.

Nodes that call an LLM take the ``llm_cache`` dataset and the ``motivation`` parameters, open their clients
for the duration of the node (an embedded server is started only on a cache miss and always stopped when
the node ends) and return their usage accounting next to their data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from momorec.agents.analysis import (
    STATUS_FAILED,
    STATUS_OK,
    AnalysisSettings,
    Sampling,
    agent_name,
    run_analysis_agent,
)
from momorec.agents.elo import elo_leaderboard
from momorec.agents.judge import Comparison, Contender, JudgeSettings, run_judge
from momorec.agents.prompts import GENERATION_PROMPTS, PROMPT_VERSION, ItemText
from momorec.llm.cache import LLMCache
from momorec.llm.errors import LLMConfigError
from momorec.llm.session import open_clients
from momorec.llm.tokens import truncate_texts_to_token_budget
from momorec.llm.usage import UsageRecorder, merge_usage

logger = logging.getLogger(__name__)

PAIR_COLUMNS = ["rank", "item_a", "item_b", "support", "title_a", "category_a", "title_b", "category_b"]
ANSWER_COLUMNS = ["item_a", "item_b", "agent", "answer", "motivation", "status", "error"]
JUDGMENT_COLUMNS = ["rank", "item_a", "item_b", "agent_a", "agent_b", "verdict_a_shown_first", "verdict_a_shown_second", "score_a", "error"]  # fmt: skip
PAIR_MOTIVATION_COLUMNS = ["item_a", "item_b", "support", "motivation", "agent", "status"]


# ---------------------------------------------------------------------------------------------- configuration
def _agents(params: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(agent name, prompt variant, model name) for every configured combination, in configuration order."""
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


def _salt(params: Mapping[str, Any]) -> str:
    return f"{PROMPT_VERSION}/{params.get('cache_salt', '')}"


def _constrained(params: Mapping[str, Any]) -> bool:
    """``constrained`` sends JSON schemas, which only a JSON-mode request carries: both must be on."""
    constrained = bool(params.get("constrained", False))
    if constrained and not bool(params.get("json_mode", True)):
        raise ValueError("motivation.constrained: true needs motivation.json_mode: true")
    return constrained


def _analysis_settings(params: Mapping[str, Any]) -> AnalysisSettings:
    summary = params["summary"]
    return AnalysisSettings(
        generation=Sampling.from_params(params["generation"]),
        summary=Sampling.from_params(summary),
        summary_attempts=int(summary.get("attempts", 3)),
        max_words=int(summary.get("max_words", 12)),
        generic_blocklist=tuple(params.get("generic_blocklist", ())),
        json_mode=bool(params.get("json_mode", True)),
        constrained=_constrained(params),
        salt=_salt(params),
    )


def _pair_texts(pairs: pd.DataFrame, max_title_tokens: int | None) -> list[tuple[ItemText, ItemText]]:
    columns = pairs[["title_a", "category_a", "title_b", "category_b"]].fillna("").astype(str)
    if max_title_tokens is not None:  # titles of any length would overflow the model's context
        for column in ("title_a", "title_b"):
            columns[column] = truncate_texts_to_token_budget(columns[column], int(max_title_tokens))
    return [(ItemText(ta, ca), ItemText(tb, cb)) for ta, ca, tb, cb in columns.itertuples(index=False)]


def _run_agents(
    pairs: pd.DataFrame,
    agents: list[tuple[str, str, str]],
    cache: LLMCache,
    params: Mapping[str, Any],
    usage: UsageRecorder,
) -> pd.DataFrame:
    settings = _analysis_settings(params)
    texts = _pair_texts(pairs, params.get("max_title_tokens"))
    frames = []
    with open_clients(
        [m for _, _, m in agents],
        params["models"],
        params["client"],
        params.get("embedded", {}),
        cache,
        usage,
    ) as clients:
        for name, prompt, model in agents:
            outcomes = run_analysis_agent(
                clients[model], GENERATION_PROMPTS[prompt], texts, settings, label=name
            )
            frames.append(
                pd.DataFrame(
                    {
                        "item_a": pairs["item_a"].to_numpy(),
                        "item_b": pairs["item_b"].to_numpy(),
                        "agent": name,
                        "answer": [o.answer for o in outcomes],
                        "motivation": [o.motivation for o in outcomes],
                        "status": [o.status for o in outcomes],
                        "error": [o.error for o in outcomes],
                    }
                )
            )
    return _answers_frame(frames)


def _answers_frame(frames: list[pd.DataFrame]) -> pd.DataFrame:
    answers = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ANSWER_COLUMNS)
    answers = answers.reindex(columns=ANSWER_COLUMNS)
    return answers.astype(
        {"item_a": "int32", "item_b": "int32", "agent": "string", "answer": "string", "motivation": "string",
         "status": "string", "error": "string"}
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- nodes
def select_motivation_pairs(
    copurchase_pairs: pd.DataFrame, items: pd.DataFrame, max_pairs: int
) -> pd.DataFrame:
    """The ``max_pairs`` most supported co-purchase pairs with both items' titles and categories."""
    missing = {"item_a", "item_b", "support"} - set(copurchase_pairs.columns)
    if missing:
        raise ValueError(f"copurchase_pairs: missing columns {sorted(missing)}")
    missing = {"item_idx", "title", "category"} - set(items.columns)
    if missing:
        raise ValueError(f"items: missing columns {sorted(missing)}")
    if max_pairs < 1:
        raise ValueError(f"motivation.max_pairs must be >= 1, got {max_pairs}")
    pairs = copurchase_pairs.sort_values(
        ["support", "item_a", "item_b"], ascending=[False, True, True], kind="stable"
    )
    pairs = pairs.head(max_pairs).reset_index(drop=True)
    catalogue = items.set_index("item_idx")[["title", "category"]]
    unknown = ~(pairs["item_a"].isin(catalogue.index) & pairs["item_b"].isin(catalogue.index))
    if unknown.any():
        raise ValueError(
            f"copurchase_pairs: {int(unknown.sum())} pairs refer to item_idx absent from items, "
            f"e.g. {pairs.loc[unknown, ['item_a', 'item_b']].head(3).to_dict('records')}"
        )
    selected = pd.DataFrame(
        {
            "rank": np.arange(len(pairs), dtype="int32"),
            "item_a": pairs["item_a"].astype("int32").to_numpy(),
            "item_b": pairs["item_b"].astype("int32").to_numpy(),
            "support": pairs["support"].astype("int64").to_numpy(),
            "title_a": catalogue["title"].reindex(pairs["item_a"]).to_numpy(),
            "category_a": catalogue["category"].reindex(pairs["item_a"]).to_numpy(),
            "title_b": catalogue["title"].reindex(pairs["item_b"]).to_numpy(),
            "category_b": catalogue["category"].reindex(pairs["item_b"]).to_numpy(),
        }
    )
    return selected.astype({c: "string" for c in ("title_a", "category_a", "title_b", "category_b")})


def run_arena_agents(
    motivation_pairs: pd.DataFrame, llm_cache: LLMCache, params: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every agent's answer and summary for the ``arena_pairs`` most supported pairs."""
    arena = motivation_pairs.head(int(params["arena_pairs"]))
    usage = UsageRecorder("arena_agents")
    answers = _run_agents(arena, _agents(params), llm_cache, params, usage)
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
    agents = [name for name, _, _ in _agents(params)]
    usable = arena_answers[arena_answers["status"] == STATUS_OK].set_index(["item_a", "item_b", "agent"])
    pairs = motivation_pairs.head(int(params["arena_pairs"]))
    texts = _pair_texts(pairs, params.get("max_title_tokens"))
    rows: list[dict[str, Any]] = []
    comparisons: list[Comparison] = []
    to_judge: list[int] = []
    for (rank, item_a, item_b), pair_text in zip(
        pairs[["rank", "item_a", "item_b"]].itertuples(index=False), texts, strict=True
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
    judge = params["judge"]
    settings = JudgeSettings(
        sampling=Sampling.from_params(judge),
        attempts=int(judge.get("attempts", 2)),
        answer_chars=int(judge.get("answer_chars", 300)),
        json_mode=bool(params.get("json_mode", True)),
        constrained=_constrained(params),
        salt=_salt(params),
    )
    if comparisons:
        with open_clients(
            [judge["model"]], params["models"], params["client"], params.get("embedded", {}), llm_cache, usage
        ) as clients:
            judged = run_judge(clients[judge["model"]], comparisons, settings)
        for row_index, outcome in zip(to_judge, judged, strict=True):
            rows[row_index].update(
                verdict_a_shown_first=outcome.verdict_first_as_a,
                verdict_a_shown_second=outcome.verdict_first_as_b,
                score_a=np.nan if outcome.score_first is None else outcome.score_first,
                error=outcome.error,
            )
    judgments = pd.DataFrame(rows, columns=JUDGMENT_COLUMNS)
    judgments = judgments.astype(
        {"rank": "int32", "item_a": "int32", "item_b": "int32", "agent_a": "string", "agent_b": "string",
         "verdict_a_shown_first": "string", "verdict_a_shown_second": "string", "score_a": "float64", "error": "string"}
    )  # fmt: skip
    return judgments, usage.as_dict()


def rank_agents(
    arena_judgments: pd.DataFrame, arena_answers: pd.DataFrame, params: Mapping[str, Any]
) -> pd.DataFrame:
    """The ELO leaderboard (agent, rating, wins, losses, ties, comparisons, ok_fraction), best first.

    Equal ratings (e.g. a judge that only ever ties) are broken by the fraction of arena pairs for which the
    agent produced a usable motivation, then by configuration order.
    """
    elo = params["elo"]
    agents = [name for name, _, _ in _agents(params)]
    games = arena_judgments.dropna(subset=["score_a"]).sort_values(
        ["rank", "agent_a", "agent_b"], kind="stable"
    )
    board = elo_leaderboard(
        games[["agent_a", "agent_b", "score_a"]].astype({"agent_a": str, "agent_b": str}),
        agents=agents,
        initial_rating=float(elo["initial_rating"]),
        k=float(elo["k"]),
        beta=float(elo["beta"]),
    )
    ok_fraction = (arena_answers["status"] == STATUS_OK).groupby(arena_answers["agent"].astype(str)).mean()
    board["ok_fraction"] = board["agent"].map(ok_fraction).fillna(0.0).astype("float64")
    board["order"] = board["agent"].map({agent: i for i, agent in enumerate(agents)})
    board["rounded"] = board["rating"].round(6)
    board = board.sort_values(
        ["rounded", "ok_fraction", "order"], ascending=[False, False, True], kind="stable"
    )
    return board.drop(columns=["order", "rounded"]).reset_index(drop=True)


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
    top = str(agent_leaderboard["agent"].iloc[0])
    agents = {name: (name, prompt, model) for name, prompt, model in _agents(params)}
    answered = arena_answers.loc[arena_answers["agent"] == top, ["item_a", "item_b"]]
    done = pd.MultiIndex.from_frame(answered)
    todo = motivation_pairs[~pd.MultiIndex.from_frame(motivation_pairs[["item_a", "item_b"]]).isin(done)]
    logger.info("Top agent %s: %d pairs answered in the arena, %d to generate", top, len(answered), len(todo))
    frames = [arena_answers.reindex(columns=ANSWER_COLUMNS)]
    if not todo.empty:
        frames.append(_run_agents(todo, [agents[top]], llm_cache, params, usage))
    return _answers_frame(frames), usage.as_dict()


def select_pair_motivations(
    agent_answers: pd.DataFrame, motivation_pairs: pd.DataFrame, agent_leaderboard: pd.DataFrame
) -> pd.DataFrame:
    """The top agent's motivation (and status) for every selected pair, in pair order."""
    top = str(agent_leaderboard["agent"].iloc[0])
    chosen = agent_answers.loc[agent_answers["agent"] == top, ["item_a", "item_b", "motivation", "status"]]
    merged = motivation_pairs[["item_a", "item_b", "support"]].merge(
        chosen, on=["item_a", "item_b"], how="left"
    )
    merged["agent"] = top
    # A pair the top agent has no row for was never answered: a failure, not a silent gap.
    merged["status"] = merged["status"].fillna(STATUS_FAILED)
    return merged[PAIR_MOTIVATION_COLUMNS].astype(
        {
            "item_a": "int32",
            "item_b": "int32",
            "support": "int64",
            "motivation": "string",
            "agent": "string",
            "status": "string",
        }
    )


def aggregate_item_motivations(pair_motivations: pd.DataFrame) -> pd.DataFrame:
    """Each item's motivations from the pairs it belongs to, with the number of pairs giving each."""
    ok = pair_motivations[pair_motivations["status"] == STATUS_OK]
    both = pd.concat(
        [ok[["item_a", "motivation"]].rename(columns={"item_a": "item_idx"}),
         ok[["item_b", "motivation"]].rename(columns={"item_b": "item_idx"})],
        ignore_index=True,
    )  # fmt: skip
    counted = (
        both.groupby(["item_idx", "motivation"], as_index=False).size().rename(columns={"size": "support"})
    )
    counted = counted.sort_values(
        ["item_idx", "support", "motivation"], ascending=[True, False, True], kind="stable"
    )
    return counted.reset_index(drop=True).astype(
        {"item_idx": "int32", "motivation": "string", "support": "int64"}
    )


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
    """How often the two items of a pair with a generated motivation share a ground-truth motivation.

    Only meaningful on the built-in shop (elsewhere the ground truth is empty and the numbers are ``None``).
    ``text_names_shared_truth`` is a crude check of the text itself: the fraction of those sharing pairs whose
    generated motivation contains a content word of a shared true motivation's name.
    """
    ok = pair_motivations[pair_motivations["status"] == STATUS_OK]
    report: dict[str, Any] = {
        "pairs_selected": int(len(pair_motivations)),
        "pairs_with_motivation": int(len(ok)),
        "status_counts": {str(k): int(v) for k, v in pair_motivations["status"].value_counts().items()},
        "fraction_sharing_true_motivation": None,
        "fraction_text_names_shared_truth": None,
    }
    if item_true_motivations.empty or ok.empty:
        return report
    truth = item_true_motivations.merge(items[["item_idx", "item_id"]], on="item_id", how="inner")
    truth = truth[["item_idx", "motivation_id", "motivation"]]
    pairs = ok[["item_a", "item_b", "motivation"]].rename(columns={"motivation": "generated"})
    pairs = pairs.reset_index(drop=True).reset_index(names="pair")
    shared = pairs.merge(truth.rename(columns={"item_idx": "item_a"}), on="item_a").merge(
        truth[["item_idx", "motivation_id"]].rename(columns={"item_idx": "item_b"}),
        on=["item_b", "motivation_id"],
    )
    sharing_pairs = shared["pair"].nunique()
    report["fraction_sharing_true_motivation"] = round(sharing_pairs / len(pairs), 4)
    if sharing_pairs:
        generated_words = shared["generated"].str.lower().str.findall(r"[a-z]{4,}")
        truth_words = shared["motivation"].str.lower().str.findall(r"[a-z]{4,}")
        mentions = [bool(set(g) & set(t)) for g, t in zip(generated_words, truth_words, strict=True)]
        named = shared.assign(named=mentions).groupby("pair")["named"].any()
        report["fraction_text_names_shared_truth"] = round(float(named.mean()), 4)
    report["pairs_sharing_true_motivation"] = int(sharing_pairs)
    return report
