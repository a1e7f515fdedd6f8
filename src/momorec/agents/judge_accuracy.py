"""Evaluation only: how right the judges are, measured against the built-in shop's true motivations.

The method never reads the ground truth; this module does, after the arena has ranked the agents.

- Oracle score of a motivation: for each item of the pair, the best cosine similarity of the motivation to
  that item's true motivation names; the weaker of the two (a motivation must be right for both items).
- Oracle comparisons: the same agent pairs as the judges', won by the agent with the higher oracle score
  (a tie within ``oracle_margin``); an oracle leaderboard is fitted on them like a judge's.
- Agreement of a judge: over the comparisons the oracle decides (walkovers left out, being the same for
  every judge), 1 when the judge prefers the oracle's winner, 0.5 when it ties, 0 when it prefers the loser;
  mean with a bootstrap percentile interval. A judge that always ties scores exactly 0.5 (chance).
  ``agreement_by_sign`` does the same with the judge's preference alone (no tie margin): whether its leaning,
  however small, points the right way.
- Kendall's tau between each judge's and the oracle's leaderboard ratings.
- Position bias of the LLM judge before debiasing: the share of "A" verdicts in each order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from momorec.agents import arena
from momorec.agents.grounding_judge import embed

ORACLE_COLUMNS = ["item_a", "item_b", "agent", "oracle"]


def oracle_scores(
    answers: pd.DataFrame,
    motivation_embeddings: np.ndarray,
    truth: pd.DataFrame,
    truth_embeddings: np.ndarray,
) -> pd.DataFrame:
    """Oracle score per answer row (``ORACLE_COLUMNS``; NaN when an item has no true motivation).

    ``truth`` has one row per (item_idx, true motivation name), row-aligned with ``truth_embeddings``;
    ``motivation_embeddings`` is row-aligned with ``answers``; all rows unit-normalised.
    """
    if len(answers) != len(motivation_embeddings) or len(truth) != len(truth_embeddings):
        raise ValueError("oracle_scores: embeddings must be row-aligned with answers and truth")
    similarity = motivation_embeddings @ truth_embeddings.T  # (answers, truth rows)
    truth_items = truth["item_idx"].to_numpy()

    def best_for(items: np.ndarray) -> np.ndarray:
        belongs = items[:, None] == truth_items[None, :]
        best = np.where(belongs, similarity, -np.inf).max(axis=1, initial=-np.inf)
        return np.where(np.isfinite(best), best, np.nan)

    score = np.fmin(best_for(answers["item_a"].to_numpy()), best_for(answers["item_b"].to_numpy()))
    score = np.where(
        np.isnan(best_for(answers["item_a"].to_numpy())) | np.isnan(best_for(answers["item_b"].to_numpy())),
        np.nan,
        score,
    )
    return pd.DataFrame(
        {
            "item_a": answers["item_a"].to_numpy(),
            "item_b": answers["item_b"].to_numpy(),
            "agent": answers["agent"].astype(str).to_numpy(),
            "oracle": score.astype(np.float64),
        },
        columns=ORACLE_COLUMNS,
    )


def oracle_comparisons(comparisons: pd.DataFrame, oracle: pd.DataFrame, margin: float) -> pd.DataFrame:
    """The oracle's outcome of each (pair, agent pair) of one judge's comparisons (judge ``oracle``)."""
    base = comparisons.drop_duplicates(["rank", "agent_a", "agent_b"])[
        ["rank", "item_a", "item_b", "agent_a", "agent_b", "mode"]
    ].reset_index(drop=True)
    scores = oracle.set_index(["item_a", "item_b", "agent"])["oracle"]

    def score_of(agent_column: str) -> np.ndarray:
        index = pd.MultiIndex.from_arrays([base["item_a"], base["item_b"], base[agent_column].astype(str)])
        return scores.reindex(index).to_numpy(dtype=np.float64)

    difference = score_of("agent_a") - score_of("agent_b")
    outcome = np.where(np.abs(difference) <= margin, 0.5, np.where(difference > 0, 1.0, 0.0))
    outcome = np.where(np.isnan(difference), np.nan, outcome)
    walkover = (base["mode"] == "walkover").fillna(False).to_numpy(dtype=bool)
    return base.assign(judge="oracle", preference_a=difference, score_a=np.where(walkover, np.nan, outcome))


def agreement_values(judge_scores: np.ndarray, oracle_scores_: np.ndarray) -> np.ndarray:
    """Per comparison the oracle decides: 1 judge agrees, 0.5 judge ties, 0 judge disagrees (NaN judge: tie)."""
    decided = ~np.isnan(oracle_scores_) & (oracle_scores_ != 0.5)
    judge = np.where(np.isnan(judge_scores), 0.5, judge_scores)[decided]
    truth = oracle_scores_[decided]
    return np.where(judge == 0.5, 0.5, (judge == truth).astype(np.float64))


def bootstrap_interval(
    values: np.ndarray, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0
) -> tuple[float | None, float | None]:
    """Percentile interval of the mean of ``values`` (None, None when empty)."""
    if len(values) == 0:
        return None, None
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1)
    tail = (1 - confidence) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def _kendall(judge_board: pd.DataFrame, oracle_board: pd.DataFrame) -> float | None:
    merged = judge_board[["agent", "rating"]].merge(oracle_board[["agent", "rating"]], on="agent")
    if len(merged) < 2:
        return None
    tau = kendalltau(merged["rating_x"], merged["rating_y"]).statistic
    return None if np.isnan(tau) else round(float(tau), 4)


def judge_agreement(
    comparisons: pd.DataFrame,
    oracle: pd.DataFrame,
    leaderboards: pd.DataFrame,
    oracle_board: pd.DataFrame,
    judges: Sequence[str],
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Per judge: agreement with the oracle and its interval, ties, decided comparisons, Kendall's tau."""
    truth = oracle.set_index(["rank", "agent_a", "agent_b"])["score_a"]
    report: dict[str, dict[str, Any]] = {}
    for judge in judges:
        games = comparisons[comparisons["judge"] == judge]
        games = games[(games["mode"] != "walkover").fillna(True)]
        index = pd.MultiIndex.from_frame(
            games[["rank", "agent_a", "agent_b"]].astype({"agent_a": str, "agent_b": str})
        )
        values = agreement_values(
            games["score_a"].to_numpy(dtype=np.float64), truth.reindex(index).to_numpy()
        )
        low, high = bootstrap_interval(values, n_boot, confidence, seed)
        preference = games["preference_a"].to_numpy(dtype=np.float64)
        leaning = np.where(np.isnan(preference), np.nan, np.sign(preference - 0.5) / 2 + 0.5)
        by_sign = agreement_values(leaning, truth.reindex(index).to_numpy())
        judged = games["score_a"].notna()
        report[judge] = {
            "comparisons": int(len(games)),
            "tie_share": round(float((games.loc[judged, "score_a"] == 0.5).mean()), 4)
            if judged.any()
            else None,
            "oracle_decided": int(len(values)),
            "agreement": round(float(values.mean()), 4) if len(values) else None,
            "agreement_ci": [
                None if low is None else round(low, 4),
                None if high is None else round(high, 4),
            ],
            "agreement_by_sign": round(float(by_sign.mean()), 4) if len(by_sign) else None,
            "kendall_tau": _kendall(leaderboards[leaderboards["judge"] == judge], oracle_board),
        }
    return report


