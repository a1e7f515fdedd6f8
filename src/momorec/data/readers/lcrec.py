"""LC-Rec / LETTER JSON: ``{"user": [item, ...]}`` and ``{"item": {title, ...}}``, which have no timestamps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.problems import LogFormatError, ProblemLog
from momorec.data.raw_log import RawLog
from momorec.data.readers.common import assemble_raw_log, finish_interactions, finish_items, require_file
from momorec.data.readers.text import JSON_BYTE_ESCAPE, category_path, ids_as_text, join_text


def _load_json_document(path: Path, problems: ProblemLog) -> Any:
    raw = require_file(path).read_bytes()
    if not raw.strip():
        raise LogFormatError(f"{path}: the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problems.add("non_utf8_bytes_escaped", [], count=1)
        problems.notes["first_non_utf8_byte_offset"] = error.start
        text = raw.decode("utf-8", errors=JSON_BYTE_ESCAPE)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LogFormatError(
            f"{path}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error


def read_lcrec(inter_path: str | Path, item_path: str | Path, *, max_bad_fraction: float = 0.5) -> RawLog:
    """Read LC-Rec / LETTER JSON: ``{"user": [item, ...]}`` (oldest first) and ``{"item": {title, ...}}``.

    There are no timestamps: an interaction's timestamp is its 0-based position in the user's list, which
    keeps the given order through the chronological sort. Ratings are null. The comma-joined
    ``categories`` string becomes an ``A > B > C`` path. Line numbers in the report are entry numbers
    (1-based) in the JSON object, because the whole file is one JSON document.
    """
    inter_path, item_path = Path(inter_path), Path(item_path)
    inter_problems, item_problems = ProblemLog(inter_path), ProblemLog(item_path)
    interactions = _read_sequences(inter_path, inter_problems)
    inter_problems.check_usable(max_bad_fraction, "interactions")
    items = _read_catalogue(item_path, item_problems)
    item_problems.check_usable(max_bad_fraction, "items")
    return assemble_raw_log(interactions, items, f"lcrec:{inter_path}", [inter_problems, item_problems])


def _read_sequences(inter_path: Path, inter_problems: ProblemLog) -> pd.DataFrame:
    """The user -> item list file as interactions, each timestamp the item's position in its list."""
    sequences = _load_json_document(inter_path, inter_problems)
    if not isinstance(sequences, dict):
        raise LogFormatError(
            f"{inter_path}: expected a JSON object of user -> item list, got {type(sequences).__name__}"
        )
    users = list(sequences.keys())
    entry_numbers = np.arange(1, len(users) + 1)
    is_list = np.array([isinstance(v, list) for v in sequences.values()], dtype=bool)
    inter_problems.add("sequence_not_a_list", entry_numbers[~is_list])
    lists = [v for v in sequences.values() if isinstance(v, list)]
    lengths = np.array([len(v) for v in lists], dtype=np.int64)
    user_ids = np.repeat(np.asarray(users, dtype=object)[is_list], lengths)
    entry_of_row = np.repeat(entry_numbers[is_list], lengths)
    flat = pd.Series([x for seq in lists for x in seq], dtype="object")
    inter_problems.rows_read = len(flat)
    item_ids, rejected = ids_as_text(flat, entry_of_row, inter_problems, "item_id")
    missing_item = item_ids.isna().to_numpy()
    inter_problems.add("missing_item_id", entry_of_row[missing_item & ~rejected])
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(len(flat), dtype=np.int64) - np.repeat(starts, lengths)
    interactions = pd.DataFrame(
        {"user_id": user_ids, "item_id": item_ids, "timestamp": positions, "rating": np.nan}
    )[~missing_item]
    interactions = finish_interactions(interactions)
    inter_problems.rows_kept = len(interactions)
    inter_problems.notes["timestamps"] = "position in the user's sequence (the format has no times)"
    return interactions


def _read_catalogue(item_path: Path, item_problems: ProblemLog) -> pd.DataFrame:
    """The item -> fields file as the items table."""
    catalogue = _load_json_document(item_path, item_problems)
    if not isinstance(catalogue, dict):
        raise LogFormatError(
            f"{item_path}: expected a JSON object of item -> fields, got {type(catalogue).__name__}"
        )
    item_problems.rows_read = len(catalogue)
    records = list(catalogue.values())
    is_object = np.array([isinstance(r, dict) for r in records], dtype=bool)
    item_problems.add("item_entry_not_an_object", np.arange(1, len(records) + 1)[~is_object])
    kept = [r for r in records if isinstance(r, dict)]
    items = pd.DataFrame(
        {
            "item_id": [k for k, ok in zip(catalogue.keys(), is_object, strict=True) if ok],
            "title": [join_text(r.get("title"), " ") for r in kept],
            "category": [category_path(r.get("categories")) for r in kept],
            "brand": [join_text(r.get("brand"), " ") for r in kept],
            "description": [join_text(r.get("description"), " ") for r in kept],
            "price": [r.get("price") for r in kept],
        }
    )
    items = finish_items(items)
    item_problems.rows_kept = len(items)
    return items
