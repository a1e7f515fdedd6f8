"""Nodes of the data_engineering pipeline: wiring of the domain functions in ``momorec.data``.

Validation (``momorec.data.validation``), the k-core filter (``momorec.data.kcore``) and the features of
the training prefix (``momorec.data.features``) live in the data package; this module adds the sequence,
split and statistics steps. All nodes are pure functions over pandas frames and vectorised with numpy (no
loop over users or items). The leakage rule of docs/architecture.md applies: :func:`compute_item_stats`
and :func:`build_copurchase_pairs` take ``train_interactions``, never the split ``interactions`` table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from momorec.data.features import build_copurchase_pairs, compute_item_stats
from momorec.data.kcore import filter_k_core
from momorec.data.problems import MAX_EXAMPLES
from momorec.data.raw_log import ITEM_COLUMNS
from momorec.data.splits import select_train_interactions
from momorec.data.validation import DataValidationError, isin, validate_raw_log

__all__ = [
    "DataValidationError",
    "build_copurchase_pairs",
    "build_sequences",
    "compute_dataset_statistics",
    "compute_item_stats",
    "dataset_statistics_to_metrics",
    "filter_k_core",
    "select_train_interactions",
    "split_leave_one_out",
    "validate_raw_log",
]

#: Users with fewer interactions than this are not evaluated: all their interactions stay in training.
MIN_SEQUENCE_FOR_EVALUATION = 3
SPLITS = ("train", "valid", "test")


# ---------------------------------------------------------------------------------- sequences and ids


def build_sequences(
    kcore_interactions: pd.DataFrame, validated_items: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Order each user's interactions in time and give users and items contiguous 0-based ids.

    Ties in time are broken by the original row order (a stable sort), so sources with equal timestamps
    (MovieLens) give the same sequences on every run. ``user_idx`` follows the users' first appearance in
    the log; ``item_idx`` follows the catalogue order, keeping only items that have interactions. The
    original ids stay in ``user_id`` / ``item_id``.

    Returns:
        ``sequenced_interactions`` (interactions without the split column), ``users`` and ``items``.
    """
    log = kcore_interactions.reset_index(drop=True)
    user_codes, user_ids = pd.factorize(log["user_id"])
    catalogue = validated_items[isin(validated_items["item_id"], log["item_id"])].reset_index(drop=True)
    item_index = pd.Index(catalogue["item_id"])
    item_codes = item_index.get_indexer(log["item_id"])
    if (item_codes < 0).any():
        missing = log.loc[item_codes < 0, "item_id"].unique()[:MAX_EXAMPLES].tolist()
        raise DataValidationError(f"items {missing} have interactions but no row in validated_items")
    timestamps = log["timestamp"].to_numpy(dtype=np.int64)
    # lexsort's last key is the primary one: user, then time, then the original row order.
    order = np.lexsort((np.arange(len(log)), timestamps, user_codes))
    sorted_users = user_codes[order]
    counts = np.bincount(user_codes, minlength=len(user_ids))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    positions = np.arange(len(order)) - starts[sorted_users]
    sequenced = pd.DataFrame(
        {
            "user_idx": sorted_users.astype(np.int32),
            "item_idx": item_codes[order].astype(np.int32),
            # take() on the column's own array keeps Arrow strings as they are (no round trip via objects)
            "user_id": log["user_id"].astype("string").array.take(order),
            "item_id": log["item_id"].astype("string").array.take(order),
            "timestamp": timestamps[order],
            "rating": pd.to_numeric(log["rating"]).to_numpy(dtype=np.float64, na_value=np.nan)[order],
            "position": positions.astype(np.int32),
        }
    ).astype({"user_id": "string", "item_id": "string"})
    users = pd.DataFrame(
        {
            "user_idx": np.arange(len(user_ids), dtype=np.int32),
            "user_id": pd.array(user_ids, dtype="string"),
            "n_interactions": counts.astype(np.int64),
        }
    )
    items = catalogue.astype(ITEM_COLUMNS)
    items.insert(0, "item_idx", np.arange(len(items), dtype=np.int32))
    return sequenced, users, items


