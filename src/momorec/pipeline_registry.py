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
    pipelines = {name: module.create_pipeline() for name, module in STAGES.items() if name != "reporting"}
    # The report presents what the other stages produce; anything they don't is listed as missing.
    produced = set().union(*(p.all_outputs() for p in pipelines.values()))
    pipelines["reporting"] = reporting.create_pipeline(available=produced)
    pipelines["__default__"] = sum(pipelines.values(), start=Pipeline([]))
    return pipelines
