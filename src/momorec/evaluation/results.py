"""The recommender's results tables: per-seed metric rows of every variant -> mean ± std over seeds.

The per-seed rows are kept too (``recommender_results_per_seed``): a paired comparison of two variants on
the same seeds (``evaluation.headline.paired_difference``) needs them, not the means.
"""

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
PER_SEED_COLUMNS = [
    "variant",
    "seed",
    "segment",
    "metric",
    "k",
    "value",
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


def _ran_or_error(outcomes: tuple[dict, ...]) -> list[dict]:
    ran = ran_outcomes(outcomes)
    if not ran:
        raise ValueError(
            "no recommender variant ran: params:recommender.variants selects none of the pipeline's"
        )
    return ran


def per_seed_results(*outcomes: dict) -> pd.DataFrame:
    """``recommender_results_per_seed``: every test metric row of every variant and seed (columns
    :data:`PER_SEED_COLUMNS`), the numbers ``summarise_results`` averages."""
    ran = _ran_or_error(outcomes)
    per_seed = pd.DataFrame(
        [{**row, "variant": o["variant"], "is_canary": o["is_canary"]} for o in ran for row in o["rows"]]
    )
    per_seed["seed"] = per_seed["seed"].astype("int64")
    per_seed["k"] = per_seed["k"].astype("int64")
    return per_seed[PER_SEED_COLUMNS]


def summarise_results(*outcomes: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``recommender_results`` (mean ± sample std over seeds) and ``recommender_efficiency`` tables."""
    ran = _ran_or_error(outcomes)
    per_seed = per_seed_results(*ran)
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
