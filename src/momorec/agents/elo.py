"""The ELO arena: agents' ratings from pairwise comparison outcomes.

Expected score of agent i against j: ``E_i = 1 / (1 + 10 ** ((R_j - R_i) / beta))``; after a game with
score ``S_i`` in [0, 1] (1 win, 0.5 tie, 0 loss), ``R_i += K * (S_i - E_i)`` and ``R_j`` moves by the
opposite amount. Games are applied in the order given, which the caller makes deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

LEADERBOARD_COLUMNS = ["agent", "rating", "wins", "losses", "ties", "comparisons"]


def expected_score(rating_i: float, rating_j: float, beta: float = 400.0) -> float:
    """Probability that agent i beats agent j under the ELO model."""
    return 1.0 / (1.0 + 10.0 ** ((rating_j - rating_i) / beta))


def elo_leaderboard(
    games: pd.DataFrame,
    agents: Sequence[str],
    initial_rating: float = 1000.0,
    k: float = 16.0,
    beta: float = 400.0,
) -> pd.DataFrame:
    """Ratings and win/loss/tie counts from ``games`` (columns agent_a, agent_b, score_a), best first.

    Every agent in ``agents`` gets a row, also without games; ties in rating keep the order of ``agents``.
    """
    missing = {"agent_a", "agent_b", "score_a"} - set(games.columns)
    if missing:
        raise ValueError(f"games: missing columns {sorted(missing)}")
    unknown = (set(games["agent_a"]) | set(games["agent_b"])) - set(agents)
    if unknown:
        raise ValueError(f"games mention agents not in the arena: {sorted(unknown)}")
    if not games.empty and not games["score_a"].between(0.0, 1.0).all():
        raise ValueError("games: score_a must lie in [0, 1]")
    if beta <= 0 or k < 0:
        raise ValueError(f"ELO needs beta > 0 and k >= 0, got beta={beta}, k={k}")
    ratings = dict.fromkeys(agents, float(initial_rating))
    counts = {agent: {"wins": 0, "losses": 0, "ties": 0, "comparisons": 0} for agent in agents}
    # ELO is sequential by definition; the arena holds at most a few thousand games.
    for agent_a, agent_b, score_a in games[["agent_a", "agent_b", "score_a"]].itertuples(index=False):
        expected_a = expected_score(ratings[agent_a], ratings[agent_b], beta)
        delta = k * (float(score_a) - expected_a)
        ratings[agent_a] += delta
        ratings[agent_b] -= delta
        outcome_a, outcome_b = (
            ("wins", "losses") if score_a > 0.5 else ("losses", "wins") if score_a < 0.5 else ("ties", "ties")
        )
        counts[agent_a][outcome_a] += 1
        counts[agent_b][outcome_b] += 1
        counts[agent_a]["comparisons"] += 1
        counts[agent_b]["comparisons"] += 1
    board = pd.DataFrame(
        [{"agent": agent, "rating": ratings[agent], **counts[agent]} for agent in agents],
        columns=LEADERBOARD_COLUMNS,
    )
    board["order"] = range(len(board))
    board = board.sort_values(["rating", "order"], ascending=[False, True], kind="stable").drop(
        columns="order"
    )
    return board.astype(
        {"rating": "float64", "wins": "int64", "losses": "int64", "ties": "int64", "comparisons": "int64"}
    ).reset_index(drop=True)
