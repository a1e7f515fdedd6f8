"""Nodes of the alignment pipeline: users → candidates → profiles / traits → alignment scores → λ → results.

Leakage: profiles read the training prefix only (``alignment_train_interactions``, never the held-out rows); the fusion weight is chosen from
``alignment_valid_targets`` only; the test targets (``alignment_test_targets``) are read by the final
evaluation node alone.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from momorec.alignment.candidates import build_candidates, train_base_model
from momorec.alignment.cold_start import truncate_training_prefixes
from momorec.alignment.compatibility import compatibility_requests, rate_candidates
from momorec.alignment.evaluation import COST_COLUMNS, cost_row, results_table
from momorec.alignment.fusion import (
    fused_scores,
    normalise_per_list,
    reranked_target_ranks,
    select_fusion_weight,
)
from momorec.alignment.llm_setup import build_client
from momorec.alignment.profiles import (
    PROFILE_ITEM_FIELDS,
    generate_profiles,
    item_lines,
    ok_texts,
    profile_prompts,
    sampling_plan,
)
from momorec.alignment.similarity import embedding_alignment_scores
from momorec.alignment.traits import generate_traits, trait_prompts
from momorec.embeddings import load_encoder
from momorec.llm import LLMCache
from momorec.llm.tokens import with_titles_cut
from momorec.pipelines.data_engineering.nodes import select_train_interactions
from momorec.pipelines.recommender.nodes import build_user_sequences

logger = logging.getLogger(__name__)

BASE_VARIANT = "base"
# Re-ranking variants and the alignment score each fuses with the recommender score.
RERANK_VARIANTS = {
    "rerank_embedding": "embedding_score",
    "rerank_llm": "llm_score",
    "rerank_embedding_llm": "embedding_llm_score",
}
PROMPT_SALT = "alignment-v2"  # bump when a prompt changes meaning, so cached answers are not reused


def _require(frame: pd.DataFrame, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; found {list(frame.columns)}")


# ---------------------------------------------------------------------------------------------- users
def select_alignment_users(
    interactions: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The evaluated users, and the interaction tables the rest of the pipeline reads.

    Users: those with a validation and a test target, a seeded sample of ``users.max_users``. Only which
    users *have* held-out rows is read, not which items they are. With ``users.cold_start_history = n`` the
    sampled users keep only their last n training items (``momorec.alignment.cold_start``), everywhere
    downstream: base-model training, candidate inputs and profile prompts.

    Returns ``alignment_users`` (user_idx, n_train_items, is_cold_start, llm_rated: inside the LLM rating
    budget, the first ``compatibility.max_users`` of the sample), ``alignment_interactions`` and
    ``alignment_train_interactions`` (its training prefix).
    """
    _require(interactions, "interactions", ["user_idx", "item_idx", "position", "split"])
    split = interactions["split"].astype(str)
    eligible = np.intersect1d(
        interactions.loc[split == "valid", "user_idx"].to_numpy().astype(np.int64),
        interactions.loc[split == "test", "user_idx"].to_numpy().astype(np.int64),
    )  # sorted, unique
    rng = np.random.default_rng(int(params["users"]["seed"]))
    order = rng.permutation(len(eligible))
    max_users = params["users"].get("max_users")
    chosen = eligible[order[: len(order) if max_users is None else int(max_users)]]
    keep_last = params["users"].get("cold_start_history")
    if keep_last is not None:
        interactions = truncate_training_prefixes(interactions, chosen, int(keep_last))
    train_interactions = select_train_interactions(interactions)
    counts = train_interactions.groupby("user_idx").size().reindex(chosen, fill_value=0).to_numpy()
    budget = params["compatibility"].get("max_users")
    n_rated = len(chosen) if budget is None else min(int(budget), len(chosen))
    if not params["compatibility"].get("enabled", True):
        n_rated = 0
    users = pd.DataFrame(
        {
            "user_idx": chosen,
            "n_train_items": counts.astype(np.int64),
            "is_cold_start": counts < int(params["evaluation"]["cold_start_below"]),
            "llm_rated": np.arange(len(chosen)) < n_rated,
        }
    )
    logger.info(
        "alignment: %d of %d eligible users (%d cold-start%s, %d within the LLM rating budget)",
        len(users), len(eligible), int(users["is_cold_start"].sum()),
        "" if keep_last is None else f", histories cut to the last {int(keep_last)} training items", n_rated,
    )  # fmt: skip
    return users, interactions, train_interactions


