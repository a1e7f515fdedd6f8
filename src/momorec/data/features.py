"""Item features computed from the training prefix only: frequencies, long-tail flags, co-purchase pairs.

The leakage rule of docs/architecture.md applies: these take ``train_interactions`` (or any table of that
schema, which is how the leak-canary run feeds them full sequences on purpose), never the split
``interactions`` table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from momorec.data.validation import DataValidationError


def compute_item_stats(
    train_interactions: pd.DataFrame, items: pd.DataFrame, long_tail_max_interactions: int
) -> pd.DataFrame:
    """Per item: the number of training interactions and whether it is long-tail (at most the threshold).

    Takes the training prefix only; items seen only in validation or test have frequency 0.
    """
    n_items = len(items)
    item_idx = train_interactions["item_idx"].to_numpy()
    if len(item_idx) and (item_idx.min() < 0 or item_idx.max() >= n_items):
        raise DataValidationError(f"train_interactions has item_idx outside 0..{n_items - 1}")
    frequency = np.bincount(item_idx, minlength=n_items).astype(np.int64)
    return pd.DataFrame(
        {
            "item_idx": np.arange(n_items, dtype=np.int32),
            "train_frequency": frequency,
            "is_long_tail": frequency <= int(long_tail_max_interactions),
        }
    )


def build_copurchase_pairs(
    train_interactions: pd.DataFrame, pair_window: int, min_support: int, max_pairs: int | None
) -> pd.DataFrame:
    """Unordered pairs of items bought close together in the training prefix, with their counts.

    Items are paired with each of the next ``pair_window - 1`` items of the same user (window 2 = adjacent
    items); pairs of an item with itself are skipped; every occurrence counts. Pairs with support at least
    ``min_support`` are kept, most frequent first (ties by item_a, then item_b), at most ``max_pairs`` of
    them (null or 0 = no cap).
    """
    pair_window = int(pair_window)
    if pair_window < 2:
        raise ValueError(f"pair_window must be >= 2 (2 = adjacent items), got {pair_window}")
    order = np.lexsort((train_interactions["position"].to_numpy(), train_interactions["user_idx"].to_numpy()))
    users = train_interactions["user_idx"].to_numpy()[order]
    items = train_interactions["item_idx"].to_numpy(dtype=np.int64)[order]
    n_items = int(items.max()) + 1 if len(items) else 1
    keys = []
    for offset in range(1, pair_window):  # loops over the window size, not over data
        first, second = items[:-offset], items[offset:]
        valid = (users[:-offset] == users[offset:]) & (first != second)
        low, high = np.minimum(first[valid], second[valid]), np.maximum(first[valid], second[valid])
        keys.append(low * n_items + high)
    keys = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
    pair_keys, support = np.unique(keys, return_counts=True)
    kept = support >= int(min_support)
    pair_keys, support = pair_keys[kept], support[kept].astype(np.int64)
    item_a, item_b = pair_keys // n_items, pair_keys % n_items
    ranking = np.lexsort((item_b, item_a, -support))
    if max_pairs:
        ranking = ranking[: int(max_pairs)]
    return pd.DataFrame(
        {
            "item_a": item_a[ranking].astype(np.int32),
            "item_b": item_b[ranking].astype(np.int32),
            "support": support[ranking],
        }
    )
