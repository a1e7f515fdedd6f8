"""Wiring of the tuning pipeline: one search node per variant (like the recommender's), then one table.

It is not part of the default run (each trial trains a model): ``kedro run --pipeline tuning``. Which
variants are searched: ``params:tuning.variants``; the others return at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from momorec.data.sequences import build_user_sequences
from momorec.models.variants import VARIANT_SPECS, evaluation_only, variant_inputs
from momorec.pipelines.tuning.nodes import collect_tuning, tune_variant_with_inputs


def _search_node(variant: str) -> Node:
    func = partial(tune_variant_with_inputs, variant=variant)
    update_wrapper(func, tune_variant_with_inputs)
    return Node(
        func,
        inputs=[
            "recommender_user_sequences",
            *variant_inputs(variant),
            "params:recommender",
            "params:tuning",
        ],
        outputs=f"tuning_outcome_{variant}",
        name=f"tune_{variant}",
    )


def create_pipeline(variants: Iterable[str] | None = None, **kwargs) -> Pipeline:
    """The searches for ``variants`` (default: every variant that may be registered: never the canary or the
    oracle, whose settings would be chosen for a model that is evaluation only, nor most popular)."""
    variants = [
        v
        for v in (VARIANT_SPECS if variants is None else variants)
        if not evaluation_only(v) and VARIANT_SPECS[v]["model"] != "most_popular"  # nothing to tune there
    ]
    outcomes = [f"tuning_outcome_{variant}" for variant in variants]
    return Pipeline(
        [
            Node(
                build_user_sequences,
                inputs=["interactions", "items"],
                outputs="recommender_user_sequences",
                name="build_recommender_user_sequences",
            ),
            *(_search_node(variant) for variant in variants),
            Node(
                collect_tuning,
                inputs=outcomes,
                outputs=["tuning_trials", "tuned_variant_settings"],
                name="collect_tuning",
            ),
        ]
    )
