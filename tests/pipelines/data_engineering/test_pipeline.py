"""The data_engineering pipeline run on an in-memory catalog with SequentialRunner."""

from __future__ import annotations

import numpy as np
import pandas as pd

from momorec.pipelines.data_engineering.pipeline import create_pipeline
from tests.pipelines.data_engineering.conftest import make_raw_log, run_in_memory


def _shop_log(n_users: int = 30, n_items: int = 12, length: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = [
        (f"user{u}", f"item{rng.integers(n_items)}", int(t), float(rng.integers(1, 6)))
        for u in range(n_users)
        for t in np.sort(rng.integers(0, 1000, size=length))
    ]
    return make_raw_log(rows)


def test_full_pipeline_in_memory_produces_every_contract_dataset():
    pipeline = create_pipeline()
    catalog = run_in_memory(pipeline, {"raw_log": _shop_log()}, {"k_core": 2})
    interactions = catalog.load("interactions")
    assert list(interactions.columns) == [
        "user_idx",
        "item_idx",
        "user_id",
        "item_id",
        "timestamp",
        "rating",
        "position",
        "split",
    ]
    items, users = catalog.load("items"), catalog.load("users")
    assert items["item_idx"].tolist() == list(range(len(items)))
    assert users["n_interactions"].sum() == len(interactions)
    assert set(interactions["split"]) == {"train", "valid", "test"}
    # per user: positions 0..n-1 and timestamps non-decreasing
    per_user = interactions.groupby("user_idx")
    assert (per_user["position"].max() + 1 == per_user.size()).all()
    assert (per_user["timestamp"].diff().dropna() >= 0).all()
    train = catalog.load("train_interactions")
    assert len(train) == (interactions["split"] == "train").sum()
    stats = catalog.load("item_stats")
    assert stats["train_frequency"].sum() == len(train)
    statistics = catalog.load("dataset_statistics")
    assert statistics["interactions"] == len(interactions) and statistics["k_core"] == 2
    metrics = catalog.load("dataset_statistics_metrics")
    assert metrics["users"]["value"] == len(users)
    report = catalog.load("validation_report")
    assert report["interactions"]["rows_in"] == 30 * 6


def test_slice_from_train_interactions_to_pairs():
    """A slice (.from_nodes/.to_nodes) runs on a hand-made training prefix alone."""
    pipeline = create_pipeline().from_nodes("build_copurchase_pairs").to_nodes("build_copurchase_pairs")
    train = pd.DataFrame(
        {
            "user_idx": [0, 0, 0, 1, 1],
            "item_idx": [2, 1, 2, 1, 2],
            "timestamp": 0,
            "position": [0, 1, 2, 0, 1],
        }
    )
    catalog = run_in_memory(pipeline, {"train_interactions": train}, {"min_support": 1})
    assert catalog.load("copurchase_pairs").values.tolist() == [[1, 2, 3]]
