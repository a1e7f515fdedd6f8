"""No (user, validation or test item) transition may reach the co-purchase pairs or the item statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from momorec.pipelines.data_engineering.pipeline import create_pipeline
from tests.pipelines.data_engineering.conftest import make_raw_log, run_in_memory

FEATURES = ["item_stats", "copurchase_pairs"]


def _log_with_unique_holdout_items(test_suffix: str = "") -> tuple[list[tuple], set[str], set[str]]:
    """Each user's history draws from a shared pool; the last two items of each user are unique to them."""
    rng = np.random.default_rng(7)
    rows, valid_items, test_items = [], set(), set()
    for user in range(40):
        history = [f"shared{x}" for x in rng.integers(0, 8, size=5)]
        valid, test = f"valid{user}", f"test{user}{test_suffix}"
        valid_items.add(valid)
        test_items.add(test)
        for t, item in enumerate([*history, valid, test]):
            rows.append((f"u{user}", item, 100 + t, 4.0))
    return rows, valid_items, test_items


def _run(rows: list[tuple]) -> dict[str, pd.DataFrame]:
    pipeline = create_pipeline()
    catalog = run_in_memory(pipeline, {"raw_log": make_raw_log(rows)}, {"k_core": 0, "min_support": 1})
    return {name: catalog.load(name) for name in ["items", "interactions", *FEATURES]}


def test_holdout_items_have_zero_frequency_and_appear_in_no_pair():
    rows, valid_items, test_items = _log_with_unique_holdout_items()
    out = _run(rows)
    interactions = out["interactions"]
    # the construction did what it meant: every valid/test row is one of the unique items
    assert set(interactions.loc[interactions["split"] == "valid", "item_id"]) == valid_items
    assert set(interactions.loc[interactions["split"] == "test", "item_id"]) == test_items
    holdout_idx = set(out["items"].loc[out["items"]["item_id"].isin(valid_items | test_items), "item_idx"])
    assert len(holdout_idx) == 80
    stats = out["item_stats"].set_index("item_idx")
    assert (stats.loc[sorted(holdout_idx), "train_frequency"] == 0).all()
    assert (stats.drop(index=sorted(holdout_idx))["train_frequency"] > 0).all()
    pairs = out["copurchase_pairs"]
    assert len(pairs) > 0
    assert not (pairs["item_a"].isin(holdout_idx) | pairs["item_b"].isin(holdout_idx)).any()


def test_changing_only_the_test_items_leaves_pairs_and_stats_unchanged():
    before = _run(_log_with_unique_holdout_items()[0])
    after = _run(_log_with_unique_holdout_items(test_suffix="-other")[0])
    assert not before["interactions"]["item_id"].equals(after["interactions"]["item_id"])

    def by_item_id(out: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
        # item_idx may shift when item ids change, so compare on the original ids
        ids = out["items"].set_index("item_idx")["item_id"]
        stats = out["item_stats"].assign(item_id=lambda f: f["item_idx"].map(ids))
        stats = stats[~stats["item_id"].str.startswith("test")].drop(columns="item_idx")
        pairs = out["copurchase_pairs"].assign(
            a=lambda f: f["item_a"].map(ids), b=lambda f: f["item_b"].map(ids)
        )
        return stats.reset_index(drop=True), pairs[["a", "b", "support"]].reset_index(drop=True)

    for left, right in zip(by_item_id(before), by_item_id(after), strict=True):
        pd.testing.assert_frame_equal(left, right)


def test_full_sequences_would_leak_so_the_check_can_fail():
    """The canary: feeding the pair node all interactions instead of train_interactions exposes holdout items."""
    rows, valid_items, test_items = _log_with_unique_holdout_items()
    out = _run(rows)
    pipeline = create_pipeline().from_nodes("build_copurchase_pairs").to_nodes("build_copurchase_pairs")
    full = out["interactions"][["user_idx", "item_idx", "timestamp", "position"]]
    leaked = run_in_memory(pipeline, {"train_interactions": full}, {"min_support": 1}).load(
        "copurchase_pairs"
    )
    holdout_idx = set(out["items"].loc[out["items"]["item_id"].isin(valid_items | test_items), "item_idx"])
    assert (leaked["item_a"].isin(holdout_idx) | leaked["item_b"].isin(holdout_idx)).any()
