"""The k-core filter: users and items with at least k interactions each."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from momorec.data.validation import DataValidationError

logger = logging.getLogger(__name__)


def filter_k_core(validated_interactions: pd.DataFrame, k_core: int) -> pd.DataFrame:
    """Iteratively keep users and items with at least ``k_core`` interactions each (0 or 1 = no filter).

    Removing a user can push an item below ``k_core`` and the other way round, so the filter repeats until
    nothing changes. Interactions are counted as rows (a repeat purchase counts twice). Row order is kept.

    Raises:
        DataValidationError: no interaction survives.
    """
    k_core = int(k_core or 0)
    if k_core < 0:
        raise ValueError(f"k_core must be >= 0, got {k_core}")
    if k_core <= 1:
        return validated_interactions.reset_index(drop=True)
    users, _ = pd.factorize(validated_interactions["user_id"])
    items, _ = pd.factorize(validated_interactions["item_id"])
    keep = np.ones(len(users), dtype=bool)
    rounds = 0
    while True:
        rounds += 1
        user_counts = np.bincount(users[keep], minlength=users.max() + 1)
        item_counts = np.bincount(items[keep], minlength=items.max() + 1)
        still = keep & (user_counts[users] >= k_core) & (item_counts[items] >= k_core)
        if still.sum() == keep.sum():
            break
        keep = still
    logger.info(
        "k-core k=%d: %d of %d interactions kept after %d rounds", k_core, keep.sum(), len(keep), rounds
    )
    if not keep.any():
        raise DataValidationError(
            f"the {k_core}-core of the log is empty ({len(keep)} interactions before); lower data_engineering.k_core"
        )
    return validated_interactions[keep].reset_index(drop=True)
