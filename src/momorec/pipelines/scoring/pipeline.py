"""Wiring of the scoring pipeline.

``create_registration_pipeline``: the best recommender -> the registry (part of the recommender stage).
``create_pipeline``: ``recommendations`` (and ``scoring_report``: users scored, left out, on the popularity
fallback) for every user (or ``params:scoring.user_ids``) from the model the
registry's alias points at (``model_source="registry"``, the ``scoring`` pipeline) or from the last run's
``recommender_best_model`` (``model_source="run"``, the ``scoring_from_run`` pipeline).
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from momorec.pipelines.scoring.nodes import (
    recommend_with_registered_model,
    recommend_with_run_model,
    register_recommender,
)

MODEL_SOURCES = ("registry", "run")


def create_registration_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                register_recommender,
                inputs=[
                    "recommender_best_model",
                    "recommender_best_model_info",
                    "items",
                    "item_stats",
                    "recommender_results",
                    "params:recommender",
                    "params:scoring",
                ],
                outputs="recommender_registry_entry",
                name="register_recommender",
            )
        ]
    )


def create_pipeline(model_source: str = "registry", **kwargs) -> Pipeline:
    if model_source == "registry":
        node = Node(
            recommend_with_registered_model,
            inputs=["registered_recommender", "interactions", "users", "items", "params:scoring"],
            outputs=["recommendations", "scoring_report"],
            name="recommend_with_registered_model",
        )
    elif model_source == "run":
        node = Node(
            recommend_with_run_model,
            inputs=[
                "recommender_best_model",
                "recommender_best_model_info",
                "items",
                "item_stats",
                "interactions",
                "users",
                "params:scoring",
            ],
            outputs=["recommendations", "scoring_report"],
            name="recommend_with_run_model",
        )
    else:
        raise ValueError(f"model_source must be one of {MODEL_SOURCES}, got {model_source!r}")
    return Pipeline([node])