def split_leave_one_out(sequenced_interactions: pd.DataFrame) -> pd.DataFrame:
    """Leave-one-out by position: last item = test, second-to-last = valid, the rest = train.

    Users with fewer than 3 interactions (possible only when k_core < 3) keep every interaction in train:
    they still feed training and features but are not evaluated, because one item cannot be both history
    and target for both a validation and a test step.
    """
    frame = sequenced_interactions.copy()
    user_idx = frame["user_idx"].to_numpy()
    lengths = np.bincount(user_idx)[user_idx]
    position = frame["position"].to_numpy()
    evaluated = lengths >= MIN_SEQUENCE_FOR_EVALUATION
    split = np.full(len(frame), "train", dtype=object)
    split[evaluated & (position == lengths - 2)] = "valid"
    split[evaluated & (position == lengths - 1)] = "test"
    frame["split"] = pd.array(split, dtype="string")
    return frame


# --------------------------------------------------------------------------------------- statistics


def compute_dataset_statistics(
    validated_interactions: pd.DataFrame,
    interactions: pd.DataFrame,
    items: pd.DataFrame,
    item_stats: pd.DataFrame,
    copurchase_pairs: pd.DataFrame,
    parameters: dict[str, Any],
) -> dict[str, Any]:
    """The paper's Table 1 (users, items, interactions, long-tail items) plus sparsity, sequence-length
    quantiles, split sizes, the counts before k-core, and the parameters that shaped them."""
    n_users = int(interactions["user_idx"].nunique())
    n_items = len(items)
    n_interactions = len(interactions)
    lengths = np.bincount(interactions["user_idx"].to_numpy())
    lengths = lengths[lengths > 0]
    quantiles = np.quantile(lengths, [0.25, 0.5, 0.75, 0.9]) if len(lengths) else [np.nan] * 4
    split_counts = interactions["split"].value_counts()
    long_tail = int(item_stats["is_long_tail"].sum())
    return {
        "users": n_users,
        "items": n_items,
        "interactions": n_interactions,
        "long_tail_items": long_tail,
        "long_tail_fraction": long_tail / n_items if n_items else 0.0,
        "sparsity": 1.0 - n_interactions / (n_users * n_items) if n_users and n_items else 1.0,
        "sequence_length": {
            "min": int(lengths.min()) if len(lengths) else 0,
            "p25": float(quantiles[0]),
            "p50": float(quantiles[1]),
            "p75": float(quantiles[2]),
            "p90": float(quantiles[3]),
            "max": int(lengths.max()) if len(lengths) else 0,
            "mean": float(lengths.mean()) if len(lengths) else 0.0,
        },
        "train_interactions": int(split_counts.get("train", 0)),
        "valid_interactions": int(split_counts.get("valid", 0)),
        "test_interactions": int(split_counts.get("test", 0)),
        "users_evaluated": int(split_counts.get("test", 0)),
        "users_train_only": int((lengths < MIN_SEQUENCE_FOR_EVALUATION).sum()),
        "copurchase_pairs": len(copurchase_pairs),
        "copurchase_pair_support_total": int(copurchase_pairs["support"].sum()),
        "before_k_core": {
            "users": int(validated_interactions["user_id"].nunique()),
            "items": int(validated_interactions["item_id"].nunique()),
            "interactions": len(validated_interactions),
        },
        "k_core": int(parameters.get("k_core") or 0),
        "long_tail_max_interactions": int(parameters.get("long_tail_max_interactions", 5)),
        "pair_window": int(parameters.get("pair_window", 2)),
        "min_support": int(parameters.get("min_support", 1)),
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def dataset_statistics_to_metrics(dataset_statistics: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The numeric statistics as MLflow metrics (nested keys joined with "_"), in the form of
    ``kedro_mlflow``'s ``MlflowMetricsHistoryDataset``: ``{name: {"value": v, "step": 0}}``."""
    metrics: dict[str, dict[str, float]] = {}

    def add(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                add(f"{prefix}_{key}" if prefix else key, inner)
        elif _is_number(value) and np.isfinite(value):
            metrics[prefix] = {"value": float(value), "step": 0}

    add("", dataset_statistics)
    return metrics
