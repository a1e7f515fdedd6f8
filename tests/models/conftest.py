"""Tiny interaction logs with a learnable pattern (the next item is the last one + 1, modulo n_items)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from momorec.data.sequences import UserSequences


def make_interactions(
    n_users: int = 40, n_items: int = 30, min_len: int = 3, max_len: int = 9, seed: int = 0
):
    """``interactions`` with the split column: per user a run of consecutive items, no item repeated."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, size=n_users)
    starts = rng.integers(0, n_items, size=n_users)
    user = np.repeat(np.arange(n_users), lengths)
    position = np.concatenate([np.arange(n) for n in lengths])
    item = (np.repeat(starts, lengths) + position) % n_items
    from_end = np.repeat(lengths, lengths) - 1 - position
    split = np.where(from_end == 0, "test", np.where(from_end == 1, "valid", "train"))
    return pd.DataFrame(
        {
            "user_idx": user.astype(np.int32),
            "item_idx": item.astype(np.int32),
            "position": position,
            "split": split,
        }
    )


def make_item_semantic_ids(n_items: int, n_layers: int = 3, n_codes: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"item_idx": np.arange(n_items)})
    for layer in range(n_layers):
        table[f"code_{layer}"] = rng.integers(0, n_codes, size=n_items)
    table.loc[table.index[:2], "code_0"] = -1  # items without a code get the padding row
    table["dedup"] = table.groupby([f"code_{i}" for i in range(n_layers)]).cumcount()
    return table


@pytest.fixture
def interactions() -> pd.DataFrame:
    return make_interactions()


@pytest.fixture
def sequences(interactions) -> UserSequences:
    return UserSequences.from_interactions(interactions, n_items=30)
