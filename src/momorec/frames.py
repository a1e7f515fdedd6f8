"""Checks on the tables that cross module boundaries."""

from __future__ import annotations

import pandas as pd


def require_columns(frame: pd.DataFrame, name: str, columns: list[str]) -> None:
    """Raise ``ValueError`` naming the table ``name`` when any of ``columns`` is missing from ``frame``."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; found {list(frame.columns)}")
