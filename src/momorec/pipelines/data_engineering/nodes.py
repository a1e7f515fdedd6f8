"""Nodes of the data_engineering pipeline: validation, k-core, sequences, split, item stats, pairs, statistics.

All nodes are pure functions over pandas frames and vectorised with numpy (no loop over users or items).
The leakage rule of docs/architecture.md applies: :func:`compute_item_stats` and
:func:`build_copurchase_pairs` take ``train_interactions`` (or any table of that schema, which is how the
leak-canary run feeds them full sequences on purpose), never the split ``interactions`` table.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.raw_log import INTERACTION_COLUMNS, ITEM_COLUMNS, RawLog
from momorec.data.splits import select_train_interactions as select_train_interactions  # a node here

logger = logging.getLogger(__name__)

#: Examples kept per validation problem.
MAX_EXAMPLES = 5
#: Users with fewer interactions than this are not evaluated: all their interactions stay in training.
MIN_SEQUENCE_FOR_EVALUATION = 3
SPLITS = ("train", "valid", "test")


class DataValidationError(ValueError):
    """The log has nothing usable left, or lacks a required column."""


# ------------------------------------------------------------------------------------------ validation


def _examples(frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> list[dict[str, Any]]:
    """The first few offending rows as JSON-safe dicts."""
    rows = frame[np.asarray(mask, dtype=bool)].head(MAX_EXAMPLES)
    return json.loads(rows.to_json(orient="records", date_format="iso"))


def _record(problems: dict[str, Any], name: str, frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> None:
    mask = np.asarray(mask, dtype=bool)
    count = int(mask.sum())
    if count:
        problems[name] = {"count": count, "examples": _examples(frame, mask)}


def _isin(values: pd.Series, reference: pd.Series) -> np.ndarray:
    """``values.isin(reference)`` through a hash index: pandas' isin on Arrow-backed strings loops in Python."""
    return pd.Index(reference).unique().get_indexer(values) >= 0


def _clean_ids(values: pd.Series) -> pd.Series:
    values = values.astype("string").str.strip()
    return values.mask(values == "")


