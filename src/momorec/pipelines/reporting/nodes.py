"""Turn the run's results into one report: Markdown tables, figures and a self-contained HTML page.

Every section is built from a dataset another pipeline produced. A dataset the run did not produce is
listed as missing in the report; nothing is filled in for it.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # reports are rendered headless
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# The datasets the report knows how to present, in report order, with the section title they feed.
SECTION_SOURCES: dict[str, str] = {
    "dataset_statistics": "Data set statistics (paper Table 1)",
    "validation_report": "Input validation",
    "llm_usage": "LLM usage and cost",
    "agent_leaderboard": "Judge: ELO leaderboard of the motivation agents (paper Table 8)",
    "motivation_quality": "Motivation quality against the shop's ground truth",
    "encoder_tuning_report": "Embedding model: correlations before/after tuning (paper Tables 6/9)",
    "spreading_evaluation": "Motivation clusters and spreading",
    "semantic_id_quality": "Semantic-ID quality per layer",
    "recommender_results": "Recommendation results",
    "recommender_efficiency": "Efficiency (paper Table 5)",
    "layer_sweep_results": "Number of semantic-ID layers (paper Figure 6)",
    "alignment_results": "Motivation-aware re-ranking: base vs re-ranked (M-LLM3REC-style alignment)",
    "alignment_llm_cost": "Re-ranking LLM cost per 1,000 users",
}

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
ABLATION_VARIANTS = ["momorec", "momorec_no_spreading", "momorec_no_residual", "leak_canary"]


@dataclass
class Section:
    """One part of the report: a title, some prose, optional tables and figures."""

    title: str
    text: str = ""
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


def _format_value(value: Any) -> str:
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


def _flatten(value: dict, prefix: str = "") -> list[tuple[str, Any]]:
    rows = []
    for key, item in value.items():
        name = f"{prefix}{key}"
        rows.extend(_flatten(item, f"{name}.") if isinstance(item, dict) else [(name, item)])
    return rows


def _as_frame(value: Any) -> pd.DataFrame:
    """Present a (nested) dict as name/value rows, a list as a table, a DataFrame as it is."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, dict):
        return pd.DataFrame(
            [(name, _format_value(item)) for name, item in _flatten(value)], columns=["name", "value"]
        )
    if isinstance(value, list):
        return pd.DataFrame(value)
    return pd.DataFrame({"value": [_format_value(value)]})


def _metric_column(results: pd.DataFrame) -> pd.Series:
    return results["metric"].str.lower() + "@" + results["k"].astype(int).astype(str)


def _mean_std_cells(frame: pd.DataFrame) -> pd.Series:
    """'mean ± std' strings; 'n/a' where a segment had no users."""
    cells = frame["mean"].map("{:.4f}".format) + " ± " + frame["std"].fillna(0).map("{:.4f}".format)
    return cells.where(frame["mean"].notna(), "n/a (no users)")


def _mean_std_table(results: pd.DataFrame, variants: list[str] | None = None) -> pd.DataFrame:
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


def _png_bytes(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def plot_metric_bars(results: pd.DataFrame, metric: str = "ndcg", k: int = 10) -> plt.Figure:
    """Bars of one metric per variant with ± std error bars (segment 'all')."""
    rows = results[
        (results["segment"] == "all") & (results["metric"].str.lower() == metric) & (results["k"] == k)
    ]
    rows = rows.sort_values("mean")
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(rows), 3) + 1))
    ax.barh(rows["variant"], rows["mean"], xerr=rows["std"].fillna(0), color="#4C72B0", capsize=3)
    ax.set_xlabel(f"{metric.upper()}@{k} (mean ± std over seeds)")
    ax.set_title(f"Test {metric.upper()}@{k} per variant")
    fig.tight_layout()
    return fig


