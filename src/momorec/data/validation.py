"""Validation of a raw log: one function per check, each counting what it removes or repairs.

:func:`validate_raw_log` runs the checks in order and assembles the ``validation_report``. Every removed or
repaired row is recorded in a :class:`~momorec.data.problems.ProblemLog` (a count and the first few rows)
and logged as a warning; nothing is dropped silently.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.problems import MAX_EXAMPLES, ProblemLog, require_columns
from momorec.data.raw_log import INTERACTION_COLUMNS, ITEM_COLUMNS, RawLog

logger = logging.getLogger(__name__)

#: Titles longer than this many characters are flagged (``max_title_chars``; null switches the check off).
DEFAULT_MAX_TITLE_CHARS = 1000
#: The item text columns cleaned like ids (stripped, empty = missing).
_TEXT_COLUMNS = ("title", "category", "brand", "description")


class DataValidationError(ValueError):
    """The log has nothing usable left, or lacks a required column."""


def isin(values: pd.Series, reference: pd.Series) -> np.ndarray:
    """``values.isin(reference)`` through a hash index: pandas' isin on Arrow-backed strings loops in Python."""
    return pd.Index(reference).unique().get_indexer(values) >= 0


def clean_text(values: pd.Series) -> pd.Series:
    """Strings stripped of surrounding whitespace; empty ones become missing."""
    values = values.astype("string").str.strip()
    return values.mask(values == "")


def check_tables(raw_log: RawLog, source: str) -> None:
    """Both tables are DataFrames with their required columns, and there is at least one interaction."""
    for name, table, required in (
        ("interactions", raw_log.interactions, ("user_id", "item_id", "timestamp")),
        ("items", raw_log.items, ("item_id",)),
    ):
        if not isinstance(table, pd.DataFrame):
            raise DataValidationError(f"{source}: {name} is a {type(table).__name__}, not a DataFrame")
        require_columns(table, required, source, table=name, error=DataValidationError)
    if len(raw_log.interactions) == 0:
        raise DataValidationError(f"{source}: the interaction table is empty")


def typed_interactions(original: pd.DataFrame) -> pd.DataFrame:
    """Ids cleaned, timestamps and ratings as numbers (unparseable values become NaN, counted later)."""
    return pd.DataFrame(
        {
            "user_id": clean_text(original["user_id"]),
            "item_id": clean_text(original["item_id"]),
            "timestamp": pd.to_numeric(original["timestamp"], errors="coerce"),
            "rating": pd.to_numeric(original["rating"], errors="coerce")
            if "rating" in original
            else pd.Series(np.nan, index=original.index),
        }
    )


def check_interaction_rows(frame: pd.DataFrame, original: pd.DataFrame, problems: ProblemLog) -> np.ndarray:
    """The usable rows: a user id, an item id and a non-negative timestamp (each missing one counted once)."""
    no_user = frame["user_id"].isna().to_numpy()
    no_item = frame["item_id"].isna().to_numpy() & ~no_user
    bad_time = (frame["timestamp"].isna() | (frame["timestamp"] < 0)).to_numpy() & ~no_user & ~no_item
    problems.add_rows("missing_user_id", original, no_user)
    problems.add_rows("missing_item_id", original, no_item)
    problems.add_rows("bad_timestamp", original, bad_time)
    if "rating" in original:
        bad_rating = frame["rating"].isna().to_numpy() & original["rating"].notna().to_numpy()
        problems.add_rows("unparseable_rating_set_to_null", original, bad_rating)
    return ~(no_user | no_item | bad_time)


def find_duplicate_interactions(
    frame: pd.DataFrame, usable: np.ndarray, original: pd.DataFrame, problems: ProblemLog
) -> np.ndarray:
    """Exact repeats of (user, item, timestamp) among the usable rows; the first is kept."""
    duplicate = np.zeros(len(frame), dtype=bool)
    duplicate[usable] = frame[usable].duplicated(["user_id", "item_id", "timestamp"], keep="first").to_numpy()
    problems.add_rows("duplicate_interactions", original, duplicate)
    return duplicate


def clean_catalogue(items: pd.DataFrame, problems: ProblemLog) -> pd.DataFrame:
    """All item columns present and typed; rows without an id and repeated ids (first kept) removed."""
    catalogue = items.reset_index(drop=True).copy()
    for column in ITEM_COLUMNS:
        if column not in catalogue:
            catalogue[column] = np.nan
    catalogue = catalogue[list(ITEM_COLUMNS)]
    catalogue["item_id"] = clean_text(catalogue["item_id"])
    for column in _TEXT_COLUMNS:
        catalogue[column] = clean_text(catalogue[column])
    catalogue["price"] = pd.to_numeric(catalogue["price"], errors="coerce")
    no_id = catalogue["item_id"].isna().to_numpy()
    problems.add_rows("missing_item_id", catalogue, no_id)
    catalogue = catalogue[~no_id]
    repeated = catalogue["item_id"].duplicated(keep="first").to_numpy()
    problems.add_rows("duplicate_item_ids", catalogue, repeated)
    return catalogue[~repeated]


def add_items_missing_from_catalogue(
    interactions: pd.DataFrame, catalogue: pd.DataFrame, problems: ProblemLog
) -> pd.DataFrame:
    """Items that interactions refer to but the catalogue lacks get an id-only row, so no interaction is lost."""
    unknown = ~isin(interactions["item_id"], catalogue["item_id"])
    if not unknown.any():
        return catalogue
    unknown_ids = interactions.loc[unknown, "item_id"].drop_duplicates()
    problems.set(
        "items_missing_from_catalogue",
        {
            "count": len(unknown_ids),
            "interactions": int(unknown.sum()),
            "action": "kept with an id-only catalogue row (no title)",
            "examples": unknown_ids.head(MAX_EXAMPLES).tolist(),
        },
    )
    return pd.concat([catalogue, pd.DataFrame({"item_id": unknown_ids})], ignore_index=True)


