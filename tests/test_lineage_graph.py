"""The lineage graph Kedro-Viz draws: the six stages as collapsible boxes, in layer bands that form no cycle.

The data are the ones `kedro viz build` writes to ``build/api/main`` and ``build/api/pipelines/<id>``: the
build loads the project with ``kedro_viz.server.load_and_populate_data`` and serialises
``get_pipeline_response``; the test calls the same two functions in-process (no site written, no server).
Kedro-Viz drops every layer band, with a warning, when the dataset layers form a cycle along the graph.
"""

from __future__ import annotations

import logging
from itertools import pairwise

import pytest

from momorec.pipeline_registry import STAGES

# Kedro's data-engineering convention (docs.kedro.org, "data layers"), the order the bands should read.
LAYER_ORDER = [
    "raw",
    "intermediate",
    "primary",
    "feature",
    "model_input",
    "models",
    "model_output",
    "reporting",
]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def viz(repo_root):
    """Kedro-Viz's responses for every registered pipeline, and the warnings its layer sort logged."""
    from kedro_viz.api.rest.responses.pipelines import get_pipeline_response
    from kedro_viz.data_access import data_access_manager
    from kedro_viz.server import load_and_populate_data

    load_and_populate_data(repo_root, package_name="momorec")
    records = _Records()
    layer_logger = logging.getLogger("kedro_viz.services.layers")
    layer_logger.addHandler(records)
    try:
        responses = {
            pipeline_id: get_pipeline_response(pipeline_id).model_dump(mode="json")
            for pipeline_id in data_access_manager.registered_pipelines.get_pipeline_ids()
        }
    finally:
        layer_logger.removeHandler(records)
    return responses, records.messages


def test_the_layer_bands_form_no_cycle_in_any_pipeline(viz):
    responses, warnings = viz
    assert not [message for message in warnings if "circular" in message.lower()]
    # The default graph uses every layer, in Kedro's conventional order.
    assert responses["__default__"]["layers"] == LAYER_ORDER
    # Every other pipeline (alignment, scoring, …) draws its bands too. Kedro-Viz lists the layers of every
    # dataset it knows there, the ones the pipeline does not use in no particular order, so only their
    # presence is checked.
    for pipeline_id, response in responses.items():
        assert set(response["layers"]) == set(LAYER_ORDER), f"{pipeline_id}: Kedro-Viz shows no layer bands"


def test_the_default_graph_shows_the_six_stages_as_modular_pipelines(viz):
    main = viz[0]["__default__"]  # = build/api/main
    modular = main["modular_pipelines"]
    top_level = {child["id"]: child["type"] for child in modular["__root__"]["children"]}
    assert {name for name, kind in top_level.items() if kind == "modularPipeline"} == {*STAGES, "leak_canary"}
    # Every node sits in a stage: at the top level only the stage boxes and the datasets between them.
    assert "task" not in top_level.values()
    # Each stage box opens onto its own nodes.
    names = {node["id"]: node["name"] for node in main["nodes"]}
    for stage in STAGES:
        tasks = [child["id"] for child in modular[stage]["children"] if child["type"] == "task"]
        assert tasks, f"{stage} has no nodes of its own"
    assert "build_report" in {names[c["id"]] for c in modular["reporting"]["children"]}


def test_the_stages_follow_the_method_through_the_datasets_between_them(viz):
    """The top-level graph reads data_engineering → motivation → spreading → semantic_id → recommender → reporting."""
    main = viz[0]["__default__"]
    modular = main["modular_pipelines"]
    producer = {output: stage for stage in STAGES for output in modular[stage]["outputs"]}
    upstream = {stage: {producer[i] for i in modular[stage]["inputs"] if i in producer} for stage in STAGES}
    for earlier, later in pairwise(STAGES):
        assert earlier in upstream[later], f"no dataset connects {earlier} to {later}"