def position_bias(judgments: pd.DataFrame) -> dict[str, Any]:
    """Share of "A" verdicts (and mean P(A)) per order, before debiasing; order1 shows agent_a as label A."""
    report: dict[str, Any] = {}
    for order, verdicts, p_a in (
        ("order1", "verdict_a_shown_first", "p_a_order1"),
        ("order2", "verdict_a_shown_second", "p_a_order2"),
    ):
        parsed = judgments[verdicts].dropna()
        report[f"share_a_{order}"] = round(float((parsed == "A").mean()), 4) if len(parsed) else None
        report[f"verdicts_{order}"] = int(len(parsed))
        probabilities = judgments[p_a].dropna()
        report[f"mean_p_a_{order}"] = round(float(probabilities.mean()), 4) if len(probabilities) else None
    return report


def judge_accuracy_report(
    arena_answers: pd.DataFrame,
    arena_judgments: pd.DataFrame,
    arena_comparisons: pd.DataFrame,
    arena_leaderboards: pd.DataFrame,
    true_motivations: pd.DataFrame,
    agents: Sequence[str],
    judge_params: Mapping[str, Any],
    elo_params: Mapping[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Each judge's agreement with the oracle, the oracle leaderboard and the LLM judge's position bias.

    ``true_motivations``: ``item_idx``, ``motivation`` (empty without ground truth: the report then has no
    per-judge numbers and the leaderboard is empty). ``judge_params``/``elo_params``: ``motivation.judge`` and
    ``motivation.elo``.
    """
    oracle_params = judge_params.get("oracle", {})
    confidence = float(judge_params.get("confidence", 0.95))
    judges = arena.configured_judges(judge_params)
    report: dict[str, Any] = {
        "mode": arena.judge_mode(judge_params),
        "position_bias": position_bias(arena_judgments),
        "judges": {},
    }
    usable = arena_answers[arena_answers["status"] == "ok"].reset_index(drop=True)
    oracle_board = pd.DataFrame(columns=arena.LEADERBOARD_COLUMNS)
    if not true_motivations.empty and not usable.empty:
        encoder = str(judge_params["grounding"]["encoder"])
        truth = true_motivations[["item_idx", "motivation"]].reset_index(drop=True)
        oracle = oracle_scores(
            usable,
            embed(usable["motivation"].astype(str).tolist(), encoder),
            truth,
            embed(truth["motivation"].astype(str).tolist(), encoder),
        )
        games = oracle_comparisons(
            arena_comparisons[arena_comparisons["judge"] == judges[0]],
            oracle,
            float(oracle_params.get("tie_margin", 0.01)),
        )
        oracle_board = arena.agent_leaderboard(games, arena_answers, list(agents), elo_params, confidence)
        report["judges"] = judge_agreement(
            arena_comparisons,
            games,
            arena_leaderboards,
            oracle_board,
            judges,
            n_boot=int(oracle_params.get("bootstrap", 1000)),
            confidence=confidence,
            seed=int(oracle_params.get("seed", 0)),
        )
        report["oracle_top_agent"] = str(oracle_board["agent"].iloc[0])
    report["top_agent"] = {
        name: str(board["agent"].iloc[0]) for name, board in arena_leaderboards.groupby("judge")
    }
    return report, oracle_board
