import math

import pandas as pd
import pytest

from momorec.agents.elo import LEADERBOARD_COLUMNS, elo_leaderboard, expected_score


def test_expected_score_formula_and_symmetry():
    assert expected_score(1000, 1000) == 0.5
    assert math.isclose(expected_score(1200, 1000, beta=400), 1 / (1 + 10 ** (-200 / 400)))
    assert math.isclose(expected_score(1100, 1000, 400) + expected_score(1000, 1100, 400), 1.0)
    # A smaller beta makes the same gap more decisive.
    assert expected_score(1100, 1000, beta=100) > expected_score(1100, 1000, beta=400)


def test_one_win_moves_ratings_by_k_half():
    games = pd.DataFrame({"agent_a": ["x"], "agent_b": ["y"], "score_a": [1.0]})
    board = elo_leaderboard(games, ["x", "y"], initial_rating=1000, k=32, beta=400)
    assert list(board.columns) == LEADERBOARD_COLUMNS
    ratings = dict(zip(board["agent"], board["rating"], strict=True))
    assert ratings == {"x": 1016.0, "y": 984.0}
    assert board.set_index("agent").loc["x", ["wins", "losses", "ties", "comparisons"]].tolist() == [
        1,
        0,
        0,
        1,
    ]


def test_hand_computed_sequence_ties_and_zero_sum():
    games = pd.DataFrame({"agent_a": ["x", "y", "x"], "agent_b": ["y", "z", "z"], "score_a": [1.0, 0.5, 0.0]})
    board = elo_leaderboard(games, ["x", "y", "z"], initial_rating=1000, k=16, beta=400).set_index("agent")
    x, y, z = 1000.0, 1000.0, 1000.0
    d = 16 * (1.0 - expected_score(x, y))
    x, y = x + d, y - d  # noqa: E702
    d = 16 * (0.5 - expected_score(y, z))
    y, z = y + d, z - d  # noqa: E702
    d = 16 * (0.0 - expected_score(x, z))
    x, z = x + d, z - d  # noqa: E702
    assert board.loc[["x", "y", "z"], "rating"].tolist() == pytest.approx([x, y, z])
    assert board["rating"].sum() == pytest.approx(3000.0)
    assert board.loc["y", "ties"] == 1 and board.loc["z", "ties"] == 1
    assert board.index[0] == "z"  # z beat x and tied y


def test_no_games_keeps_configuration_order_and_bad_input_raises():
    empty = pd.DataFrame(columns=["agent_a", "agent_b", "score_a"])
    board = elo_leaderboard(empty, ["b", "a"])
    assert board["agent"].tolist() == ["b", "a"] and (board["rating"] == 1000).all()
    with pytest.raises(ValueError, match="not in the arena"):
        elo_leaderboard(pd.DataFrame({"agent_a": ["q"], "agent_b": ["a"], "score_a": [1.0]}), ["a", "b"])
    with pytest.raises(ValueError, match="score_a"):
        elo_leaderboard(pd.DataFrame({"agent_a": ["a"], "agent_b": ["b"], "score_a": [2.0]}), ["a", "b"])
    with pytest.raises(ValueError, match="missing columns"):
        elo_leaderboard(pd.DataFrame({"agent_a": ["a"]}), ["a"])
