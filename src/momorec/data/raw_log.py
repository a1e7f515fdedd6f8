"""The common in-memory form every loader produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

# Column order and dtypes of the two common tables (docs/architecture.md, formats.md).
INTERACTION_COLUMNS: dict[str, str] = {
    "user_id": "string",
    "item_id": "string",
    "timestamp": "int64",
    "rating": "float64",
}
ITEM_COLUMNS: dict[str, str] = {
    "item_id": "string",
    "title": "string",
    "category": "string",
    "brand": "string",
    "description": "string",
    "price": "float64",
}


@dataclass
class RawLog:
    """An interaction log and its item catalogue as read from one source.

    ``parse_report`` records what the reader could not use (counts per problem, first line numbers),
    so validation can report it instead of dropping rows silently.
    """

    interactions: pd.DataFrame
    items: pd.DataFrame
    source: str = ""
    parse_report: dict[str, Any] = field(default_factory=dict)
