"""Bradley–Terry ratings with confidence intervals from pairwise comparison outcomes.

P(i beats j) = sigmoid(theta_i - theta_j). A game's score s in [0, 1] (1 win, 0.5 tie, 0 loss) counts as s
of a win and 1 - s of a loss. The fit maximises the log-likelihood plus a weak Gaussian prior
(``-theta^2 / (2 * prior_variance)``), which keeps strengths finite when an agent wins every game. Strengths
are centred (sum zero: only differences are identified). Intervals: ``theta ± z * se`` with ``se`` from the
inverse of the penalised Fisher information (the Hessian at the optimum), projected onto the centred
strengths so the unidentified common level adds no width. Unlike ELO the fit does not depend on the order of the games.
Ratings are reported on the ELO scale: ``initial_rating + 400 / ln(10) * theta``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import norm

BT_COLUMNS = ["agent", "rating", "ci_low", "ci_high", "strength", "strength_se"]
ELO_SCALE = 400.0 / math.log(10.0)


def _indices(games: pd.DataFrame, agents: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = {"agent_a", "agent_b", "score_a"} - set(games.columns)
    if missing:
        raise ValueError(f"games: missing columns {sorted(missing)}")
    position = {agent: i for i, agent in enumerate(agents)}
    unknown = (set(games["agent_a"]) | set(games["agent_b"])) - set(position)
    if unknown:
        raise ValueError(f"games mention agents not in the arena: {sorted(unknown)}")
    score = games["score_a"].to_numpy(dtype=np.float64)
    if np.isnan(score).any() or not ((score >= 0) & (score <= 1)).all():
        raise ValueError("games: score_a must lie in [0, 1]")
    first = games["agent_a"].map(position).to_numpy(dtype=np.int64)
    second = games["agent_b"].map(position).to_numpy(dtype=np.int64)
    return first, second, score


def fit_strengths(
    games: pd.DataFrame, agents: Sequence[str], prior_variance: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """Strengths (log-odds scale) and their standard errors, in the order of ``agents``."""
    if prior_variance <= 0:
        raise ValueError(f"prior_variance must be > 0, got {prior_variance}")
    first, second, score = _indices(games, agents)
    n = len(agents)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        margin = theta[first] - theta[second]
        # -log-likelihood of soft outcomes: s * softplus(-m) + (1 - s) * softplus(m)
        loss = np.sum(score * np.logaddexp(0.0, -margin) + (1.0 - score) * np.logaddexp(0.0, margin))
        residual = 1.0 / (1.0 + np.exp(-margin)) - score
        gradient = np.zeros(n)
        np.add.at(gradient, first, residual)
        np.add.at(gradient, second, -residual)
        return loss + theta @ theta / (2 * prior_variance), gradient + theta / prior_variance

    theta = minimize(objective, np.zeros(n), jac=True, method="L-BFGS-B").x
    win = 1.0 / (1.0 + np.exp(-(theta[first] - theta[second])))
    weight = win * (1.0 - win)
    hessian = np.eye(n) / prior_variance
    np.add.at(hessian, (first, first), weight)
    np.add.at(hessian, (second, second), weight)
    np.add.at(hessian, (first, second), -weight)
    np.add.at(hessian, (second, first), -weight)
    centre = np.eye(n) - 1.0 / n
    covariance = centre @ np.linalg.inv(hessian) @ centre
    return centre @ theta, np.sqrt(np.clip(np.diag(covariance), 0.0, None))


def bradley_terry_ratings(
    games: pd.DataFrame,
    agents: Sequence[str],
    initial_rating: float = 1000.0,
    confidence: float = 0.95,
    prior_variance: float = 4.0,
) -> pd.DataFrame:
    """One row per agent (``BT_COLUMNS``) in the order of ``agents``: rating and its interval (ELO scale)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    theta, standard_error = fit_strengths(games, agents, prior_variance)
    z = float(norm.ppf(0.5 + confidence / 2))
    rating = initial_rating + ELO_SCALE * theta
    return pd.DataFrame(
        {
            "agent": list(agents),
            "rating": rating,
            "ci_low": rating - z * ELO_SCALE * standard_error,
            "ci_high": rating + z * ELO_SCALE * standard_error,
            "strength": theta,
            "strength_se": standard_error,
        },
        columns=BT_COLUMNS,
    )
