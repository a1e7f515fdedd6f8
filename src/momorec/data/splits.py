"""Slices of the split interaction log that several stages read (the training prefix)."""

from __future__ import annotations

import pandas as pd


def select_train_interactions(interactions: pd.DataFrame) -> pd.DataFrame:
    """The training prefix: rows with split == train, ordered by user and position."""
    train = interactions.loc[
        interactions["split"] == "train", ["user_idx", "item_idx", "timestamp", "position"]
    ]
    return train.sort_values(["user_idx", "position"], kind="stable").reset_index(drop=True)
