"""Report tables: values formatted for people, results pivoted to 'mean ± std' cells (paper layouts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

MAIN_METRICS = [
    "recall@10",
    "ndcg@10",
    "mrr@10",
    "precision@10",
    "recall@20",
    "ndcg@20",
    "mrr@20",
    "precision@20",
]
SEGMENT_METRICS = ("ndcg@10", "recall@10")


def format_value(value: Any) -> str:
    """Integers with thousands separators, other numbers with 4 significant digits, the rest as text."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | np.integer) or (
        isinstance(value, float | np.floating) and float(value).is_integer()
    ):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return "n/a" if np.isnan(value) else f"{float(value):.4g}"
    return str(value)


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """Numbers as people read them (see ``format_value``); text columns as they are."""
    return table.apply(lambda column: column.map(format_value) if column.dtype.kind in "iuf" else column)


def _flatten(value: dict, prefix: str = "") -> list[tuple[str, Any]]:
    rows = []
    for key, item in value.items():
        name = f"{prefix}{key}"
        rows.extend(_flatten(item, f"{name}.") if isinstance(item, dict) else [(name, item)])
    return rows


def as_frame(value: Any) -> pd.DataFrame:
    """Present a (nested) dict as name/value rows, a list as a table, a DataFrame as it is."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, dict):
        return pd.DataFrame(
            [(name, format_value(item)) for name, item in _flatten(value)], columns=["name", "value"]
        )
    if isinstance(value, list):
        return pd.DataFrame(value)
    return pd.DataFrame({"value": [format_value(value)]})


def _metric_column(results: pd.DataFrame) -> pd.Series:
    return results["metric"].str.lower() + "@" + results["k"].astype(int).astype(str)


def _mean_std_cells(frame: pd.DataFrame) -> pd.Series:
    """'mean ± std' strings; 'n/a' where a segment had no users."""
    cells = frame["mean"].map("{:.4f}".format) + " ± " + frame["std"].fillna(0).map("{:.4f}".format)
    return cells.where(frame["mean"].notna(), "n/a (no users)")


def mean_std_table(results: pd.DataFrame, variants: list[str] | None = None) -> pd.DataFrame:
    """Variants × metrics with cells 'mean ± std' (the paper's Table 2 layout)."""
    frame = results.assign(metric_k=_metric_column(results))
    if variants is not None:
        frame = frame[frame["variant"].isin(variants)]
    frame = frame.assign(cell=_mean_std_cells(frame))
    table = frame.pivot_table(index="variant", columns="metric_k", values="cell", aggfunc="first")
    ordered = [m for m in MAIN_METRICS if m in table.columns] + [
        m for m in table.columns if m not in MAIN_METRICS
    ]
    return table[ordered].reset_index()


def layer_sweep_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """Layers × metrics, 'mean ± std', all users with history masked (as the main results)."""
    rows = sweep[sweep["segment"] == "all"] if "segment" in sweep else sweep
    if "history_masked" in rows:
        rows = rows[rows["history_masked"].astype(bool)]
    table = mean_std_table(rows.assign(variant=rows["n_layers"].astype(int)))
    return table.rename(columns={"variant": "ID layers used"})


def segment_table(results: pd.DataFrame, column_label: Callable[[str], str] = str) -> pd.DataFrame:
    """Variants × (segment, NDCG/Recall@10) as 'mean ± std', variants and segments in the order they come.

    ``column_label(segment)`` names a segment's columns (followed by the metric).
    """
    rows = results.assign(metric_k=_metric_column(results))
    rows = rows[rows["metric_k"].isin(SEGMENT_METRICS)]
    rows = rows.assign(cell=_mean_std_cells(rows))
    pivot = rows.pivot_table(index="variant", columns=["segment", "metric_k"], values="cell", aggfunc="first")
    columns = [(segment, metric) for segment in dict.fromkeys(rows["segment"]) for metric in SEGMENT_METRICS]
    table = pivot.reindex(index=list(dict.fromkeys(rows["variant"])), columns=columns)
    table.columns = [f"{column_label(segment)} {metric}" for segment, metric in columns]
    return table


def alignment_table(results: pd.DataFrame) -> pd.DataFrame:
    """Re-ranking variants × (segment, NDCG/Recall@10) as 'mean ± std', with each fusion weight.

    One row per variant instead of one per variant × segment × metric × k; column names carry the number of
    users in the segment, because these runs evaluate a few users and the reader has to see how few.
    """
    users = results.groupby("segment")["n_users"].max()
    table = segment_table(results, lambda segment: f"{segment} ({int(users[segment])} users)")
    weights = results.groupby("variant")["fusion_weight"].first().reindex(table.index)
    table.insert(0, "fusion weight (validation)", weights.map(lambda w: "n/a" if pd.isna(w) else f"{w:g}"))
    return table.reset_index()
