"""The project's pipelines, registered under the names of the method's stages."""

from kedro.pipeline import Pipeline

from momorec.pipelines import (
    data_engineering,
    motivation,
    recommender,
    reporting,
    semantic_id,
    spreading,
)

# The order of the method: pairs -> agents -> clusters/spreading -> codes -> recommender -> report.
STAGES = {
    "data_engineering": data_engineering,
    "motivation": motivation,
    "spreading": spreading,
    "semantic_id": semantic_id,
    "recommender": recommender,
    "reporting": reporting,
}


def register_pipelines() -> dict[str, Pipeline]:
    """Register every stage under its own name and all of them together as ``__default__``."""
    pipelines = {name: module.create_pipeline() for name, module in STAGES.items()}
    pipelines["__default__"] = sum(pipelines.values(), start=Pipeline([]))
    return pipelines
