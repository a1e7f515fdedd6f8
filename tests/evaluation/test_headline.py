"""The headline table and the paired difference over seeds, on hand-made per-seed numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from momorec.evaluation.headline import (
    HEADLINE_COLUMNS,
    best_validation_ndcg,
    choose_by_validation,
    headline_table,
    paired_difference,
    paired_differences,
)
from momorec.evaluation.results import per_seed_results, summarise_results

SEEDS = (0, 1, 2)


def _outcome(
    variant: str, recall: list[float], *, is_canary: bool = False, shift_unmasked: float = -0.1
) -> dict:
    """A variant outcome as train_and_evaluate_variant returns it: Recall@10 per seed, NDCG@10 half of it,
    the unmasked numbers ``shift_unmasked`` below the masked ones, and a long-tail segment row."""
    rows = []
    for seed, value in zip(SEEDS, recall, strict=True):
        for masked, shift in ((True, 0.0), (False, shift_unmasked)):
            for metric, scale in (("recall", 1.0), ("ndcg", 0.5)):
                for segment in ("all", "long_tail_target"):
                    rows.append(
                        {
                            "seed": seed,
                            "segment": segment,
                            "metric": metric,
                            "k": 10,
                            "value": (value + shift) * scale + (0.0 if segment == "all" else 0.5),
                            "history_masked": masked,
                            "n_users": 100,
                        }
                    )
    return {
        "variant": variant,
        "is_canary": is_canary,
        "rows": rows,
        "parameters": 10,
        "inference_seconds_per_1000_users": 0.1,
        "train_seconds_per_epoch": 0.1,
    }


@pytest.fixture
def results() -> pd.DataFrame:
    table, _ = summarise_results(
        _outcome("sasrec", [0.30, 0.32, 0.34]),
        _outcome("momorec_adaptor", [0.31, 0.34, 0.37]),
        _outcome("leak_canary", [0.90, 0.90, 0.90], is_canary=True),
        _outcome("momorec_oracle", [0.50, 0.50, 0.50]),
    )
    return table


def _validation(scores: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"variant": v, "seed": s, "valid_ndcg_at_10": x}
            for v, xs in scores.items()
            for s, x in zip(SEEDS, xs, strict=True)
        ]
    )


def test_headline_has_one_row_per_variant_with_mean_and_std_over_seeds(results):
    table = headline_table(results, commit="abc123", command="kedro run", registered_variant="sasrec")
    assert list(table.columns) == HEADLINE_COLUMNS
    assert list(table["variant"]) == ["sasrec", "momorec_adaptor", "leak_canary", "momorec_oracle"]
    row = table.set_index("variant").loc["momorec_adaptor"]
    assert row["recall_at_10_masked_mean"] == pytest.approx(0.34)
    assert row["recall_at_10_masked_std"] == pytest.approx(0.03)
    assert row["ndcg_at_10_masked_mean"] == pytest.approx(0.17)
    assert row["recall_at_10_unmasked_mean"] == pytest.approx(0.24)  # the whole user set, not long-tail
    assert row["ndcg_at_10_unmasked_std"] == pytest.approx(0.015)
    assert row["n_seeds"] == 3
    assert (table["commit"] == "abc123").all() and (table["command"] == "kedro run").all()
    assert not table["tuned"].any()
    assert math.isnan(row["valid_ndcg_at_10_mean"])  # no validation scores given


def test_registered_variant_is_the_one_chosen_and_canary_oracle_are_evaluation_only(results):
    table = headline_table(results, commit="c", command="x", registered_variant="momorec_adaptor")
    assert list(table.loc[table["chosen_by_validation"], "variant"]) == ["momorec_adaptor"]
    flagged = table.set_index("variant")["evaluation_only"]
    assert flagged.to_dict() == {
        "sasrec": False,
        "momorec_adaptor": False,
        "leak_canary": True,
        "momorec_oracle": True,
    }


def test_without_registered_variant_the_best_validation_mean_is_chosen_never_canary_or_oracle(results):
    # test Recall favours momorec_adaptor (0.34 vs 0.32) and the canary and oracle score highest on
    # validation; the choice is sasrec, the best validation mean among the others
    validation = _validation(
        {
            "sasrec": [0.20, 0.21, 0.22],
            "momorec_adaptor": [0.19, 0.20, 0.21],
            "leak_canary": [0.90, 0.90, 0.90],
            "momorec_oracle": [0.80, 0.80, 0.80],
        }
    )
    table = headline_table(results, commit="c", command="x", validation=validation)
    assert table.loc[table["chosen_by_validation"], "variant"].tolist() == ["sasrec"]
    means = table.set_index("variant")["valid_ndcg_at_10_mean"]
    assert means["momorec_oracle"] == pytest.approx(0.80)
    assert means["momorec_adaptor"] == pytest.approx(0.20)


def test_tuned_variants_are_marked(results):
    table = headline_table(
        results, commit="c", command="x", registered_variant="sasrec", tuned_variants={"sasrec"}
    )
    assert table.set_index("variant")["tuned"].to_dict()["sasrec"]
    assert table["tuned"].sum() == 1


@pytest.mark.parametrize("registered", ["leak_canary", "momorec_oracle"])
def test_a_registered_canary_or_oracle_is_an_error(results, registered):
    with pytest.raises(ValueError, match="can never be chosen"):
        headline_table(results, commit="c", command="x", registered_variant=registered)


def test_bad_inputs_are_errors(results):
    with pytest.raises(ValueError, match="not in the results table"):
        headline_table(results, commit="c", command="x", registered_variant="gru4rec")
    with pytest.raises(ValueError, match="nothing says which is chosen"):
        headline_table(results, commit="c", command="x")
    with pytest.raises(ValueError, match="lacks columns"):
        headline_table(
            results.drop(columns="history_masked"), commit="c", command="x", registered_variant="sasrec"
        )
    unmasked_gone = results[~(results["history_masked"] == False) | (results["variant"] != "sasrec")]  # noqa: E712
    with pytest.raises(ValueError, match="recall@10 unmasked"):
        headline_table(unmasked_gone, commit="c", command="x", registered_variant="momorec_adaptor")
    with pytest.raises(ValueError, match="empty"):
        headline_table(results.iloc[0:0], commit="c", command="x", registered_variant="sasrec")


def test_choose_by_validation_refuses_when_only_excluded_variants_have_scores():
    validation = _validation({"leak_canary": [0.9, 0.9, 0.9], "momorec_oracle": [0.8, 0.8, 0.8]})
    with pytest.raises(ValueError, match="not canary, not oracle"):
        choose_by_validation(validation)


def test_best_validation_ndcg_takes_each_curves_best_epoch_and_ignores_other_curves():
    curves = {
        "recommender_curve.sasrec.seed_0.valid_ndcg_at_10": [0.10, 0.25, 0.20],
        "sasrec.seed_1.valid_ndcg_at_10": [0.30],
        "sasrec_text_init.seed_0.valid_ndcg_at_10": [0.05, 0.15],
        "recommender_curve.sasrec.seed_0.loss": [9.0, 8.0],
        "recommender_curve.sasrec.seed_0.valid_recall_at_10": [0.9],
    }
    table = best_validation_ndcg(curves).sort_values(["variant", "seed"]).reset_index(drop=True)
    assert table.to_dict("records") == [
        {"variant": "sasrec", "seed": 0, "valid_ndcg_at_10": 0.25},
        {"variant": "sasrec", "seed": 1, "valid_ndcg_at_10": 0.30},
        {"variant": "sasrec_text_init", "seed": 0, "valid_ndcg_at_10": 0.15},
    ]
    with pytest.raises(ValueError, match="non-finite"):
        best_validation_ndcg({"sasrec.seed_0.valid_ndcg_at_10": [0.1, float("nan")]})
    with pytest.raises(ValueError, match="empty"):
        best_validation_ndcg({"sasrec.seed_0.valid_ndcg_at_10": []})


def _per_seed(values: dict[str, dict[int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"variant": v, "seed": s, "value": x} for v, xs in values.items() for s, x in xs.items()]
    )


def test_paired_difference_pairs_by_seed_and_gives_a_t_interval():
    # differences 0.01, 0.02, 0.03 (rows deliberately in different seed orders): mean 0.02, sample std 0.01
    per_seed = _per_seed({"a": {2: 0.33, 0: 0.31, 1: 0.32}, "b": {0: 0.30, 1: 0.30, 2: 0.30}})
    difference = paired_difference(per_seed, "a", "b")
    t_975_two_dof = 4.302652729911275  # Student's t table, 2 degrees of freedom, two-sided 95 %
    half_width = t_975_two_dof * 0.01 / np.sqrt(3)
    assert difference.mean_difference == pytest.approx(0.02)
    assert difference.std_difference == pytest.approx(0.01)
    assert difference.ci_low == pytest.approx(0.02 - half_width)
    assert difference.ci_high == pytest.approx(0.02 + half_width)
    assert (difference.n_seeds, difference.seeds, difference.confidence) == (3, (0, 1, 2), 0.95)
    reverse = paired_difference(per_seed, "b", "a")
    assert reverse.mean_difference == pytest.approx(-0.02)
    assert reverse.ci_high == pytest.approx(-difference.ci_low)


def test_paired_difference_interval_widens_with_confidence_and_is_a_point_when_differences_agree():
    per_seed = _per_seed({"a": {0: 0.31, 1: 0.34}, "b": {0: 0.30, 1: 0.30}})
    narrow = paired_difference(per_seed, "a", "b", confidence=0.8)
    wide = paired_difference(per_seed, "a", "b", confidence=0.99)
    assert wide.ci_low < narrow.ci_low < narrow.ci_high < wide.ci_high
    constant = paired_difference(_per_seed({"a": {0: 0.4, 1: 0.5}, "b": {0: 0.3, 1: 0.4}}), "a", "b")
    assert constant.ci_low == pytest.approx(0.1) and constant.ci_high == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ({"a": {0: 0.3, 1: 0.3}, "b": {0: 0.2, 2: 0.2}}, {}, "seeds differ"),
        ({"a": {0: 0.3}, "b": {0: 0.2}}, {}, "at least 2 seeds"),
        ({"a": {0: 0.3, 1: 0.3}}, {}, "no per-seed rows"),
        ({"a": {0: 0.3, 1: float("nan")}, "b": {0: 0.2, 1: 0.2}}, {}, "non-finite"),
        ({"a": {0: 0.3, 1: 0.3}, "b": {0: 0.2, 1: 0.2}}, {"confidence": 1.0}, "confidence"),
    ],
)
def test_paired_difference_refuses_bad_input(values, kwargs, message):
    with pytest.raises(ValueError, match=message):
        paired_difference(_per_seed(values), "a", "b", **kwargs)


def test_paired_difference_refuses_a_seed_twice_a_variant_with_itself_and_missing_columns():
    twice = pd.concat([_per_seed({"a": {0: 0.3, 1: 0.3}, "b": {0: 0.2, 1: 0.2}}), _per_seed({"a": {1: 0.4}})])
    with pytest.raises(ValueError, match="seed twice"):
        paired_difference(twice, "a", "b")
    with pytest.raises(ValueError, match="itself"):
        paired_difference(twice, "a", "a")
    with pytest.raises(ValueError, match="lacks columns"):
        paired_difference(twice.rename(columns={"value": "recall"}), "a", "b")


def test_paired_differences_from_the_per_seed_results_table():
    per_seed = per_seed_results(
        _outcome("momorec_adaptor", [0.31, 0.34, 0.37], shift_unmasked=-0.2),
        _outcome("sasrec_adaptor_text", [0.30, 0.32, 0.34]),
    )
    table = paired_differences(per_seed, [("momorec_adaptor", "sasrec_adaptor_text")])
    assert len(table) == 4  # Recall@10 and NDCG@10, masked and unmasked
    rows = table.set_index(["metric", "history_masked"])
    # per seed: masked Recall differences 0.01, 0.02, 0.03; unmasked 0.1 lower each; NDCG half of Recall
    assert rows.loc[("recall", True), "mean_difference"] == pytest.approx(0.02)
    assert rows.loc[("recall", False), "mean_difference"] == pytest.approx(-0.08)
    assert rows.loc[("ndcg", True), "mean_difference"] == pytest.approx(0.01)
    assert rows.loc[("ndcg", True), "std_difference"] == pytest.approx(0.005)
    assert (table["n_seeds"] == 3).all() and (table["ci_low"] < table["mean_difference"]).all()
    with pytest.raises(ValueError, match="no per-seed rows"):
        paired_differences(per_seed, [("momorec_adaptor", "sasrec")])
    with pytest.raises(ValueError, match="no pair"):
        paired_differences(per_seed, [])
    with pytest.raises(ValueError, match="lacks columns"):
        paired_differences(per_seed.drop(columns="segment"), [("momorec_adaptor", "sasrec_adaptor_text")])
