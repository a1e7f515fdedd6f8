"""Report tables: values formatted for people, results pivoted to 'mean ± std' cells (paper layouts)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
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
# A cell with no value: never "None" or "nan" in a table people read.
MISSING = "—"
# Dict tables wider than this many columns are turned so that the keys run down the rows.
MAX_COLUMNS = 8
# Units and abbreviations in key names, as a column label says them.
_LABEL_SUFFIXES = {"_s": " (s)", "_seconds": " (s)", "_ms": " (ms)"}
_ACRONYMS = {"nmi", "ami", "llm", "id", "ids", "ci"}
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
# A sub-dict of at most this many plain values is shown as one cell of its parent's table.
INLINE_KEYS = 3


def format_value(value: Any) -> str:
    """Integers with thousands separators, other numbers with 4 significant digits, lists as comma-separated
    values, the rest as text; a missing value (None, NaN) is ``MISSING``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item) for item in value) or MISSING
    if isinstance(value, dict):
        return ", ".join(f"{label(key)}: {format_value(item)}" for key, item in value.items()) or "none"
    if isinstance(value, int | np.integer) or (
        isinstance(value, float | np.floating) and float(value).is_integer()
    ):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return MISSING if np.isnan(value) else f"{float(value):.4g}"
    return str(value)


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """Every cell as people read it (see ``format_value``): numbers formatted, missing values ``MISSING``,
    identifier-like column names as labels (``label``)."""
    return table.apply(lambda column: column.map(format_value)).rename(columns=label)


def label(key: Any) -> str:
    """A key as a column label: ``latency_p50_s`` -> ``latency p50 (s)``, ``cluster_nmi`` -> ``cluster NMI``.

    Only identifier-like keys are changed: a file name or a metric such as ``ndcg@10`` stays as it is.
    """
    text = str(key)
    if not _IDENTIFIER.fullmatch(text):
        return text
    for suffix, unit in _LABEL_SUFFIXES.items():
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)] + unit
            break
    words = text.replace("_", " ").split(" ")
    return " ".join(word.upper() if word in _ACRONYMS else word for word in words)


def _is_flat(value: Any) -> bool:
    """A dict of plain values (an empty dict counts as a plain value: it prints as "none")."""
    return isinstance(value, dict) and all(not isinstance(v, dict) or not v for v in value.values())


def _is_record(value: Any) -> bool:
    """A dict of plain values or of flat dicts: one table row, the flat dicts as one cell each."""
    return isinstance(value, dict) and all(not isinstance(v, dict) or _is_flat(v) for v in value.values())


def _is_plain(value: Any) -> bool:
    return not isinstance(value, dict) or not value or (_is_flat(value) and len(value) <= INLINE_KEYS)


def record_table(records: dict[str, dict]) -> pd.DataFrame:
    """Dicts with (mostly) the same keys as one table: a row per record, or a row per key when wide."""
    columns = list(dict.fromkeys(key for record in records.values() for key in record))
    if len(columns) > MAX_COLUMNS and len(records) <= MAX_COLUMNS:
        return pd.DataFrame(
            {"": [label(c) for c in columns]}
            | {label(name): [format_value(r.get(c)) for c in columns] for name, r in records.items()}
        )
    return pd.DataFrame(
        {"": [label(name) for name in records]}
        | {label(c): [format_value(r.get(c)) for r in records.values()] for c in columns}
    )


def _similar_groups(flat: dict[str, dict]) -> list[dict[str, dict]]:
    """Sibling dicts grouped when they share at least half of their keys (one table each group)."""
    groups: list[dict[str, dict]] = []
    for name, record in flat.items():
        for group in groups:
            first = next(iter(group.values()))
            if len(set(first) & set(record)) * 2 >= max(len(first), len(record)):
                group[name] = record
                break
        else:
            groups.append({name: record})
    return groups


def dict_tables(value: dict, caption: str) -> list[tuple[str, pd.DataFrame]]:
    """A nested dict as small labelled tables instead of dotted ``a.b.c`` keys.

    Plain values of one level (and small sub-dicts, as one cell) form a name/value table; sibling sub-dicts
    of plain values with similar keys (stages, files, settings) form one table with a row (or, when wide, a
    column) per sub-dict; a lone one is a one-row table; deeper levels recurse under their label.
    """
    plain = {key: item for key, item in value.items() if _is_plain(item)}
    tables: list[tuple[str, pd.DataFrame]] = []
    if plain:
        names = [label(k) for k in plain]
        tables.append(
            (caption, pd.DataFrame({"": names, "value": [format_value(v) for v in plain.values()]}))
        )
    flat = {key: item for key, item in value.items() if key not in plain and _is_flat(item)}
    for group in _similar_groups(flat):
        title = f"{caption}: {', '.join(label(k) for k in group)}"
        if len(group) == 1:
            [(_, record)] = group.items()
            frame = pd.DataFrame([{label(k): format_value(v) for k, v in record.items()}])
            tables.append((title, frame if len(record) <= MAX_COLUMNS else as_frame(record)))
        else:
            tables.append((title, record_table(group)))
    for key, item in value.items():
        if key in plain or key in flat:
            continue
        if all(_is_record(entry) for entry in item.values()):
            tables.append((f"{caption}: {label(key)}", record_table(item)))
        else:
            tables += dict_tables(item, f"{caption}: {label(key)}")
    return tables


def as_frame(value: Any) -> pd.DataFrame:
    """A flat dict as labelled name/value rows, a list as a table, a DataFrame as it is (see ``dict_tables``
    for nested dicts)."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, dict):
        return pd.DataFrame(
            {"": [label(k) for k in value], "value": [format_value(v) for v in value.values()]}
        )
    if isinstance(value, list):
        return pd.DataFrame(value)
    return pd.DataFrame({"value": [format_value(value)]})


def _metric_column(results: pd.DataFrame) -> pd.Series:
    return results["metric"].str.lower() + "@" + results["k"].astype(int).astype(str)


def _mean_std_cells(frame: pd.DataFrame) -> pd.Series:
    """'mean ± std' strings; 'n/a (no users)' where a segment had no users."""
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
    table = table[ordered].reset_index()
    table.columns.name = None
    return table


def layer_sweep_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """Layers × metrics, 'mean ± std', all users with history masked (as the main results)."""
    rows = sweep[sweep["segment"] == "all"] if "segment" in sweep else sweep
    if "history_masked" in rows:
        rows = rows[rows["history_masked"].astype(bool)]
    table = mean_std_table(rows.assign(variant=rows["n_layers"].astype(int)))
    return table.rename(columns={"variant": "ID layers used"})


def segment_table(results: pd.DataFrame, column_label: Callable[[str], str] = label) -> pd.DataFrame:
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


# Absolute paths under the usual roots of a machine's file system: what a report must not show.
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:home|root|work|tmp|Users|mnt|opt|var|srv|private)/[^\s'\"`|),;<>]*")


def without_machine_paths(text: str, root: str | Path) -> str:
    """``text`` with paths under the project ``root`` made relative to it, other absolute machine paths
    cut to the project-relative part (from a ``data/`` folder on) or else to their file name (the report is
    read on other machines)."""
    root_text = str(root).rstrip("/") + "/"
    text = text.replace(root_text, "")
    return MACHINE_PATH.sub(_portable_path, text)


def _portable_path(match: re.Match[str]) -> str:
    path = match.group(0).rstrip("/")
    _, data_folder, inside = path.rpartition("/data/")
    return f"data/{inside}" if data_folder else path.rsplit("/", 1)[-1]