def validate_raw_log(
    raw_log: RawLog, parameters: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Check and clean the raw tables; count every removed or repaired row with examples.

    Interactions: ``user_id``, ``item_id`` and ``timestamp`` are required columns; rows with an empty user or
    item id or a timestamp that is not a non-negative number are removed; exact duplicates
    (user, item, timestamp) are removed (repeat purchases at other times are kept); ratings that are not
    numbers become null. Items: ``item_id`` is required; rows without an id and repeated ids (first kept) are
    removed; items without a title are counted and, when ``drop_items_without_title`` is true, removed with
    their interactions. Items that interactions refer to but the catalogue lacks get an id-only row (reported),
    so no interaction is lost for want of metadata.

    Args:
        raw_log: the loaded ``RawLog``.
        parameters: ``params:data_engineering`` (uses ``drop_items_without_title``, default false).

    Returns:
        ``validated_interactions``, ``validated_items`` and ``validation_report``.

    Raises:
        DataValidationError: a required column is missing or no interaction is usable.
    """
    source = getattr(raw_log, "source", "") or "raw_log"
    interactions, items = raw_log.interactions, raw_log.items
    for name, table, required in (
        ("interactions", interactions, ("user_id", "item_id", "timestamp")),
        ("items", items, ("item_id",)),
    ):
        if not isinstance(table, pd.DataFrame):
            raise DataValidationError(f"{source}: {name} is a {type(table).__name__}, not a DataFrame")
        missing = [c for c in required if c not in table.columns]
        if missing:
            raise DataValidationError(
                f"{source}: {name} lacks required column(s) {missing}; columns are {list(table.columns)}"
            )
    drop_untitled = bool(parameters.get("drop_items_without_title", False))
    rows_in = len(interactions)
    if rows_in == 0:
        raise DataValidationError(f"{source}: the interaction table is empty")

    # --- interactions: ids, types, duplicates
    inter_problems: dict[str, Any] = {}
    original = interactions.reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "user_id": _clean_ids(original["user_id"]),
            "item_id": _clean_ids(original["item_id"]),
            "timestamp": pd.to_numeric(original["timestamp"], errors="coerce"),
            "rating": pd.to_numeric(original["rating"], errors="coerce")
            if "rating" in original
            else pd.Series(np.nan, index=original.index),
        }
    )
    no_user = frame["user_id"].isna().to_numpy()
    no_item = frame["item_id"].isna().to_numpy() & ~no_user
    bad_time = (frame["timestamp"].isna() | (frame["timestamp"] < 0)).to_numpy() & ~no_user & ~no_item
    _record(inter_problems, "missing_user_id", original, no_user)
    _record(inter_problems, "missing_item_id", original, no_item)
    _record(inter_problems, "bad_timestamp", original, bad_time)
    if "rating" in original:
        bad_rating = frame["rating"].isna().to_numpy() & original["rating"].notna().to_numpy()
        _record(inter_problems, "unparseable_rating_set_to_null", original, bad_rating)
    usable = ~(no_user | no_item | bad_time)
    duplicate = np.zeros(len(frame), dtype=bool)
    duplicate[usable] = frame[usable].duplicated(["user_id", "item_id", "timestamp"], keep="first").to_numpy()
    _record(inter_problems, "duplicate_interactions", original, duplicate)
    frame = frame[usable & ~duplicate]
    frame["timestamp"] = np.floor(frame["timestamp"]).astype("int64")

    # --- items: ids, duplicates, titles
    item_problems: dict[str, Any] = {}
    catalogue = items.reset_index(drop=True).copy()
    for column in ITEM_COLUMNS:
        if column not in catalogue:
            catalogue[column] = np.nan
    catalogue = catalogue[list(ITEM_COLUMNS)]
    catalogue["item_id"] = _clean_ids(catalogue["item_id"])
    for column in ("title", "category", "brand", "description"):
        catalogue[column] = _clean_ids(catalogue[column])
    catalogue["price"] = pd.to_numeric(catalogue["price"], errors="coerce")
    no_id = catalogue["item_id"].isna().to_numpy()
    _record(item_problems, "missing_item_id", catalogue, no_id)
    catalogue = catalogue[~no_id]
    repeated = catalogue["item_id"].duplicated(keep="first").to_numpy()
    _record(item_problems, "duplicate_item_ids", catalogue, repeated)
    catalogue = catalogue[~repeated]

    unknown = ~_isin(frame["item_id"], catalogue["item_id"])
    if unknown.any():
        unknown_ids = frame.loc[unknown, "item_id"].drop_duplicates()
        item_problems["items_missing_from_catalogue"] = {
            "count": len(unknown_ids),
            "interactions": int(unknown.sum()),
            "action": "kept with an id-only catalogue row (no title)",
            "examples": unknown_ids.head(MAX_EXAMPLES).tolist(),
        }
        catalogue = pd.concat([catalogue, pd.DataFrame({"item_id": unknown_ids})], ignore_index=True)

    untitled = catalogue["title"].isna().to_numpy()
    _record(item_problems, "items_without_title", catalogue, untitled)
    if untitled.any() and drop_untitled:
        untitled_ids = catalogue.loc[untitled, "item_id"]
        on_untitled = _isin(frame["item_id"], untitled_ids)
        _record(inter_problems, "interactions_on_items_without_title_dropped", frame, on_untitled)
        frame = frame[~on_untitled]
        catalogue = catalogue[~untitled]
        item_problems["items_without_title"]["action"] = "dropped with their interactions"
    elif untitled.any():
        item_problems["items_without_title"]["action"] = "kept (drop_items_without_title is false)"

    in_log = _isin(catalogue["item_id"], frame["item_id"])
    if (~in_log).any():
        item_problems["catalogue_items_without_interactions"] = {
            "count": int((~in_log).sum()),
            "action": "kept here; the sequence step keeps only items that have interactions",
        }

    if frame.empty:
        raise DataValidationError(
            f"{source}: no usable interaction is left after validation ({rows_in} rows in); "
            f"problems: { {k: v['count'] for k, v in inter_problems.items()} }"
        )

    validated_interactions = frame.astype(INTERACTION_COLUMNS).reset_index(drop=True)
    validated_items = catalogue.astype(ITEM_COLUMNS).reset_index(drop=True)
    report = {
        "source": source,
        "parse_report": json.loads(json.dumps(raw_log.parse_report, default=str)),
        "interactions": {
            "rows_in": rows_in,
            "rows_out": len(validated_interactions),
            "users": int(validated_interactions["user_id"].nunique()),
            "problems": inter_problems,
        },
        "items": {
            "rows_in": len(items),
            "rows_out": len(validated_items),
            "problems": item_problems,
        },
    }
    for table in ("interactions", "items"):
        for name, problem in report[table]["problems"].items():
            logger.warning("validation (%s) %s: %s", table, name, problem["count"])
    return validated_interactions, validated_items, report


# --------------------------------------------------------------------------------------------- k-core


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
    catalogue = validated_items[_isin(validated_items["item_id"], log["item_id"])].reset_index(drop=True)
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


# ---------------------------------------------------------------------- features from the train prefix


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
