"""Simulated cold-start users: evaluated users keep only their most recent training items.

A k-core filter with k >= 5 leaves every user at least 3 training items, so the cold-start segment (fewer
than ``cold_start_below`` training items) is empty on such data. Truncating the evaluated users' training
prefixes to their last ``keep_last`` items turns them into cold-start users the way a new customer looks:
the dropped purchases are gone from the base model's training data, from its input history and from the
profile prompt alike. Validation and test rows are never touched, so the targets stay the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

REQUIRED = ("user_idx", "position", "split")


def truncate_training_prefixes(
    interactions: pd.DataFrame, user_idx: Sequence[int], keep_last: int
) -> pd.DataFrame:
    """``interactions`` where each listed user keeps only the last ``keep_last`` training rows.

    Positions are renumbered 0..n-1 per truncated user (training rows first, then validation and test, in
    their old order), so the result is again a valid sequence table; other users' rows are unchanged.
    """
    missing = [column for column in REQUIRED if column not in interactions.columns]
    if missing:
        raise ValueError(f"interactions: missing column(s) {missing}")
    if keep_last < 1:
        raise ValueError(f"keep_last must be >= 1, got {keep_last}")
    chosen = interactions["user_idx"].isin(np.asarray(user_idx, dtype=np.int64))
    train = interactions["split"].astype(str) == "train"
    ordered = interactions.sort_values(["user_idx", "position"], kind="stable")
    from_end = ordered[train.loc[ordered.index]].groupby("user_idx").cumcount(ascending=False)
    dropped = from_end.index[(from_end >= keep_last).to_numpy() & chosen.loc[from_end.index].to_numpy()]
    kept = ordered.drop(index=dropped)
    renumbered = kept.groupby("user_idx").cumcount().astype(kept["position"].dtype)
    kept = kept.assign(position=kept["position"].where(~chosen.loc[kept.index], renumbered))
    return kept.sort_index()
