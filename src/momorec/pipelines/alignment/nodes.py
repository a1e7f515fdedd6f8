"""Nodes of the alignment pipeline: users → candidates → profiles / traits → alignment scores → λ → results.

Thin adapters around ``momorec.alignment``. Leakage: profiles read the training prefix only
(``alignment_train_interactions``, never the held-out rows); the fusion weight is chosen from
``alignment_valid_targets`` only; the test targets (``alignment_test_targets``) are read by the final
evaluation node alone.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import torch

from momorec.alignment.candidates import build_candidates, train_base_model
from momorec.alignment.cold_start import truncate_training_prefixes
from momorec.alignment.compatibility import candidate_descriptions, compatibility_requests, rate_candidates
from momorec.alignment.estimate import alignment_estimate
from momorec.alignment.evaluation import cost_table, mlflow_metrics, reranking_results
from momorec.alignment.fusion import RERANK_VARIANTS, combined_alignment_scores, select_variant_weights
from momorec.alignment.llm_setup import run_llm_stage, stage_llm, stage_plan
from momorec.alignment.profiles import generate_profiles, ok_texts, profile_prompts
from momorec.alignment.similarity import embedding_alignment_scores
from momorec.alignment.traits import generate_traits, trait_prompts
from momorec.alignment.users import sample_users, users_table
from momorec.data.problems import require_columns
from momorec.data.sequences import build_user_sequences
from momorec.data.splits import select_train_interactions
from momorec.embeddings import load_encoder
from momorec.llm import LLMCache
from momorec.llm.estimate import log_estimate, stop_if_dry_run
from momorec.llm.tokens import with_titles_cut
from momorec.models.variants import variant_params

logger = logging.getLogger(__name__)

__all__ = ["RERANK_VARIANTS"]  # re-exported: the variants this pipeline reports


# ---------------------------------------------------------------------------------------------- users
def select_alignment_users(
    interactions: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The evaluated users, and the interaction tables the rest of the pipeline reads.

    Users: those with a validation and a test target, a seeded sample of ``users.max_users``
    (``momorec.alignment.users``). With ``users.cold_start_history = n`` the sampled users keep only their
    last n training items (``momorec.alignment.cold_start``), everywhere downstream: base-model training,
    candidate inputs and profile prompts.

    Returns ``alignment_users`` (user_idx, n_train_items, is_cold_start, llm_rated),
    ``alignment_interactions`` and ``alignment_train_interactions`` (its training prefix).
    """
    chosen, n_eligible = sample_users(interactions, params["users"])
    keep_last = params["users"].get("cold_start_history")
    if keep_last is not None:
        interactions = truncate_training_prefixes(interactions, chosen, int(keep_last))
    train_interactions = select_train_interactions(interactions)
    users = users_table(chosen, train_interactions, params)
    logger.info(
        "alignment: %d of %d eligible users (%d cold-start%s, %d within the LLM rating budget)",
        len(users), n_eligible, int(users["is_cold_start"].sum()),
        "" if keep_last is None else f", histories cut to the last {int(keep_last)} training items",
        int(users["llm_rated"].sum()),
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

    The base model is SASRec, or MoMoREC when ``item_semantic_ids`` is given (``alignment_momorec``).
    Returns ``recommender_candidates`` (user_idx, split, seed, item_idx, score, rank), and the target ranks
    split in two datasets (``alignment_valid_targets``, ``alignment_test_targets``) so that the fusion-weight
    node can be given the validation labels alone.
    """
    candidate_params = params["candidates"]
    torch.set_num_threads(int(recommender_params.get("runtime", {}).get("num_threads", 2)))
    overrides = dict(candidate_params.get("training_overrides") or {})
    base_variant = "sasrec" if item_semantic_ids is None else "momorec"
    # The base model's own settings (recommender.variant_settings), then the alignment's training bounds.
    recommender_params = variant_params(recommender_params, base_variant)
    recommender_params = {**recommender_params, "training": {**recommender_params["training"], **overrides}}
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
        mask_history=bool(recommender_params.get("mask_history", True)),
        chunk_size=int(recommender_params.get("evaluation", {}).get("chunk_size", 1024)),
        rank_max_k=max(int(k) for k in params["evaluation"]["ks"]),
    )
    # The target tables name the model whose lists are re-ranked, so the results can say it.
    targets = targets.assign(base_model=base_variant)
    valid = targets[targets["split"] == "valid"].reset_index(drop=True)
    test = targets[targets["split"] == "test"].reset_index(drop=True)
    return candidates, valid, test


# ---------------------------------------------------------------------------------------------- LLM stages
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


def estimate_alignment_llm_calls(
    profile_prompts_table: pd.DataFrame,
    trait_prompts_table: pd.DataFrame,
    recommender_candidates: pd.DataFrame,
    items: pd.DataFrame,
    alignment_users: pd.DataFrame,
    llm_cache: LLMCache,
    params: dict[str, Any],
) -> dict[str, Any]:
    """The LLM stages' calls, tokens and cost before their first request (a dry run stops after it)."""
    estimate = alignment_estimate(
        profile_prompts_table,
        trait_prompts_table,
        recommender_candidates,
        with_titles_cut(items, params.get("max_title_tokens")),
        alignment_users,
        params,
        llm_cache,
    )
    log_estimate("alignment", estimate, "alignment_llm_estimate")
    return estimate


def generate_user_profiles(
    profile_prompts_table: pd.DataFrame,
    alignment_llm_estimate: dict[str, Any],
    llm_cache: LLMCache,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``user_motivation_profiles`` (validated; failures recorded with their reason) and the stage's usage."""
    stop_if_dry_run("alignment", params, alignment_llm_estimate, "alignment_llm_estimate")
    plan = stage_plan(params, "profiles")
    return run_llm_stage(
        "profiles",
        stage_llm(params),
        llm_cache,
        lambda client: generate_profiles(client, profile_prompts_table, plan),
    )


def build_trait_prompts(
    items: pd.DataFrame, recommender_candidates: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """The trait request of every item that appears as a candidate (and of no other item)."""
    require_columns(recommender_candidates, ["item_idx"], "recommender_candidates")
    return trait_prompts(
        with_titles_cut(items, params.get("max_title_tokens")),
        recommender_candidates["item_idx"].unique(),
        int(params["traits"]["description_chars"]),
    )


def generate_item_traits(
    trait_prompts_table: pd.DataFrame,
    alignment_llm_estimate: dict[str, Any],
    llm_cache: LLMCache,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``item_traits`` (validated; failures recorded) and the stage's usage."""
    stop_if_dry_run("alignment", params, alignment_llm_estimate, "alignment_llm_estimate")
    plan = stage_plan(params, "traits")
    return run_llm_stage(
        "traits",
        stage_llm(params),
        llm_cache,
        lambda client: generate_traits(client, trait_prompts_table, plan),
    )


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
    requests = compatibility_requests(
        recommender_candidates,
        ok_texts(user_motivation_profiles, "user_idx", "profile_text"),
        candidate_descriptions(with_titles_cut(items, params.get("max_title_tokens")), item_traits),
        alignment_users.loc[alignment_users["llm_rated"], "user_idx"].to_numpy(),
    )
    plan = stage_plan(params, "compatibility")
    (ratings, log), usage = run_llm_stage(
        "compatibility", stage_llm(params), llm_cache, lambda client: rate_candidates(client, requests, plan)
    )
    return ratings, log, usage


def assemble_scored_candidates(
    embedding_scored_candidates: pd.DataFrame, llm_ratings: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """One table: recommender score, embedding score, LLM score and their combination per candidate."""
    return combined_alignment_scores(
        embedding_scored_candidates, llm_ratings, params["fusion"]["normalisation"]
    )


# ---------------------------------------------------------------------------------------------- fusion
def select_fusion_weights(
    scored_candidates: pd.DataFrame, alignment_valid_targets: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """λ per re-ranking variant from the grid, on validation users only; the chosen weights and the curves."""
    valid = scored_candidates[scored_candidates["split"] == "valid"].reset_index(drop=True)
    return select_variant_weights(valid, alignment_valid_targets, RERANK_VARIANTS, params["fusion"])


# ---------------------------------------------------------------------------------------------- evaluation
# ``alignment_results``: base and every re-ranked variant on the test targets, per segment. The domain
# function is the node as it is; it is the only node that receives ``alignment_test_targets``.
evaluate_reranking = reranking_results


def summarise_alignment_cost(
    profile_usage: dict[str, Any],
    trait_usage: dict[str, Any],
    compatibility_usage: dict[str, Any],
    alignment_users: pd.DataFrame,
) -> pd.DataFrame:
    """``alignment_llm_cost``: calls, tokens and seconds per stage and in total, also per 1,000 users."""
    stages = {"profiles": profile_usage, "traits": trait_usage, "compatibility": compatibility_usage}
    return cost_table(stages, len(alignment_users))


def results_to_mlflow_metrics(
    alignment_results: pd.DataFrame, alignment_llm_cost: pd.DataFrame
) -> dict[str, Any]:
    """Recall/NDCG@10 per variant and segment, and the total cost per 1,000 users, as MLflow metrics."""
    return mlflow_metrics(alignment_results, alignment_llm_cost)
