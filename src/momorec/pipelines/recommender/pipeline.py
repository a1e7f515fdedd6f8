"""Wiring of the recommender pipeline: one training/evaluation node per variant, then results and registry.

Which variants exist in the graph: ``create_pipeline(variants=[...])``. The project's registry passes the
variants whose input dataset some pipeline produces (``leak_canary_item_semantic_ids`` comes from the
``leak_canary`` pipeline, for example). Which of them train: ``params:recommender.variants``; a node whose
variant is not listed returns a "skipped" outcome at once and is left out of every table.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from momorec.data.sequences import build_user_sequences
from momorec.evaluation.results import per_seed_results, summarise_results
from momorec.models.registry import register_best_model
from momorec.models.variants import VARIANT_SPECS, variant_inputs
from momorec.pipelines.recommender.nodes import (
    results_to_mlflow_metrics,
    train_and_evaluate_variant_with_inputs,
    training_curves,
)


def _variant_node(variant: str) -> Node:
    func = partial(train_and_evaluate_variant_with_inputs, variant=variant)
    update_wrapper(func, train_and_evaluate_variant_with_inputs)
    inputs = ["recommender_user_sequences", "item_stats", *variant_inputs(variant)]
    return Node(
        func,
        inputs=[*inputs, "params:recommender"],
        outputs=f"recommender_outcome_{variant}",
        name=f"train_and_evaluate_{variant}",
        tags=[f"recommender_variant_{variant}"],
    )


def create_pipeline(variants: Iterable[str] | None = None, **kwargs) -> Pipeline:
    """The recommender pipeline for ``variants`` (default: every variant of ``VARIANT_SPECS``)."""
    variants = list(VARIANT_SPECS) if variants is None else list(variants)
    unknown = sorted(set(variants) - set(VARIANT_SPECS))
    if unknown or not variants:
        raise ValueError(f"recommender variants {unknown or '[]'} invalid; known: {sorted(VARIANT_SPECS)}")
    outcomes = [f"recommender_outcome_{variant}" for variant in variants]
    all_tags = [f"recommender_variant_{variant}" for variant in variants]
    return Pipeline(
        [
            Node(
                build_user_sequences,
                inputs=["interactions", "items"],
                outputs="recommender_user_sequences",
                name="build_recommender_user_sequences",
                tags=all_tags,
            ),
            *(_variant_node(variant) for variant in variants),
            Node(
                summarise_results,
                inputs=outcomes,
                outputs=["recommender_results", "recommender_efficiency"],
                name="summarise_recommender_results",
                tags=all_tags,
            ),
            Node(
                per_seed_results,
                inputs=outcomes,
                outputs="recommender_results_per_seed",
                name="recommender_results_per_seed",
                tags=all_tags,
            ),
            Node(
                results_to_mlflow_metrics,
                inputs="recommender_results",
                outputs="recommender_metrics",
                name="recommender_results_to_mlflow",
                tags=all_tags,
            ),
            Node(
                training_curves,
                inputs=outcomes,
                outputs="recommender_training_curves",
                name="recommender_training_curves",
                tags=all_tags,
            ),
            Node(
                register_best_model,
                inputs=["params:recommender", *outcomes],
                outputs=["recommender_best_model", "recommender_best_model_info"],
                name="register_best_recommender",
                tags=all_tags,
            ),
        ]
    )
