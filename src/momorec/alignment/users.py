"""Which users the alignment pipeline evaluates, and what is known about each (segment, LLM budget)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.problems import require_columns

USER_COLUMNS = ["user_idx", "n_train_items", "is_cold_start", "llm_rated"]


def sample_users(interactions: pd.DataFrame, users_params: Mapping[str, Any]) -> tuple[np.ndarray, int]:
    """A seeded uniform sample of ``max_users`` users with a validation and a test target, and how many were
    eligible. Only which users *have* held-out rows is read, not which items they are."""
    require_columns(interactions, ["user_idx", "item_idx", "position", "split"], "interactions")
    split = interactions["split"].astype(str)
    eligible = np.intersect1d(
        interactions.loc[split == "valid", "user_idx"].to_numpy().astype(np.int64),
        interactions.loc[split == "test", "user_idx"].to_numpy().astype(np.int64),
    )  # sorted, unique
    rng = np.random.default_rng(int(users_params["seed"]))
    order = rng.permutation(len(eligible))
    max_users = users_params.get("max_users")
    return eligible[order[: len(order) if max_users is None else int(max_users)]], len(eligible)


def users_table(
    chosen: np.ndarray, train_interactions: pd.DataFrame, params: Mapping[str, Any]
) -> pd.DataFrame:
    """(user_idx, n_train_items, is_cold_start, llm_rated) of the chosen users, in sample order.

    ``llm_rated``: inside the LLM rating budget, the first ``compatibility.max_users`` of the sample (none
    when compatibility is disabled).
    """
    counts = train_interactions.groupby("user_idx").size().reindex(chosen, fill_value=0).to_numpy()
    budget = params["compatibility"].get("max_users")
    n_rated = len(chosen) if budget is None else min(int(budget), len(chosen))
    if not params["compatibility"].get("enabled", True):
        n_rated = 0
    return pd.DataFrame(
        {
            "user_idx": chosen,
            "n_train_items": counts.astype(np.int64),
            "is_cold_start": counts < int(params["evaluation"]["cold_start_below"]),
            "llm_rated": np.arange(len(chosen)) < n_rated,
        }
    )
