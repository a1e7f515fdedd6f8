"""Results table (mean ± sample std over seeds, per segment) and LLM cost per 1,000 users."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from momorec.alignment.evaluation import cost_row, results_table, segment_masks

USERS = pd.DataFrame({"user_idx": [0, 1, 2, 3], "n_train_items": [1, 2, 5, 9]})


def test_results_per_segment_and_seed():
    ranks = pd.DataFrame(
        {"user_idx": [0, 1, 2, 3] * 2, "seed": [0] * 4 + [1] * 4, "rank": [0, 30, 0, 1, 30, 30, 0, 0]}
    )
    table = results_table({"base": ranks}, USERS, {}, ks=(10,), rated_users=[0])
    recall = table[table["metric"] == "recall"].set_index("segment")
    assert recall.loc["all", "mean"] == pytest.approx((0.75 + 0.5) / 2)
    assert recall.loc["all", "std"] == pytest.approx(np.std([0.75, 0.5], ddof=1))
    assert recall.loc["cold_start_users", "mean"] == pytest.approx((0.5 + 0.0) / 2)
    assert recall.loc["warm_users", "mean"] == pytest.approx(1.0)
    assert recall.loc["llm_rated_users", "n_users"] == 1
    assert (table["n_seeds"] == 2).all() and table["fusion_weight"].isna().all()
    assert list(table.columns) == ["variant", "segment", "metric", "k", "mean", "std", "n_seeds", "n_users",
                                   "fusion_weight"]  # fmt: skip


def test_empty_segment_is_nan_not_zero():
    masks = segment_masks(USERS.assign(n_train_items=5), np.array([0, 1]), cold_start_below=3)
    assert masks["cold_start_users"].sum() == 0
    ranks = pd.DataFrame({"user_idx": [0, 1], "seed": [0, 0], "rank": [0, 1]})
    table = results_table({"base": ranks}, USERS.assign(n_train_items=5), {}, ks=(10,))
    assert table.query("segment == 'cold_start_users'")["mean"].isna().all()


def test_unknown_users_are_an_error():
    with pytest.raises(ValueError, match="missing from alignment_users"):
        segment_masks(USERS, np.array([7]))


def test_cost_per_1000_users():
    usage = {"requests": 10, "calls": 4, "cache_hits": 6, "failures": 1, "prompt_tokens": 40,
             "completion_tokens": 8, "latencies_s": [0.5, 0.5, 1.0]}  # fmt: skip
    row = cost_row("profiles", usage, users=20, wall_seconds=3.0, prompt_tokens=100, completion_tokens=20)
    assert row["requests_per_1000_users"] == pytest.approx(500.0)
    assert row["tokens_per_1000_users"] == pytest.approx(6000.0)
    assert row["llm_seconds"] == pytest.approx(2.0) and row["wall_seconds_per_1000_users"] == pytest.approx(
        150.0
    )


def test_the_cost_in_usd_is_the_runs_and_unknown_stays_unknown_in_the_total():
    from momorec.alignment.evaluation import cost_table

    priced = {"requests": 2, "calls": 2, "cost_usd": 0.25, "latencies_s": [0.1]}
    unpriced = {"requests": 1, "calls": 1, "cost_usd": None, "latencies_s": [0.1]}
    table = cost_table({"profiles": priced, "traits": priced}, n_users=4).set_index("stage")
    assert table.loc["total", "cost_usd"] == pytest.approx(0.5)
    with_unknown = cost_table({"profiles": priced, "traits": unpriced}, n_users=4).set_index("stage")
    assert np.isnan(with_unknown.loc["traits", "cost_usd"]) and np.isnan(
        with_unknown.loc["total", "cost_usd"]
    )