# ---------------------------------------------------------------------------------------------- candidates
def build_recommender_candidates(
    interactions: pd.DataFrame,
    items: pd.DataFrame,
    alignment_users: pd.DataFrame,
    recommender_params: dict[str, Any],
    params: dict[str, Any],
    item_semantic_ids: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train the base model once per seed (recommender parameters) and list each user's top-N candidates.

    Returns ``recommender_candidates`` (user_idx, split, seed, item_idx, score, rank), and the target ranks
    split in two datasets (``alignment_valid_targets``, ``alignment_test_targets``) so that the fusion-weight
    node can be given the validation labels alone.
    """
    candidate_params = params["candidates"]
    torch.set_num_threads(int(recommender_params.get("runtime", {}).get("num_threads", 2)))
    overrides = dict(candidate_params.get("training_overrides") or {})
    recommender_params = {**recommender_params, "training": {**recommender_params["training"], **overrides}}
    base_variant = "sasrec" if item_semantic_ids is None else "momorec"
    logger.info("alignment: training the %s base model for seeds %s", base_variant, list(params["seeds"]))
    data = build_user_sequences(interactions, items)  # the recommender pipeline's own, with its checks
    models = {
        int(seed): train_base_model(data, recommender_params, int(seed), base_variant, item_semantic_ids)
        for seed in params["seeds"]
    }
    candidates, targets = build_candidates(
        models,
        data,
        alignment_users["user_idx"].to_numpy(),
        int(candidate_params["n_candidates"]),
        int(recommender_params["model"]["max_length"]),
        bool(recommender_params.get("mask_history", True)),
        int(recommender_params.get("evaluation", {}).get("chunk_size", 1024)),
        max(int(k) for k in params["evaluation"]["ks"]),
    )
    # The target tables name the model whose lists are re-ranked, so the results can say it.
    targets = targets.assign(base_model=base_variant)
    valid = targets[targets["split"] == "valid"].reset_index(drop=True)
    test = targets[targets["split"] == "test"].reset_index(drop=True)
    return candidates, valid, test


def build_recommender_candidates_with_semantic_ids(
    interactions: pd.DataFrame,
    items: pd.DataFrame,
    alignment_users: pd.DataFrame,
    item_semantic_ids: pd.DataFrame,
    recommender_params: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`build_recommender_candidates` for the MoMoREC base model (reads ``item_semantic_ids``)."""
    return build_recommender_candidates(
        interactions, items, alignment_users, recommender_params, params, item_semantic_ids
    )


# ---------------------------------------------------------------------------------------------- profiles
def build_profile_prompts(
    train_interactions: pd.DataFrame,
    items: pd.DataFrame,
    alignment_users: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """The profile request of every evaluated user, from the training prefix and item text only."""
    return profile_prompts(
        train_interactions,
        with_titles_cut(items, params.get("max_title_tokens")),
        alignment_users["user_idx"].to_numpy(),
        int(params["profiles"]["max_history_items"]),
    )


def _usage_record(client, wall_seconds: float, results: pd.DataFrame) -> dict[str, Any]:
    return {
        **client.usage.as_dict(),
        "wall_seconds": float(wall_seconds),
        "request_prompt_tokens": int(results["prompt_tokens"].sum()) if len(results) else 0,
        "request_completion_tokens": int(results["completion_tokens"].sum()) if len(results) else 0,
    }


def generate_user_profiles(
    profile_prompts_table: pd.DataFrame, llm_cache: LLMCache, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``user_motivation_profiles`` (validated; failures recorded with their reason) and the stage's usage."""
    plan = sampling_plan(params["profiles"], salt=f"{PROMPT_SALT}|profile")
    with build_client(params["llm"], "alignment_profiles", llm_cache) as client:
        profiles, seconds = generate_profiles(client, profile_prompts_table, plan)
        usage = _usage_record(client, seconds, profiles)
    failed = int((profiles["status"] != "ok").sum())
    logger.info("alignment profiles: %d ok, %d failed after retries", len(profiles) - failed, failed)
    return profiles, usage


# ---------------------------------------------------------------------------------------------- traits
def build_trait_prompts(
    items: pd.DataFrame, recommender_candidates: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """The trait request of every item that appears as a candidate (and of no other item)."""
    _require(recommender_candidates, "recommender_candidates", ["item_idx"])
    return trait_prompts(
        with_titles_cut(items, params.get("max_title_tokens")),
        recommender_candidates["item_idx"].unique(),
        int(params["traits"]["description_chars"]),
    )


def generate_item_traits(
    trait_prompts_table: pd.DataFrame, llm_cache: LLMCache, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``item_traits`` (validated; failures recorded) and the stage's usage."""
    plan = sampling_plan(params["traits"], salt=f"{PROMPT_SALT}|traits")
    with build_client(params["llm"], "alignment_traits", llm_cache) as client:
        traits, seconds = generate_traits(client, trait_prompts_table, plan)
        usage = _usage_record(client, seconds, traits)
    failed = int((traits["status"] != "ok").sum())
    logger.info("alignment traits: %d ok, %d failed after retries", len(traits) - failed, failed)
    return traits, usage


# ---------------------------------------------------------------------------------------------- scores
def score_embedding_alignment(
    recommender_candidates: pd.DataFrame,
    user_motivation_profiles: pd.DataFrame,
    item_traits: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Candidates with ``embedding_score`` = cosine(profile text, trait text); NaN where either failed."""
    encoder = load_encoder(params["embedding"]["model"])
    scores = embedding_alignment_scores(
        recommender_candidates,
        ok_texts(user_motivation_profiles, "user_idx", "profile_text"),
        ok_texts(item_traits, "item_idx", "traits_text"),
        encoder,
        int(params["embedding"]["batch_size"]),
    )
    return recommender_candidates.assign(embedding_score=scores)


def score_llm_compatibility(
    recommender_candidates: pd.DataFrame,
    user_motivation_profiles: pd.DataFrame,
    item_traits: pd.DataFrame,
    items: pd.DataFrame,
    alignment_users: pd.DataFrame,
    llm_cache: LLMCache,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """LLM ratings of the budgeted users' candidates, the request log and the stage's usage."""
    rated_users = alignment_users.loc[alignment_users["llm_rated"], "user_idx"].to_numpy()
    titles = item_lines(with_titles_cut(items, params.get("max_title_tokens")), fields=PROFILE_ITEM_FIELDS)
    traits = pd.Series(ok_texts(item_traits, "item_idx", "traits_text"), dtype="string")
    descriptions = titles.astype("string")
    with_traits = descriptions.index.isin(traits.index)
    descriptions[with_traits] = (
        descriptions[with_traits] + " — " + traits.reindex(descriptions.index[with_traits])
    )
    requests = compatibility_requests(
        recommender_candidates,
        ok_texts(user_motivation_profiles, "user_idx", "profile_text"),
        descriptions.astype(str),
        rated_users,
    )
    plan = sampling_plan(params["compatibility"], salt=f"{PROMPT_SALT}|compatibility")
    with build_client(params["llm"], "alignment_compatibility", llm_cache) as client:
        ratings, log, seconds = rate_candidates(client, requests, plan)
        usage = _usage_record(client, seconds, log)
    failed = int((log["status"] != "ok").sum()) if len(log) else 0
    logger.info("alignment compatibility: %d rated lists, %d failed after retries", len(log) - failed, failed)
    return ratings, log, usage


def assemble_scored_candidates(
    embedding_scored_candidates: pd.DataFrame, llm_ratings: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """One table: recommender score, embedding score, LLM score and their combination per candidate.

    ``embedding_llm_score`` is the mean of the two scores after per-list normalisation (only one of them
    when the other is missing, NaN when both are).
    """
    keys = ["user_idx", "split", "seed", "item_idx"]
    table = embedding_scored_candidates.merge(
        llm_ratings[[*keys, "llm_score"]].astype(
            {"user_idx": np.int64, "seed": np.int64, "item_idx": np.int64}
        ),
        on=keys,
        how="left",
    )
    method = params["fusion"]["normalisation"]
    both = np.vstack(
        [normalise_per_list(table, "embedding_score", method), normalise_per_list(table, "llm_score", method)]
    )
    with np.errstate(all="ignore"):
        counts = np.sum(~np.isnan(both), axis=0)
        table["embedding_llm_score"] = np.where(
            counts > 0, np.nansum(both, axis=0) / np.maximum(counts, 1), np.nan
        )
    return table


# ---------------------------------------------------------------------------------------------- fusion
def select_fusion_weights(
    scored_candidates: pd.DataFrame, alignment_valid_targets: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """λ per re-ranking variant from the grid, on validation users only; the chosen weights and the curves."""
    valid = scored_candidates[scored_candidates["split"] == "valid"].reset_index(drop=True)
    fusion = params["fusion"]
    chosen, curves = [], []
    for variant, column in RERANK_VARIANTS.items():
        weight, curve = select_fusion_weight(
            valid,
            alignment_valid_targets,
            column,
            fusion["weight_grid"],
            fusion["normalisation"],
            fusion["selection_metric"],
            int(fusion["selection_k"]),
        )
        chosen.append(
            {"variant": variant, "fusion_weight": weight, "valid_value": float(curve["value"].max())}
        )
        curves.append(curve.assign(variant=variant))
        logger.info("alignment %s: λ = %.2f on validation", variant, weight)
    curve_table = pd.concat(curves, ignore_index=True)[["variant", "weight", "value"]]
    return pd.DataFrame(chosen), curve_table


# ---------------------------------------------------------------------------------------------- evaluation
def evaluate_reranking(
    scored_candidates: pd.DataFrame,
    alignment_test_targets: pd.DataFrame,
    fusion_weights: pd.DataFrame,
    alignment_users: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """``alignment_results``: base and every re-ranked variant on the test targets, per segment.

    ``base_model`` (from the target table) names the recommender whose top-N was re-ranked.
    """
    _require(alignment_test_targets, "alignment_test_targets", ["base_model"])
    base_models = alignment_test_targets["base_model"].unique()
    if len(base_models) != 1:
        raise ValueError(f"alignment_test_targets: expected one base_model, got {list(base_models)}")
    test = scored_candidates[scored_candidates["split"] == "test"].reset_index(drop=True)
    weights = dict(zip(fusion_weights["variant"], fusion_weights["fusion_weight"].astype(float), strict=True))
    ranks = {BASE_VARIANT: alignment_test_targets[["user_idx", "seed", "rank"]]}
    for variant, column in RERANK_VARIANTS.items():
        fused = fused_scores(test, column, weights[variant], params["fusion"]["normalisation"])
        reranked = reranked_target_ranks(test, fused, alignment_test_targets)
        ranks[variant] = reranked[["user_idx", "seed", "reranked"]].rename(columns={"reranked": "rank"})
    results = results_table(
        ranks,
        alignment_users,
        weights,
        [int(k) for k in params["evaluation"]["ks"]],
        int(params["evaluation"]["cold_start_below"]),
        # Users the LLM actually rated on the test split: a budgeted user whose profile or rating failed
        # has no LLM score and would only dilute this segment.
        test.loc[test[RERANK_VARIANTS["rerank_llm"]].notna(), "user_idx"].unique(),
    )
    results.insert(0, "base_model", str(base_models[0]))
    return results


def summarise_alignment_cost(
    profile_usage: dict[str, Any],
    trait_usage: dict[str, Any],
    compatibility_usage: dict[str, Any],
    alignment_users: pd.DataFrame,
) -> pd.DataFrame:
    """``alignment_llm_cost``: calls, tokens and seconds per stage and in total, also per 1,000 users."""
    n_users = len(alignment_users)
    rows = []
    for stage, usage in (
        ("profiles", profile_usage),
        ("traits", trait_usage),
        ("compatibility", compatibility_usage),
    ):
        rows.append(
            cost_row(
                stage,
                usage,
                n_users,
                usage.get("wall_seconds", 0.0),
                usage.get("request_prompt_tokens"),
                usage.get("request_completion_tokens"),
            )
        )
    table = pd.DataFrame(rows, columns=COST_COLUMNS)
    total = table.drop(columns="stage").sum(numeric_only=True)
    total["users"] = n_users
    table.loc[len(table)] = {"stage": "total", **total.to_dict()}
    return table.astype({"users": "int64", "requests": "int64", "calls": "int64", "cache_hits": "int64",
                         "failures": "int64", "prompt_tokens": "int64", "completion_tokens": "int64"})  # fmt: skip


def results_to_mlflow_metrics(
    alignment_results: pd.DataFrame, alignment_llm_cost: pd.DataFrame
) -> dict[str, Any]:
    """Recall/NDCG@10 per variant and segment, and the total cost per 1,000 users, as MLflow metrics."""
    metrics: dict[str, Any] = {}
    chosen = alignment_results[
        (alignment_results["k"] == 10) & alignment_results["metric"].isin(["recall", "ndcg"])
    ]
    for row in chosen.itertuples(index=False):
        if np.isfinite(row.mean):
            metrics[f"{row.variant}.{row.segment}.{row.metric}_at_{row.k}"] = {
                "value": float(row.mean),
                "step": 0,
            }
    total = alignment_llm_cost[alignment_llm_cost["stage"] == "total"]
    for column in ("requests_per_1000_users", "tokens_per_1000_users", "wall_seconds_per_1000_users"):
        if len(total) and np.isfinite(total[column].iloc[0]):
            metrics[f"cost.{column}"] = {"value": float(total[column].iloc[0]), "step": 0}
    return metrics
