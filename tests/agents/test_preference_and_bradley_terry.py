"""Verdict probabilities, the position-debiased preference and the Bradley–Terry fit, on hand-made inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from momorec.agents.bradley_terry import ELO_SCALE, bradley_terry_ratings, fit_strengths
from momorec.agents.preference import debiased_preference, outcome, verdict_of_token, verdict_probabilities
from momorec.llm.client import TokenLogprobs


def _tokens(*pieces: tuple[str, dict[str, float]]) -> list[TokenLogprobs]:
    return [
        TokenLogprobs(token, tuple((alt, math.log(p)) for alt, p in top.items())) for token, top in pieces
    ]


# What the embedded server returned for a verdict (tokens and top alternatives, rounded).
EMBEDDED_ANSWER = _tokens(
    ('{"', {"A": 0.17, '{"': 0.01}),  # an "A" before the winner slot must not count
    ("winner", {"winner": 0.9}),
    ('":', {'":': 0.99}),
    (' "', {' "': 0.95}),
    ("A", {"A": 0.6, "B": 0.2, "tie": 0.1, "T": 0.05}),
    ('"', {'"': 0.7}),
    (',"', {',"': 0.2}),
    ("depth", {"depth": 0.6}),
    ('":', {'":': 0.9}),
    (' "', {' "': 0.9}),
    ("B", {"B": 0.9, "A": 0.1}),
)


def test_verdict_tokens():
    assert [verdict_of_token(t) for t in ("A", ' "B', "a", "tie", "ti", "T", "winner", "")] == [
        "A", "B", "A", "tie", "tie", None, None, None,
    ]  # fmt: skip


def test_probabilities_are_read_at_the_winner_slot_and_normalised():
    probabilities = verdict_probabilities(EMBEDDED_ANSWER)
    assert probabilities == pytest.approx({"A": 0.6 / 0.9, "B": 0.2 / 0.9, "tie": 0.1 / 0.9})


def test_no_winner_slot_gives_none():
    assert verdict_probabilities(_tokens(("Label", {"Label": 1.0}), ("A", {"A": 0.9}))) is None
    assert verdict_probabilities([]) is None
    no_verdict_mass = _tokens(('{"winner": "', {"x": 1.0}), ("A", {"x": 0.5}))
    assert verdict_probabilities(no_verdict_mass) is None


def test_a_constant_position_preference_cancels():
    constant = {"A": 0.8, "B": 0.15, "tie": 0.05}
    assert debiased_preference(constant, constant) == pytest.approx(0.5)
    # The first agent favoured in both orders (A when shown first, B when shown second).
    assert debiased_preference(
        {"A": 0.7, "B": 0.3, "tie": 0}, {"A": 0.6, "B": 0.4, "tie": 0}
    ) == pytest.approx(0.55)
    assert debiased_preference({"A": 0, "B": 0, "tie": 1}, {"A": 0, "B": 0, "tie": 1}) == 0.5


def test_outcome_ties_only_within_the_margin():
    assert [outcome(p, 0.05) for p in (0.5, 0.54, 0.56, 0.44, 0.46)] == [0.5, 0.5, 1.0, 0.0, 0.5]
    assert outcome(0.5001, 0.0) == 1.0
    with pytest.raises(ValueError, match="tie margin"):
        outcome(0.6, 0.5)


def test_bradley_terry_orders_by_results_with_intervals():
    games = pd.DataFrame(
        {
            "agent_a": ["x", "x", "y", "x", "y"],
            "agent_b": ["y", "z", "z", "y", "z"],
            "score_a": [1, 1, 1, 0.5, 0.5],
        }
    )
    board = bradley_terry_ratings(games, ["z", "y", "x"])
    assert board["agent"].tolist() == ["z", "y", "x"]  # in the given order
    rating = board.set_index("agent")["rating"]
    assert rating["x"] > rating["y"] > rating["z"]
    assert (board["ci_low"] < board["rating"]).all() and (board["rating"] < board["ci_high"]).all()
    # Reversed game order, same fit (order-free); strengths centred by the prior.
    again = bradley_terry_ratings(games.iloc[::-1], ["z", "y", "x"])
    np.testing.assert_allclose(again["rating"], board["rating"], atol=1e-4)
    assert abs(board["strength"].sum()) < 1e-3


def test_bradley_terry_matches_the_closed_form_for_two_agents():
    # x wins 3 of 4 against y: without the prior theta_x - theta_y = log 3; a wide prior comes close.
    games = pd.DataFrame({"agent_a": ["x"] * 4, "agent_b": ["y"] * 4, "score_a": [1, 1, 1, 0]})
    theta, se = fit_strengths(games, ["x", "y"], prior_variance=1e6)
    assert theta[0] - theta[1] == pytest.approx(math.log(3), rel=1e-3)
    # Fisher information of the difference: n p (1 - p) = 4 * 3/4 * 1/4; each strength carries half of it.
    assert se[0] == pytest.approx(math.sqrt(1 / (4 * 0.75 * 0.25)) / 2, rel=1e-2)
    board = bradley_terry_ratings(games, ["x", "y"], initial_rating=1000, prior_variance=1e6)
    assert board["rating"].iloc[0] - board["rating"].iloc[1] == pytest.approx(
        ELO_SCALE * math.log(3), rel=1e-3
    )


def test_all_ties_and_no_games_give_equal_ratings():
    ties = pd.DataFrame({"agent_a": ["x", "y"], "agent_b": ["y", "x"], "score_a": [0.5, 0.5]})
    assert bradley_terry_ratings(ties, ["x", "y"])["rating"].tolist() == pytest.approx([1000.0, 1000.0])
    empty = pd.DataFrame(columns=["agent_a", "agent_b", "score_a"])
    board = bradley_terry_ratings(empty, ["x", "y"])
    assert board["rating"].tolist() == [1000.0, 1000.0] and (board["ci_high"] > 1000).all()


def test_bradley_terry_rejects_bad_input():
    good = pd.DataFrame({"agent_a": ["x"], "agent_b": ["y"], "score_a": [1.0]})
    with pytest.raises(ValueError, match="missing columns"):
        bradley_terry_ratings(good.drop(columns="score_a"), ["x", "y"])
    with pytest.raises(ValueError, match="not in the arena"):
        bradley_terry_ratings(good, ["x"])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bradley_terry_ratings(good.assign(score_a=2.0), ["x", "y"])
    with pytest.raises(ValueError, match="confidence"):
        bradley_terry_ratings(good, ["x", "y"], confidence=1.0)
