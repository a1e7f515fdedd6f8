"""User segments for the results table: target item long-tail vs head, cold-start users vs others."""

from __future__ import annotations

import numpy as np
import pandas as pd


def long_tail_flags(item_stats: pd.DataFrame, n_items: int) -> np.ndarray:
    """Bool per item_idx from ``item_stats.is_long_tail``; the table must cover every item exactly once.

    A table that misses items is stale or belongs to another data set: labelling those items would be
    guesswork, so it is an error.
    """
    missing = {"item_idx", "is_long_tail"} - set(item_stats.columns)
    if missing:
        raise ValueError(f"item_stats: missing column(s) {sorted(missing)}")
    flags = np.zeros(n_items, dtype=bool)
    idx = item_stats["item_idx"].to_numpy().astype(np.int64)
    if len(idx) != n_items or not np.array_equal(np.sort(idx), np.arange(n_items)):
        raise ValueError(f"item_stats must list every item_idx 0..{n_items - 1} once; got {len(idx)} rows")
    flags[idx] = item_stats["is_long_tail"].to_numpy().astype(bool)
    return flags


def user_segments(
    targets: np.ndarray, train_lengths: np.ndarray, item_is_long_tail: np.ndarray, cold_start_below: int = 3
) -> dict[str, np.ndarray]:
    """Bool masks over evaluated users: all, long_tail_target / head_target, cold_start / warm users.

    Cold-start users have fewer than ``cold_start_below`` training interactions.
    """
    long_tail = item_is_long_tail[targets]
    cold = train_lengths < cold_start_below
    return {
        "all": np.ones(len(targets), dtype=bool),
        "long_tail_target": long_tail,
        "head_target": ~long_tail,
        "cold_start_users": cold,
        "warm_users": ~cold,
    }
