"""The arena's report sections: one leaderboard per judge, judge accuracy with the position-bias figure."""

from __future__ import annotations

import pandas as pd

from momorec.reporting.sections import SECTION_BUILDERS

BOARDS = pd.DataFrame(
    {"judge": ["llm", "llm", "grounding", "grounding"], "mode": ["logprobs", "logprobs", "grounding", "grounding"],
     "agent": ["x", "y", "y", "x"], "rating": [1001.0, 999.0, 1040.0, 960.0], "ci_low": [900.0, 898, 950, 870],
     "ci_high": [1100.0, 1100, 1130, 1050], "wins": [1, 0, 3, 1], "losses": [0, 1, 1, 3], "ties": [7, 7, 4, 4]}
)  # fmt: skip
ACCURACY = {
    "mode": "grounding",
    "position_bias": {"share_a_order1": 1.0, "share_a_order2": 1.0, "mean_p_a_order1": 0.48, "mean_p_a_order2": 0.47,
                      "verdicts_order1": 8, "verdicts_order2": 8},
    "judges": {
        "llm": {"comparisons": 8, "tie_share": 0.75, "oracle_decided": 6, "agreement": 0.58,
                "agreement_ci": [0.42, 0.75], "kendall_tau": 0.33},
        "grounding": {"comparisons": 8, "tie_share": 0.0, "oracle_decided": 6, "agreement": 0.83,
                      "agreement_ci": [0.5, 1.0], "kendall_tau": 1.0},
    },
    "oracle_top_agent": "y",
}  # fmt: skip


def test_one_leaderboard_per_judge_with_its_mode():
    [section] = SECTION_BUILDERS["arena_leaderboards"]("Judges", BOARDS)
    assert [name for name, _ in section.tables] == [
        "Judge `llm` (mode: logprobs)",
        "Judge `grounding` (mode: grounding)",
    ]
    assert section.tables[1][1]["agent"].tolist() == ["y", "x"] and "ci_low" in section.tables[1][1]
    assert "Bradley–Terry" in section.text


def test_judge_accuracy_table_and_position_bias_figure():
    [section] = SECTION_BUILDERS["judge_accuracy"]("Accuracy", ACCURACY)
    agreement = section.tables[0][1].set_index("judge")
    assert agreement.loc["grounding", "agreement"] == 0.83 and agreement.loc["llm", "ci_low"] == 0.42
    assert set(section.figures) == {"judge_position_bias"}
    assert "`grounding` judge" in section.text and "`y`" in section.text


def test_no_position_bias_figure_when_the_llm_judge_was_not_asked():
    bias = {"share_a_order1": None, "share_a_order2": None, "mean_p_a_order1": None, "mean_p_a_order2": None,
            "verdicts_order1": 0, "verdicts_order2": 0}  # fmt: skip
    grounding_only = {
        **ACCURACY,
        "position_bias": bias,
        "judges": {"grounding": ACCURACY["judges"]["grounding"]},
    }
    [section] = SECTION_BUILDERS["judge_accuracy"]("Accuracy", grounding_only)
    assert section.figures == {} and [name for name, _ in section.tables] == ["Judge–oracle agreement"]


def test_odd_values_fall_back_to_a_plain_table():
    [plain] = SECTION_BUILDERS["arena_leaderboards"]("Judges", pd.DataFrame({"agent": ["x"]}))
    assert plain.figures == {} and plain.tables[0][1].columns.tolist() == ["agent"]
    [accuracy] = SECTION_BUILDERS["judge_accuracy"]("Accuracy", {"mode": "llm"})
    assert accuracy.figures == {}
