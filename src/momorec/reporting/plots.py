"""Figures of the run report and the semantic-ID pipeline.

Each function returns a ``matplotlib.figure.Figure`` made without pyplot: no global figure state and no
backend chosen here, so the same code draws inline in a notebook and saves to PNG in a headless run
(saving picks the Agg canvas by file format).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from momorec.plots.training_curves import draw_training_curves


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG bytes (for inlining into the HTML report)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def plot_metric_bars(results: pd.DataFrame, metric: str = "ndcg", k: int = 10) -> Figure:
    """Bars of one metric per variant with ± std error bars (segment 'all')."""
    rows = results[
        (results["segment"] == "all") & (results["metric"].str.lower() == metric) & (results["k"] == k)
    ]
    rows = rows.sort_values("mean")
    figure = Figure(figsize=(7, 0.45 * max(len(rows), 3) + 1))
    axis = figure.subplots()
    axis.barh(rows["variant"], rows["mean"], xerr=rows["std"].fillna(0), color="#4C72B0", capsize=3)
    axis.set_xlabel(f"{metric.upper()}@{k} (mean ± std over seeds)")
    axis.set_title(f"Test {metric.upper()}@{k} per variant")
    figure.tight_layout()
    return figure


def plot_segments(
    results: pd.DataFrame,
    metric: str = "recall",
    k: int = 10,
    title: str = "Segments: long-tail vs head targets, cold-start vs other users",
) -> Figure:
    """Grouped bars: one metric per variant for each user/item segment."""
    rows = results[(results["metric"].str.lower() == metric) & (results["k"] == k)]
    pivot_mean = rows.pivot_table(index="variant", columns="segment", values="mean")
    pivot_std = rows.pivot_table(index="variant", columns="segment", values="std").reindex_like(pivot_mean)
    figure = Figure(figsize=(9, 4))
    axis = figure.subplots()
    pivot_mean.plot.bar(ax=axis, yerr=pivot_std.fillna(0), capsize=2, rot=30)
    axis.legend(title="segment", bbox_to_anchor=(1.01, 1), loc="upper left", fontsize="small")
    axis.set_ylabel(f"{metric.upper()}@{k}")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def plot_codebook_use_and_error(quality: pd.DataFrame) -> Figure:
    """Report figure: codes used / K as bars, relative reconstruction error on a second axis, per layer.

    Needs only the ``semantic_id_quality`` table (K is not known to the report, so no perplexity / K).
    """
    figure = Figure(figsize=(6, 3.5))
    axis = figure.subplots()
    layers = quality["layer"].astype(int)
    if "codes_used_fraction" in quality:
        axis.bar(layers, quality["codes_used_fraction"], color="#55A868", label="codes used / K")
    axis.set_xticks(layers)
    axis.set_xlabel("residual layer")
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("codes used / K")
    if "relative_reconstruction_error" in quality:
        twin = axis.twinx()
        twin.plot(layers, quality["relative_reconstruction_error"], "o-", color="#C44E52", label="rel. error")
        twin.set_ylabel("relative reconstruction error")
    axis.set_title("Codebook utilisation per layer")
    figure.tight_layout()
    return figure


def plot_codebook_use_perplexity_and_error(quality: pd.DataFrame, n_codes: int) -> Figure:
    """Semantic-ID artifact: codes used / K and perplexity / K as bars, reconstruction error as a line, on
    one axis (all three in [0, 1]); needs the codebook size K = ``n_codes``.
    """
    layers = quality["layer"].to_numpy()
    figure = Figure(figsize=(7, 3.5))
    axis = figure.subplots()
    width = 0.38
    axis.bar(layers - width / 2, quality["codes_used_fraction"], width, label="codes used / K")
    axis.bar(layers + width / 2, quality["perplexity"] / n_codes, width, label="perplexity / K")
    axis.plot(
        layers,
        quality["relative_reconstruction_error"],
        marker="o",
        color="black",
        label="relative reconstruction error",
    )
    axis.set_xlabel("layer")
    axis.set_xticks(layers)
    axis.set_ylim(0, 1.05)
    axis.set_title(f"Residual codebook utilisation (K = {n_codes})")
    axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    return figure


def plot_layer_sweep(sweep: pd.DataFrame, metric: str = "ndcg", k: int = 10) -> Figure:
    """Test metric against the number of semantic-ID layers used (mean ± std)."""
    rows = sweep[(sweep["metric"].str.lower() == metric) & (sweep["k"] == k)]
    if "segment" in rows:
        rows = rows[rows["segment"] == "all"]
    if "history_masked" in rows:
        rows = rows[rows["history_masked"]]
    rows = rows.sort_values("n_layers")
    figure = Figure(figsize=(6, 3.5))
    axis = figure.subplots()
    axis.errorbar(rows["n_layers"], rows["mean"], yerr=rows["std"].fillna(0), marker="o", capsize=3)
    axis.set_xlabel("semantic-ID layers used")
    axis.set_ylabel(f"{metric.upper()}@{k}")
    axis.set_title("Effect of the number of ID layers")
    figure.tight_layout()
    return figure


def plot_training_curves(curves: Mapping[str, Sequence[Mapping[str, float]]]) -> Figure:
    """Validation NDCG@10 per epoch per variant (mean over seeds, seeds faint), without pyplot."""
    figure = Figure(figsize=(8, 4.5))
    draw_training_curves(figure.subplots(), curves, "valid_ndcg_at_10")
    figure.tight_layout()
    return figure
