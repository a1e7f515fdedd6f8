"""The recommender's results tables: per-seed metric rows of every variant -> mean ± std over seeds."""

from __future__ import annotations

import pandas as pd

RESULT_COLUMNS = [
    "variant",
    "segment",
    "metric",
    "k",
    "mean",
    "std",
    "n_seeds",
    "history_masked",
    "is_canary",
    "n_users",
]
EFFICIENCY_COLUMNS = [
    "variant",
    "parameters",
    "inference_seconds_per_1000_users",
    "train_seconds_per_epoch",
    "loss",
    "is_canary",
]


def ran_outcomes(outcomes: tuple[dict, ...]) -> list[dict]:
    """The variant outcomes that ran (a variant switched off in the parameters returns ``skipped``)."""
    return [o for o in outcomes if not o.get("skipped")]


def summarise_results(*outcomes: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``recommender_results`` (mean ± sample std over seeds) and ``recommender_efficiency`` tables."""
    ran = ran_outcomes(outcomes)
    if not ran:
        raise ValueError(
            "no recommender variant ran: params:recommender.variants selects none of the pipeline's"
        )
    per_seed = pd.DataFrame(
        [{**row, "variant": o["variant"], "is_canary": o["is_canary"]} for o in ran for row in o["rows"]]
    )
    keys = ["variant", "is_canary", "history_masked", "segment", "metric", "k"]
    results = (
        per_seed.groupby(keys, sort=False)
        .agg(
            mean=("value", "mean"),
            std=("value", lambda v: float(v.std(ddof=1)) if len(v) > 1 else 0.0),
            n_seeds=("seed", "nunique"),
            n_users=("n_users", "first"),
        )
        .reset_index()
    )
    results["k"] = results["k"].astype("int64")
    results["n_seeds"] = results["n_seeds"].astype("int64")
    efficiency = pd.DataFrame(
        [
            {
                "variant": o["variant"],
                "parameters": int(o["parameters"]),
                "inference_seconds_per_1000_users": float(o["inference_seconds_per_1000_users"]),
                "train_seconds_per_epoch": float(o["train_seconds_per_epoch"]),
                "loss": o.get("loss", "none"),
                "is_canary": o["is_canary"],
            }
            for o in ran
        ],
        columns=EFFICIENCY_COLUMNS,
    )
    return results[RESULT_COLUMNS], efficiency