def plot_segments(
    results: pd.DataFrame,
    metric: str = "recall",
    k: int = 10,
    title: str = "Segments: long-tail vs head targets, cold-start vs other users",
) -> plt.Figure:
    """Grouped bars: one metric per variant for each user/item segment."""
    rows = results[(results["metric"].str.lower() == metric) & (results["k"] == k)]
    pivot_mean = rows.pivot_table(index="variant", columns="segment", values="mean")
    pivot_std = rows.pivot_table(index="variant", columns="segment", values="std").reindex_like(pivot_mean)
    fig, ax = plt.subplots(figsize=(8, 4))
    pivot_mean.plot.bar(ax=ax, yerr=pivot_std.fillna(0), capsize=2, rot=30)
    ax.set_ylabel(f"{metric.upper()}@{k}")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_codebook_utilisation(quality: pd.DataFrame) -> plt.Figure:
    """Codes used / K and relative reconstruction error per residual layer."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    layers = quality["layer"].astype(int)
    if "codes_used_fraction" in quality:
        ax.bar(layers, quality["codes_used_fraction"], color="#55A868", label="codes used / K")
    ax.set_xlabel("residual layer")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("codes used / K")
    if "relative_reconstruction_error" in quality:
        twin = ax.twinx()
        twin.plot(layers, quality["relative_reconstruction_error"], "o-", color="#C44E52", label="rel. error")
        twin.set_ylabel("relative reconstruction error")
    ax.set_title("Codebook utilisation per layer")
    fig.tight_layout()
    return fig


def plot_layer_sweep(sweep: pd.DataFrame, metric: str = "ndcg", k: int = 10) -> plt.Figure:
    """Test metric against the number of semantic-ID layers used (mean ± std)."""
    rows = sweep[(sweep["metric"].str.lower() == metric) & (sweep["k"] == k)]
    if "segment" in rows:
        rows = rows[rows["segment"] == "all"]
    if "history_masked" in rows:
        rows = rows[rows["history_masked"]]
    rows = rows.sort_values("n_layers")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.errorbar(rows["n_layers"], rows["mean"], yerr=rows["std"].fillna(0), marker="o", capsize=3)
    ax.set_xlabel("semantic-ID layers used")
    ax.set_ylabel(f"{metric.upper()}@{k}")
    ax.set_title("Effect of the number of ID layers")
    fig.tight_layout()
    return fig


def _layer_sweep_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """Layers × metrics, 'mean ± std', all users with history masked (as the main results)."""
    rows = sweep[sweep["segment"] == "all"] if "segment" in sweep else sweep
    if "history_masked" in rows:
        rows = rows[rows["history_masked"].astype(bool)]
    table = _mean_std_table(rows.assign(variant=rows["n_layers"].astype(int)))
    return table.rename(columns={"variant": "ID layers used"})


SEGMENT_METRICS = ("ndcg@10", "recall@10")


def _segment_table(results: pd.DataFrame, column_label: Callable[[str], str] = str) -> pd.DataFrame:
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


def _alignment_table(results: pd.DataFrame) -> pd.DataFrame:
    """Re-ranking variants × (segment, NDCG/Recall@10) as 'mean ± std', with each fusion weight.

    One row per variant instead of one per variant × segment × metric × k; column names carry the number of
    users in the segment, because these runs evaluate a few users and the reader has to see how few.
    """
    users = results.groupby("segment")["n_users"].max()
    table = _segment_table(results, lambda segment: f"{segment} ({int(users[segment])} users)")
    weights = results.groupby("variant")["fusion_weight"].first().reindex(table.index)
    table.insert(0, "fusion weight (validation)", weights.map(lambda w: "n/a" if pd.isna(w) else f"{w:g}"))
    return table.reset_index()


def _recommender_sections(all_results: pd.DataFrame, figures: dict[str, plt.Figure]) -> list[Section]:
    sections = []
    # The protocol's setting (history masked) drives every table and figure; the unmasked numbers, which
    # compare with benchmarks that rank already-seen items too, get a table of their own.
    unmasked = pd.DataFrame()
    results = all_results
    if "history_masked" in all_results:
        results = all_results[all_results["history_masked"].astype(bool)]
        unmasked = all_results[~all_results["history_masked"].astype(bool)]
    overall = results[results["segment"] == "all"]
    headline = overall[overall["variant"] != "leak_canary"]
    main = Section(
        SECTION_SOURCES["recommender_results"],
        "Full ranking over all items, leave-one-out test item, the user's own history masked, mean ± std "
        f"over seeds ({int(results['n_seeds'].max()) if 'n_seeds' in results else '?'} seeds). The leak canary "
        "is excluded here: it is shown only under ablations.",
        tables=[("Main results (paper Table 2 layout)", _mean_std_table(headline))],
    )
    if not unmasked.empty:
        honest_unmasked = unmasked[(unmasked["segment"] == "all") & (unmasked["variant"] != "leak_canary")]
        main.tables.append(
            (
                "Same, history not masked (as in RecBole's default evaluation)",
                _mean_std_table(honest_unmasked),
            )
        )
    if not overall.empty:
        figures["metric_bars"] = plot_metric_bars(results)
        main.figures.append("metric_bars")
    sections.append(main)

    ablations = [v for v in ABLATION_VARIANTS if v in set(overall["variant"])]
    if len(ablations) > 1:
        sections.append(
            Section(
                "Ablations (paper Table 3)",
                "The leak canary rebuilds every interaction-derived feature from full sequences, test items "
                "included; its gap to `momorec` measures how much a leaky pipeline would overstate the method.",
                tables=[("Ablations", _mean_std_table(overall, ablations))],
            )
        )
    segments = results[results["segment"] != "all"]
    if not segments.empty:
        pivot = _segment_table(segments)
        figures["segments"] = plot_segments(results)
        sections.append(
            Section(
                "Long-tail and cold-start segments",
                "Targets are long-tail when their item had few training interactions; cold-start users have "
                "fewer training interactions than `recommender.evaluation.cold_start_below`.",
                tables=[("Segments", pivot.reset_index())],
                figures=["segments"],
            )
        )
    return sections


def build_report(**sources: Any) -> tuple[str, str, dict[str, plt.Figure]]:
    """Build the run report from whatever result datasets this run produced.

    Args:
        **sources: datasets by name (keys of ``SECTION_SOURCES``); absent ones are reported as missing.

    Returns:
        The Markdown report, the same report as one self-contained HTML page (figures inline), and the
        figures by file name (``<name>.png``) for the figures dataset.
    """
    unknown = set(sources) - set(SECTION_SOURCES)
    if unknown:
        raise ValueError(f"build_report got datasets it cannot present: {sorted(unknown)}")
    figures: dict[str, plt.Figure] = {}
    sections: list[Section] = []
    for name, title in SECTION_SOURCES.items():
        if name not in sources:
            continue
        value = sources[name]
        if name == "recommender_results" and isinstance(value, pd.DataFrame) and not value.empty:
            sections.extend(_recommender_sections(value, figures))
            continue
        section = Section(title, tables=[(title, _as_frame(value))])
        if name == "semantic_id_quality" and isinstance(value, pd.DataFrame) and "layer" in value:
            figures["codebook_utilisation"] = plot_codebook_utilisation(value)
            section.figures.append("codebook_utilisation")
        if name == "layer_sweep_results" and isinstance(value, pd.DataFrame) and "n_layers" in value:
            figures["layer_sweep"] = plot_layer_sweep(value)
            section.figures.append("layer_sweep")
            section.text = "MoMoREC re-trained with the first n semantic-ID layers; test metrics, all users."
            section.tables = [(title, _layer_sweep_table(value))]
        if name == "recommender_efficiency":
            section.text = (
                "Timed inside this run, one variant after another: other work on the machine shifts these "
                "numbers between variants. `benchmarks/bench_recommender.py` measures the semantic-ID "
                "overhead with alternating passes of both models."
            )
        if name == "alignment_results" and isinstance(value, pd.DataFrame) and "fusion_weight" in value:
            figures["alignment_segments"] = plot_segments(
                value, "ndcg", 10, title="Re-ranking: test NDCG@10 per user segment"
            )
            section.figures.append("alignment_segments")
            section.text = (
                "The recommender's top-N candidates re-scored by profile/trait embedding similarity and LLM "
                "compatibility ratings, fused with the base score; each fusion weight is chosen on validation "
                "users only (0 = the base order). Test metrics, mean ± std over seeds."
            )
            if "base_model" in value and value["base_model"].nunique() == 1:
                section.text += f" Base model re-ranked: `{value['base_model'].iloc[0]}`."
            section.tables = [(title, _alignment_table(value))]
        sections.append(section)

    missing = [f"`{name}` ({title})" for name, title in SECTION_SOURCES.items() if name not in sources]
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    markdown = _to_markdown(sections, missing, created)
    page = _to_html(sections, missing, created, figures)
    # Keys are file names: the figures dataset saves each figure under its key.
    return markdown, page, {f"{name}.png": figure for name, figure in figures.items()}


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    """Numbers as people read them (see ``_format_value``); text columns as they are."""
    return table.apply(lambda column: column.map(_format_value) if column.dtype.kind in "iuf" else column)


def _to_markdown(sections: list[Section], missing: list[str], created: str) -> str:
    lines = ["# momorec run report", "", f"Created {created}.", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        if section.text:
            lines += [section.text, ""]
        for caption, table in section.tables:
            if len(section.tables) > 1 or caption != section.title:
                lines += [f"**{caption}**", ""]
            lines += [
                _readable(table).to_markdown(index=False, disable_numparse=True)
                if not table.empty
                else "_(empty)_",
                "",
            ]
        lines += [f"![{name}](figures/{name}.png)" for name in section.figures]
        if section.figures:
            lines.append("")
    lines += ["## Missing from this run", ""]
    lines += [f"- {item}: not produced by the pipelines of this run" for item in missing] or ["- nothing"]
    return "\n".join(lines) + "\n"


def _to_html(
    sections: list[Section], missing: list[str], created: str, figures: dict[str, plt.Figure]
) -> str:
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}"
        "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}"
        "img{max-width:100%}"
    )
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>momorec run report</title>"
        f"<style>{style}</style></head><body><h1>momorec run report</h1><p>Created {created}.</p>"
    ]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.text:
            parts.append(f"<p>{html.escape(section.text)}</p>")
        for caption, table in section.tables:
            if caption != section.title:
                parts.append(f"<h3>{html.escape(caption)}</h3>")
            parts.append(
                _readable(table).to_html(index=False, border=0)
                if not table.empty
                else "<p><em>(empty)</em></p>"
            )
        for name in section.figures:
            encoded = base64.b64encode(_png_bytes(figures[name])).decode("ascii")
            parts.append(f"<p><img alt='{name}' src='data:image/png;base64,{encoded}'></p>")
    parts.append("<h2>Missing from this run</h2><ul>")
    parts += [
        f"<li>{html.escape(item)}: not produced by the pipelines of this run</li>" for item in missing
    ] or ["<li>nothing</li>"]
    parts.append("</ul></body></html>")
    return "\n".join(parts)