def handle_untitled_items(
    interactions: pd.DataFrame,
    catalogue: pd.DataFrame,
    drop_untitled: bool,
    inter_problems: ProblemLog,
    item_problems: ProblemLog,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count items without a title; with ``drop_untitled`` remove them and their interactions."""
    untitled = catalogue["title"].isna().to_numpy()
    item_problems.add_rows("items_without_title", catalogue, untitled)
    if not untitled.any():
        return interactions, catalogue
    if not drop_untitled:
        item_problems.problems["items_without_title"]["action"] = "kept (drop_items_without_title is false)"
        return interactions, catalogue
    on_untitled = isin(interactions["item_id"], catalogue.loc[untitled, "item_id"])
    inter_problems.add_rows("interactions_on_items_without_title_dropped", interactions, on_untitled)
    item_problems.problems["items_without_title"]["action"] = "dropped with their interactions"
    return interactions[~on_untitled], catalogue[~untitled]


def flag_long_titles(catalogue: pd.DataFrame, max_title_chars: int | None, problems: ProblemLog) -> None:
    """Titles over ``max_title_chars`` characters are flagged (kept): they go into prompts, which cut them."""
    if max_title_chars is None:
        return
    lengths = catalogue["title"].str.len().fillna(0).to_numpy()
    long = lengths > int(max_title_chars)
    if long.any():
        problems.set(
            "very_long_titles",
            {
                "count": int(long.sum()),
                "max_title_chars": int(max_title_chars),
                "action": "kept (flagged only; prompts cut titles to their own budget)",
                # The ids and lengths, not the titles: a 100 KB title does not belong in the report.
                "examples": [
                    {"item_id": item_id, "title_chars": int(n)}
                    for item_id, n in zip(
                        catalogue["item_id"].to_numpy()[long][:MAX_EXAMPLES],
                        lengths[long][:MAX_EXAMPLES],
                        strict=True,
                    )
                ],
            },
        )


def note_items_without_interactions(
    interactions: pd.DataFrame, catalogue: pd.DataFrame, problems: ProblemLog
) -> None:
    """Catalogue items nobody bought stay here; the sequence step keeps only items with interactions."""
    in_log = isin(catalogue["item_id"], interactions["item_id"])
    if (~in_log).any():
        problems.set(
            "catalogue_items_without_interactions",
            {
                "count": int((~in_log).sum()),
                "action": "kept here; the sequence step keeps only items that have interactions",
            },
        )


def validation_report(
    raw_log: RawLog,
    source: str,
    interactions: tuple[pd.DataFrame, ProblemLog],
    items: tuple[pd.DataFrame, ProblemLog],
) -> dict[str, Any]:
    """Rows in and out of each table, with its problems, and the readers' parse report."""
    (validated_interactions, inter_problems), (validated_items, item_problems) = interactions, items
    return {
        "source": source,
        "parse_report": json.loads(json.dumps(raw_log.parse_report, default=str)),
        "interactions": {
            "rows_in": len(raw_log.interactions),
            "rows_out": len(validated_interactions),
            "users": int(validated_interactions["user_id"].nunique()),
            "problems": inter_problems.problems,
        },
        "items": {
            "rows_in": len(raw_log.items),
            "rows_out": len(validated_items),
            "problems": item_problems.problems,
        },
    }


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
        parameters: ``params:data_engineering`` (uses ``drop_items_without_title``, default false, and
            ``max_title_chars``, default 1000: longer titles are flagged as ``very_long_titles``).

    Returns:
        ``validated_interactions``, ``validated_items`` and ``validation_report``.

    Raises:
        DataValidationError: a required column is missing or no interaction is usable.
    """
    source = getattr(raw_log, "source", "") or "raw_log"
    check_tables(raw_log, source)
    inter_problems = ProblemLog("interactions", example_key="examples")
    item_problems = ProblemLog("items", example_key="examples")

    original = raw_log.interactions.reset_index(drop=True)
    frame = typed_interactions(original)
    usable = check_interaction_rows(frame, original, inter_problems)
    duplicate = find_duplicate_interactions(frame, usable, original, inter_problems)
    frame = frame[usable & ~duplicate]
    frame["timestamp"] = np.floor(frame["timestamp"]).astype("int64")

    catalogue = clean_catalogue(raw_log.items, item_problems)
    catalogue = add_items_missing_from_catalogue(frame, catalogue, item_problems)
    drop_untitled = bool(parameters.get("drop_items_without_title", False))
    frame, catalogue = handle_untitled_items(frame, catalogue, drop_untitled, inter_problems, item_problems)
    flag_long_titles(catalogue, parameters.get("max_title_chars", DEFAULT_MAX_TITLE_CHARS), item_problems)
    note_items_without_interactions(frame, catalogue, item_problems)

    if frame.empty:
        raise DataValidationError(
            f"{source}: no usable interaction is left after validation ({len(original)} rows in); "
            f"problems: {inter_problems.counts()}"
        )
    validated_interactions = frame.astype(INTERACTION_COLUMNS).reset_index(drop=True)
    validated_items = catalogue.astype(ITEM_COLUMNS).reset_index(drop=True)
    report = validation_report(
        raw_log, source, (validated_interactions, inter_problems), (validated_items, item_problems)
    )
    inter_problems.log(logger, "validation")
    item_problems.log(logger, "validation")
    return validated_interactions, validated_items, report
