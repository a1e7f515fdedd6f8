"""Base vs re-ranked test metrics per user segment (mean ± sample std over seeds), and LLM cost.

Metrics come from ``momorec.evaluation.metric_values`` over target ranks, the function every recommender
variant is measured with, so base and re-ranked numbers are comparable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from momorec.alignment.fusion import RERANK_VARIANTS, fused_scores, reranked_target_ranks
from momorec.data.problems import require_columns
from momorec.evaluation import metric_values
from momorec.io.mlflow_metrics import as_mlflow_metrics

BASE_VARIANT = "base"
RESULT_COLUMNS = ["variant", "segment", "metric", "k", "mean", "std", "n_seeds", "n_users", "fusion_weight"]
COST_COLUMNS = [
    "stage", "users", "requests", "calls", "cache_hits", "failures", "prompt_tokens", "completion_tokens",
    "llm_seconds", "wall_seconds", "requests_per_1000_users", "tokens_per_1000_users", "llm_seconds_per_1000_users",
    "wall_seconds_per_1000_users", "cost_usd",
]  # fmt: skip


def segment_masks(
    users: pd.DataFrame, user_idx: np.ndarray, cold_start_below: int = 3, rated_users: Sequence[int] = ()
) -> dict[str, np.ndarray]:
    """Masks over ``user_idx``: all, cold_start_users (< ``cold_start_below`` training items), warm_users and
    llm_rated_users (those inside the LLM compatibility budget; only when there are any)."""
    n_train = users.set_index("user_idx")["n_train_items"].reindex(user_idx)
    if n_train.isna().any():
        raise ValueError("segment_masks: some evaluated users are missing from alignment_users")
    cold = n_train.to_numpy() < cold_start_below
    masks = {"all": np.ones(len(user_idx), dtype=bool), "cold_start_users": cold, "warm_users": ~cold}
    if len(rated_users):
        masks["llm_rated_users"] = np.isin(user_idx, np.asarray(rated_users, dtype=np.int64))
    return masks


def results_table(
    ranks: Mapping[str, pd.DataFrame],
    users: pd.DataFrame,
    weights: Mapping[str, float],
    ks: Sequence[int] = (10, 20),
    cold_start_below: int = 3,
    rated_users: Sequence[int] = (),
) -> pd.DataFrame:
    """One row per (variant, segment, metric, k): mean and sample std over seeds of the per-seed means.

    ``ranks[variant]``: user_idx, seed, rank (test split only). ``weights[variant]``: its chosen λ.
    """
    rows = []
    for variant, table in ranks.items():
        if set(table.get("split", pd.Series(["test"])).unique()) - {"test"}:
            raise ValueError(f"results_table: variant {variant} has non-test rows")
        per_seed: dict[tuple[str, str, int], list[float]] = {}
        n_users: dict[str, int] = {}
        for _, seed_table in table.groupby("seed", sort=True):
            user_idx = seed_table["user_idx"].to_numpy()
            rank = seed_table["rank"].to_numpy()
            for segment, mask in segment_masks(users, user_idx, cold_start_below, rated_users).items():
                n_users[segment] = int(mask.sum())
                for (metric, k), value in metric_values(rank[mask], tuple(ks)).items():
                    per_seed.setdefault((segment, metric, k), []).append(value)
        for (segment, metric, k), values in per_seed.items():
            array = np.asarray(values, dtype=float)
            rows.append(
                {
                    "variant": variant,
                    "segment": segment,
                    "metric": metric,
                    "k": int(k),
                    "mean": float(np.mean(array)),
                    "std": float(np.std(array, ddof=1)) if len(array) > 1 else 0.0,
                    "n_seeds": len(array),
                    "n_users": n_users[segment],
                    "fusion_weight": float(weights.get(variant, np.nan)),
                }
            )
    table = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    return table.astype({"k": "int64", "n_seeds": "int64", "n_users": "int64"})


def cost_row(
    stage: str,
    usage: Mapping[str, Any],
    users: int,
    wall_seconds: float,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> dict[str, Any]:
    """LLM cost of one stage (``UsageRecorder.as_dict()``), also scaled to 1,000 evaluated users.

    ``requests`` and the tokens (when given: summed over every request, cache hits included, i.e. what a cold
    run pays) describe the work; ``calls``, ``llm_seconds`` (summed latency) and ``wall_seconds`` describe
    what this run actually spent (near zero on a warm cache).
    """
    prompt = int(usage.get("prompt_tokens", 0)) if prompt_tokens is None else int(prompt_tokens)
    completion = (
        int(usage.get("completion_tokens", 0)) if completion_tokens is None else int(completion_tokens)
    )
    llm_seconds = float(np.sum(usage.get("latencies_s", []) or [0.0]))
    scale = 1000.0 / users if users else float("nan")
    return {
        "stage": stage,
        "users": int(users),
        "requests": int(usage.get("requests", 0)),
        "calls": int(usage.get("calls", 0)),
        "cache_hits": int(usage.get("cache_hits", 0)),
        "failures": int(usage.get("failures", 0)),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "llm_seconds": llm_seconds,
        "wall_seconds": float(wall_seconds),
        "requests_per_1000_users": int(usage.get("requests", 0)) * scale,
        "tokens_per_1000_users": (prompt + completion) * scale,
        "llm_seconds_per_1000_users": llm_seconds * scale,
        "wall_seconds_per_1000_users": float(wall_seconds) * scale,
        # What this run's calls cost at the model's prices (0 embedded; NaN: a remote model without prices).
        "cost_usd": float("nan") if usage.get("cost_usd", 0.0) is None else float(usage.get("cost_usd", 0.0)),
    }


def reranking_results(
    scored_candidates: pd.DataFrame,
    test_targets: pd.DataFrame,
    fusion_weights: pd.DataFrame,
    users: pd.DataFrame,
    params: Mapping[str, Any],
) -> pd.DataFrame:
    """Base and every re-ranked variant on the test targets, per segment (``RESULT_COLUMNS`` + base_model).

    ``base_model`` (from the target table) names the recommender whose top-N was re-ranked.
    """
    require_columns(test_targets, ["base_model"], "alignment_test_targets")
    base_models = test_targets["base_model"].unique()
    if len(base_models) != 1:
        raise ValueError(f"alignment_test_targets: expected one base_model, got {list(base_models)}")
    test = scored_candidates[scored_candidates["split"] == "test"].reset_index(drop=True)
    weights = dict(zip(fusion_weights["variant"], fusion_weights["fusion_weight"].astype(float), strict=True))
    ranks = {BASE_VARIANT: test_targets[["user_idx", "seed", "rank"]]}
    for variant, column in RERANK_VARIANTS.items():
        fused = fused_scores(test, column, weights[variant], params["fusion"]["normalisation"])
        reranked = reranked_target_ranks(test, fused, test_targets)
        ranks[variant] = reranked[["user_idx", "seed", "reranked"]].rename(columns={"reranked": "rank"})
    results = results_table(
        ranks,
        users,
        weights,
        [int(k) for k in params["evaluation"]["ks"]],
        int(params["evaluation"]["cold_start_below"]),
        # Users the LLM actually rated on the test split: a budgeted user whose profile or rating failed
        # has no LLM score and would only dilute this segment.
        test.loc[test[RERANK_VARIANTS["rerank_llm"]].notna(), "user_idx"].unique(),
    )
    results.insert(0, "base_model", str(base_models[0]))
    return results


def cost_table(stage_usage: Mapping[str, Mapping[str, Any]], n_users: int) -> pd.DataFrame:
    """Calls, tokens and seconds per stage (``stage_usage``: stage → usage record) and in total
    (``COST_COLUMNS``), also per 1,000 users."""
    rows = [
        cost_row(
            stage,
            usage,
            n_users,
            usage.get("wall_seconds", 0.0),
            usage.get("request_prompt_tokens"),
            usage.get("request_completion_tokens"),
        )
        for stage, usage in stage_usage.items()
    ]
    table = pd.DataFrame(rows, columns=COST_COLUMNS)
    total = table.drop(columns="stage").sum(numeric_only=True)
    total["users"] = n_users
    total["cost_usd"] = table["cost_usd"].sum(skipna=False)  # unknown when one stage's cost is unknown
    table.loc[len(table)] = {"stage": "total", **total.to_dict()}
    return table.astype({"users": "int64", "requests": "int64", "calls": "int64", "cache_hits": "int64",
                         "failures": "int64", "prompt_tokens": "int64", "completion_tokens": "int64"})  # fmt: skip


def mlflow_metrics(results: pd.DataFrame, cost: pd.DataFrame) -> dict[str, Any]:
    """Recall/NDCG@10 per variant and segment, and the total cost per 1,000 users, as MLflow metrics."""
    chosen = results[(results["k"] == 10) & results["metric"].isin(["recall", "ndcg"])]
    values = {
        f"{row.variant}.{row.segment}.{row.metric}_at_{row.k}": float(row.mean)
        for row in chosen.itertuples(index=False)
    }
    total = cost[cost["stage"] == "total"]
    if len(total):
        for column in ("requests_per_1000_users", "tokens_per_1000_users", "wall_seconds_per_1000_users"):
            values[f"cost.{column}"] = float(total[column].iloc[0])
    return as_mlflow_metrics(values)
