"""The grounding judge and the judge-vs-oracle evaluation on hand-made embeddings and tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from momorec.agents.grounding_judge import (
    GroundingSettings,
    grounding_preference,
    grounding_scores,
    naming_share,
)
from momorec.agents.judge_accuracy import (
    agreement_values,
    bootstrap_interval,
    judge_agreement,
    oracle_comparisons,
    oracle_scores,
    position_bias,
)


def _unit(*rows: list[float]) -> np.ndarray:
    matrix = np.array(rows, dtype=np.float64)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _answers(motivations: list[str]) -> pd.DataFrame:
    n = len(motivations)
    return pd.DataFrame({"item_a": [0] * n, "item_b": [1] * n, "agent": [f"g{i}" for i in range(n)],
                         "motivation": motivations})  # fmt: skip


def test_naming_share_counts_words_copied_from_titles():
    assert naming_share("grill tongs and kettle grill", ["Kettle grill 57 cm", "Grill tongs"]) == 1.0
    assert naming_share("hosting a garden barbecue", ["Kettle grill", "Grill tongs"]) == 0.0
    assert naming_share("a the", ["x"]) == 0.0  # no content words
    assert naming_share("grilling for a barbecue party", ["Grill tongs"]) == 0.0  # whole words only


def test_grounding_takes_the_weaker_item_and_applies_penalties():
    answers = _answers(["barbecue party", "kettle grill", "barbecue party", "convenience"])
    # Motivation 0 fits both items; 1 only item a (and copies its title); 2 = 0 but generic-flag free; 3 generic.
    motivations = _unit([1, 1, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0])
    item_a, item_b = _unit(*[[1, 0.2, 0]] * 4), _unit(*[[0.2, 1, 0]] * 4)
    titles = pd.DataFrame({"title_a": ["Kettle grill"] * 4, "title_b": ["Tongs"] * 4})
    settings = GroundingSettings(generic_penalty=0.2, naming_penalty=0.3)
    table = grounding_scores(answers, motivations, item_a, item_b, titles, ["convenience"], settings)
    weaker = np.minimum(table["similarity_a"], table["similarity_b"])
    assert table["grounding"].iloc[0] == pytest.approx(weaker.iloc[0])
    assert table["naming_share"].iloc[1] == 1.0
    assert table["grounding"].iloc[1] == pytest.approx(weaker.iloc[1] - 0.3)
    assert table["generic"].tolist() == [False, False, False, True]
    assert table["grounding"].iloc[3] == pytest.approx(weaker.iloc[3] - 0.2)
    assert table["grounding"].iloc[0] > table["grounding"].iloc[1]
    with pytest.raises(ValueError, match="same number of rows"):
        grounding_scores(answers, motivations[:2], item_a, item_b, titles, [], settings)


def test_grounding_preference_and_ties():
    preference, score = grounding_preference(
        np.array([0.0, 0.005, 0.05, -0.05]), GroundingSettings(tie_margin=0.01)
    )
    assert score.tolist() == [0.5, 0.5, 1.0, 0.0]
    assert preference[0] == 0.5 and preference[2] > 0.5 > preference[3]
    with pytest.raises(ValueError, match="temperature"):
        GroundingSettings.from_params({"temperature": 0})


def test_oracle_scores_use_each_items_true_motivations_and_the_weaker_item():
    answers = pd.DataFrame(
        {"item_a": [0, 0, 2], "item_b": [1, 1, 3], "agent": ["x", "y", "x"], "motivation": "m"}
    )
    truth = pd.DataFrame({"item_idx": [0, 1, 1], "motivation": ["bbq", "bbq", "coffee"]})
    truth_embeddings = _unit([1, 0], [1, 0], [0, 1])
    oracle = oracle_scores(answers, _unit([1, 0], [1, 1], [1, 0]), truth, truth_embeddings)
    assert oracle["oracle"].iloc[0] == pytest.approx(1.0)
    assert oracle["oracle"].iloc[1] == pytest.approx(np.sqrt(0.5))
    assert np.isnan(oracle["oracle"].iloc[2])  # items without ground truth


def _comparisons(judge: str, scores: list[float], modes: list[str] | None = None) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame({"judge": judge, "rank": range(n), "item_a": 0, "item_b": 1, "agent_a": "x",
                         "agent_b": "y", "preference_a": scores, "score_a": scores,
                         "mode": modes or ["grounding"] * n})  # fmt: skip


def test_agreement_counts_ties_as_half_and_skips_what_the_oracle_does_not_decide():
    assert agreement_values(np.array([1.0, 0.5, 0.0, 1.0, np.nan]), np.array([1.0, 1.0, 1.0, 0.5, 0.0])).tolist() == [
        1.0, 0.5, 0.0, 0.5,
    ]  # fmt: skip
    low, high = bootstrap_interval(np.array([1.0, 1.0, 0.0, 1.0]), n_boot=500)
    assert 0 <= low <= 0.75 <= high <= 1
    assert bootstrap_interval(np.array([])) == (None, None)


def test_judge_agreement_against_the_oracle():
    answers = pd.DataFrame({"item_a": 0, "item_b": 1, "agent": ["x", "y"], "oracle": [0.9, 0.2]})
    llm = _comparisons("llm", [0.5, 0.5, 1.0], ["logprobs", "logprobs", "walkover"])
    leaning = _comparisons("leaning", [0.5, 0.5, 1.0], ["logprobs", "logprobs", "walkover"])
    leaning["preference_a"] = [0.51, 0.49, 1.0]
    grounding = _comparisons("grounding", [1.0, 1.0, 1.0], ["grounding", "grounding", "walkover"])
    oracle = oracle_comparisons(llm, answers, margin=0.01)
    assert oracle["score_a"].tolist()[:2] == [1.0, 1.0] and np.isnan(oracle["score_a"].iloc[2])
    boards = pd.DataFrame({"judge": ["llm", "llm", "grounding", "grounding"], "agent": ["x", "y", "x", "y"],
                           "rating": [1000, 1000, 1100, 900]})  # fmt: skip
    oracle_board = pd.DataFrame({"agent": ["x", "y"], "rating": [1050, 950]})
    report = judge_agreement(
        pd.concat([llm, grounding, leaning]), oracle, boards, oracle_board, ["llm", "grounding", "leaning"]
    )
    assert (
        report["leaning"]["agreement"] == 0.5 and report["leaning"]["agreement_by_sign"] == 0.5
    )  # 1 right, 1 wrong
    assert report["llm"]["agreement"] == 0.5 and report["llm"]["tie_share"] == 1.0
    assert report["llm"]["agreement_by_sign"] == 0.5  # preferences of exactly 0.5 lean nowhere
    assert report["grounding"]["agreement"] == 1.0 and report["grounding"]["agreement_ci"] == [1.0, 1.0]
    assert report["grounding"]["oracle_decided"] == 2 and report["grounding"]["kendall_tau"] == 1.0
    assert report["llm"]["kendall_tau"] is None  # constant ratings: undefined, not invented


def test_position_bias_shares_per_order():
    judgments = pd.DataFrame({"verdict_a_shown_first": ["A", "A", "B", None], "verdict_a_shown_second": ["A", "A", "A", "A"],
                              "p_a_order1": [0.5, 0.4, np.nan, np.nan], "p_a_order2": [np.nan] * 4})  # fmt: skip
    bias = position_bias(judgments)
    assert bias["share_a_order1"] == 0.6667 and bias["share_a_order2"] == 1.0
    assert bias["mean_p_a_order1"] == 0.45 and bias["mean_p_a_order2"] is None


def test_judges_to_run_skip_the_llm_judge_only_in_grounding_mode_unless_asked():
    from momorec.agents.arena import judges_to_run

    assert judges_to_run("grounding", also_ask_llm=False) == ("grounding",)
    assert judges_to_run("grounding", also_ask_llm=True) == ("llm", "grounding", "combined")
    assert judges_to_run("llm", also_ask_llm=False) == ("llm", "grounding", "combined")
    assert judges_to_run("combined", also_ask_llm=False) == ("llm", "grounding", "combined")
    with pytest.raises(ValueError, match="motivation.judge.mode"):
        judges_to_run("best", also_ask_llm=False)


def test_judge_comparisons_stack_only_the_judges_asked_for():
    from momorec.agents.arena import JUDGMENT_COLUMNS, judge_comparisons

    judgments = pd.DataFrame(
        [[0, 0, 1, "g0", "g1", None, None, np.nan, None, np.nan, np.nan, np.nan, np.nan, np.nan, None]],
        columns=JUDGMENT_COLUMNS,
    )
    grounding = pd.DataFrame(
        {"item_a": [0, 0], "item_b": [1, 1], "agent": ["g0", "g1"], "grounding": [0.6, 0.2]}
    )
    settings = GroundingSettings()
    only = judge_comparisons(judgments, grounding, settings, 0.5, 0.02, judges=("grounding",))
    assert only["judge"].tolist() == ["grounding"] and only["score_a"].tolist() == [1.0]
    every = judge_comparisons(judgments, grounding, settings, 0.5, 0.02)
    assert every["judge"].tolist() == ["llm", "grounding", "combined"]
    with pytest.raises(ValueError, match="subset"):
        judge_comparisons(judgments, grounding, settings, 0.5, 0.02, judges=("oracle",))
