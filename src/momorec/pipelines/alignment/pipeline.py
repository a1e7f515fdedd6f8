"""Wiring of the alignment pipeline (M-LLM³REC-style profiles, traits and re-ranking on top of the recommender).

Run it explicitly: ``kedro run --pipeline alignment`` (SASRec's candidates; after ``data_engineering``)
or ``kedro run --pipeline alignment_momorec`` (MoMoREC's; also after ``semantic_id``). Its LLM stages cost
minutes with the embedded model even for a few dozen users, so it is not part of the default flow.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from momorec.alignment.candidates import BASE_VARIANTS
from momorec.pipelines.alignment.nodes import (
    assemble_scored_candidates,
    build_profile_prompts,
    build_recommender_candidates,
    build_trait_prompts,
    estimate_alignment_llm_calls,
    evaluate_reranking,
    generate_item_traits,
    generate_user_profiles,
    results_to_mlflow_metrics,
    score_embedding_alignment,
    score_llm_compatibility,
    select_alignment_users,
    select_fusion_weights,
    summarise_alignment_cost,
)

CANDIDATE_OUTPUTS = ["recommender_candidates", "alignment_valid_targets", "alignment_test_targets"]


def _user_nodes() -> list[Node]:
    return [
        Node(
            select_alignment_users,
            inputs=["interactions", "params:alignment"],
            outputs=["alignment_users", "alignment_interactions", "alignment_train_interactions"],
            name="select_alignment_users",
        )
    ]


def _candidate_node(base_variant: str) -> Node:
    inputs = {
        "interactions": "alignment_interactions",
        "items": "items",
        "alignment_users": "alignment_users",
        "recommender_params": "params:recommender",
        "params": "params:alignment",
    }
    if base_variant == "momorec":  # the semantic IDs make the node's base model MoMoREC
        inputs["item_semantic_ids"] = "item_semantic_ids"
    return Node(
        build_recommender_candidates,
        inputs=inputs,
        outputs=CANDIDATE_OUTPUTS,
        name="build_recommender_candidates",
    )


def _profile_and_trait_nodes() -> list[Node]:
    return [
        # Profiles: the training prefix and item text only (never the held-out rows).
        Node(
            build_profile_prompts,
            inputs=["alignment_train_interactions", "items", "alignment_users", "params:alignment"],
            outputs="alignment_profile_prompts",
            name="build_profile_prompts",
        ),
        Node(
            generate_user_profiles,
            inputs=["alignment_profile_prompts", "alignment_llm_estimate", "llm_cache", "params:alignment"],
            outputs=["user_motivation_profiles", "alignment_profile_usage"],
            name="generate_user_profiles",
        ),
        Node(
            build_trait_prompts,
            inputs=["items", "recommender_candidates", "params:alignment"],
            outputs="alignment_trait_prompts",
            name="build_trait_prompts",
        ),
        Node(
            estimate_alignment_llm_calls,
            inputs=[
                "alignment_profile_prompts",
                "alignment_trait_prompts",
                "recommender_candidates",
                "items",
                "alignment_users",
                "llm_cache",
                "params:alignment",
            ],
            outputs="alignment_llm_estimate",
            name="estimate_alignment_llm_calls",
        ),
        Node(
            generate_item_traits,
            inputs=["alignment_trait_prompts", "alignment_llm_estimate", "llm_cache", "params:alignment"],
            outputs=["item_traits", "alignment_trait_usage"],
            name="generate_item_traits",
        ),
    ]


def _score_nodes() -> list[Node]:
    profiles_and_traits = ["recommender_candidates", "user_motivation_profiles", "item_traits"]
    return [
        Node(
            score_embedding_alignment,
            inputs=[*profiles_and_traits, "params:alignment"],
            outputs="alignment_embedding_scores",
            name="score_embedding_alignment",
        ),
        Node(
            score_llm_compatibility,
            inputs=[*profiles_and_traits, "items", "alignment_users", "llm_cache", "params:alignment"],
            outputs=["alignment_llm_scores", "alignment_llm_requests", "alignment_compatibility_usage"],
            name="score_llm_compatibility",
        ),
        Node(
            assemble_scored_candidates,
            inputs=["alignment_embedding_scores", "alignment_llm_scores", "params:alignment"],
            outputs="alignment_scored_candidates",
            name="assemble_scored_candidates",
        ),
    ]


def _fusion_and_evaluation_nodes() -> list[Node]:
    return [
        # λ from validation labels only: this node never receives alignment_test_targets.
        Node(
            select_fusion_weights,
            inputs=["alignment_scored_candidates", "alignment_valid_targets", "params:alignment"],
            outputs=["alignment_fusion_weights", "alignment_fusion_curves"],
            name="select_fusion_weights",
        ),
        Node(
            evaluate_reranking,
            inputs=[
                "alignment_scored_candidates",
                "alignment_test_targets",
                "alignment_fusion_weights",
                "alignment_users",
                "params:alignment",
            ],
            outputs="alignment_results",
            name="evaluate_reranking",
        ),
    ]


def _report_nodes() -> list[Node]:
    usages = ["alignment_profile_usage", "alignment_trait_usage", "alignment_compatibility_usage"]
    return [
        Node(
            summarise_alignment_cost,
            inputs=[*usages, "alignment_users"],
            outputs="alignment_llm_cost",
            name="summarise_alignment_cost",
        ),
        Node(
            results_to_mlflow_metrics,
            inputs=["alignment_results", "alignment_llm_cost"],
            outputs="alignment_metrics",
            name="alignment_results_to_mlflow",
        ),
    ]


def create_pipeline(base_variant: str = "sasrec", **kwargs) -> Pipeline:
    """The alignment pipeline re-ranking the candidates of ``base_variant`` (``sasrec`` or ``momorec``).

    The base model follows the wiring: with ``momorec`` the candidate node reads ``item_semantic_ids``.
    """
    if base_variant not in BASE_VARIANTS:
        raise ValueError(f"alignment base_variant must be one of {BASE_VARIANTS}, got {base_variant!r}")
    return Pipeline(
        [
            *_user_nodes(),
            _candidate_node(base_variant),
            *_profile_and_trait_nodes(),
            *_score_nodes(),
            *_fusion_and_evaluation_nodes(),
            *_report_nodes(),
        ]
    )
