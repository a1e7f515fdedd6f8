"""Wiring of the recommender pipeline: one training/evaluation node per variant, then results and registry.

Switching variants off:
- ``params:recommender.variants`` lists the variants that train; a node whose variant is not listed returns
  a "skipped" outcome at once and is left out of every table. This is the everyday switch.
- Kedro still loads the input dataset of a switched-off variant (e.g. ``leak_canary_item_semantic_ids``).
  When that dataset is neither produced in the run nor on disk, leave the variant's node out of the graph:
  ``create_pipeline(variants=[...])`` (for a registry entry), or from the command line
  ``MOMOREC_RECOMMENDER_VARIANTS=sasrec,most_popular kedro run --pipeline recommender`` (the graph is fixed
  when pipelines are registered, before parameters are read, hence an environment variable).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from momorec.pipelines.recommender.nodes import (
    VARIANT_SPECS,
    build_user_sequences,
    register_best_model,
    results_to_mlflow_metrics,
    summarise_results,
    train_and_evaluate_variant,
    train_and_evaluate_variant_without_input,
    training_curves,
)

VARIANTS_ENVIRONMENT_VARIABLE = "MOMOREC_RECOMMENDER_VARIANTS"


def _variant_node(variant: str) -> Node:
    spec = VARIANT_SPECS[variant]
    inputs = ["recommender_user_sequences", "item_stats"]
    if spec["input"] is None:
        func = partial(train_and_evaluate_variant_without_input, variant=variant)
        update_wrapper(func, train_and_evaluate_variant_without_input)
    else:
        func = partial(train_and_evaluate_variant, variant=variant)
        update_wrapper(func, train_and_evaluate_variant)
        inputs.append(spec["input"])
    return Node(
        func,
        inputs=[*inputs, "params:recommender"],
        outputs=f"recommender_outcome_{variant}",
        name=f"train_and_evaluate_{variant}",
        tags=[f"recommender_variant_{variant}"],
    )


def create_pipeline(variants: Iterable[str] | None = None, **kwargs) -> Pipeline:
    """The recommender pipeline for ``variants`` (default: every variant of ``VARIANT_SPECS``).

    ``MOMOREC_RECOMMENDER_VARIANTS`` (comma-separated), when set, keeps only the variants it names.
    """
    variants = list(VARIANT_SPECS) if variants is None else list(variants)
    from_environment = os.environ.get(VARIANTS_ENVIRONMENT_VARIABLE, "").strip()
    if from_environment:
        wanted = [v.strip() for v in from_environment.split(",") if v.strip()]
        unknown = sorted(set(wanted) - set(VARIANT_SPECS))
        if unknown:
            raise ValueError(f"{VARIANTS_ENVIRONMENT_VARIABLE}: unknown variant(s) {unknown}")
        variants = [v for v in variants if v in wanted]
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
