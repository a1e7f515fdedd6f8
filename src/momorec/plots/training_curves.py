"""Validation NDCG@10 per epoch, one line per recommender variant (mean over seeds, seeds faint).

Input: the ``recommender_training_curves`` mapping (``"<variant>.seed_<s>.<metric>" -> [{"value", "step"}]``,
step = epoch) that the recommender pipeline logs to MLflow, or the same read back from an MLflow run with
:func:`curves_from_mlflow_run`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

CURVE_PREFIX = "recommender_curve"


def curves_table(curves: Mapping[str, Sequence[Mapping[str, float]]], metric: str) -> pd.DataFrame:
    """Long table variant, seed, epoch, value of ``metric`` (e.g. ``valid_ndcg_at_10``)."""
    rows = [
        {"variant": variant, "seed": seed.removeprefix("seed_"), "epoch": int(p["step"]), "value": p["value"]}
        for key, points in curves.items()
        for variant, seed, name in [key.rsplit(".", 2)]
        if name == metric
        for p in points
    ]
    return pd.DataFrame(rows, columns=["variant", "seed", "epoch", "value"])


def draw_training_curves(
    axes, curves: Mapping[str, Sequence[Mapping[str, float]]], metric: str = "valid_ndcg_at_10"
) -> None:
    """Draw ``metric`` per epoch per variant on matplotlib ``axes``; an empty mapping is an error."""
    table = curves_table(curves, metric)
    if table.empty:
        raise ValueError(f"no '{metric}' curve in the training curves (keys: {sorted(curves)[:5]} …)")
    for variant, points in table.groupby("variant", sort=True):
        mean = points.groupby("epoch")["value"].mean()
        (line,) = axes.plot(mean.index, mean.to_numpy(), marker="o", label=variant)
        for _, seed_points in points.groupby("seed"):
            axes.plot(seed_points["epoch"], seed_points["value"], color=line.get_color(), alpha=0.25, lw=1)
    axes.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole numbers
    axes.set_xlabel("epoch")
    axes.set_ylabel(metric.replace("_at_", "@").replace("_", " "))
    axes.set_title(f"{metric.replace('_at_', '@')} per epoch (mean over seeds; seeds faint)")
    axes.legend(fontsize="small")


def plot_training_curves(
    curves: Mapping[str, Sequence[Mapping[str, float]]], metric: str = "valid_ndcg_at_10"
):
    """A pyplot figure (shown inline in a notebook) of ``metric`` per epoch per variant; an empty mapping is
    an error. The run report draws the same with :func:`draw_training_curves` on a pyplot-free figure."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    try:
        draw_training_curves(axes, curves, metric)
    except ValueError:
        plt.close(figure)
        raise
    figure.tight_layout()
    return figure


def curves_from_mlflow_run(
    client, run_id: str, prefix: str = CURVE_PREFIX
) -> dict[str, list[dict[str, float]]]:
    """The training curves of an MLflow run (the metrics logged under ``prefix``), prefix removed."""
    keys = [key for key in client.get_run(run_id).data.metrics if key.startswith(prefix + ".")]
    return {
        key.removeprefix(prefix + "."): [
            {"value": m.value, "step": m.step} for m in client.get_metric_history(run_id, key)
        ]
        for key in keys
    }
