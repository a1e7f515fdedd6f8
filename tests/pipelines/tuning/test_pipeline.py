"""The tuning pipeline on an in-memory catalog: searches the named variants, writes an adoptable settings file."""

from __future__ import annotations

import copy

import pytest

from momorec.models.variants import variant_params
from momorec.pipelines.tuning import create_pipeline
from tests.pipelines.recommender.conftest import TINY_PARAMETERS, recommender_inputs, run_in_memory

TUNING = {
    "variants": ["sasrec", "sasrec_adaptor_text"],
    "trials": 2,
    "space": {
        "model": {"dropout": {"low": 0.0, "high": 0.4}},
        "training": {"learning_rate": {"choices": [0.01, 0.02]}},
    },
}


def _run(tuning):
    pipeline = create_pipeline(
        variants=["sasrec", "sasrec_adaptor_text", "momorec", "leak_canary", "most_popular"]
    )
    inputs = recommender_inputs()
    needed = pipeline.inputs() - {"params:recommender", "params:tuning"}
    data = {name: inputs[name] for name in needed}
    data["params:tuning"] = tuning
    return pipeline, run_in_memory(pipeline, data, copy.deepcopy(TINY_PARAMETERS))


def test_the_named_variants_are_searched_and_their_best_settings_adoptable():
    pipeline, outputs = _run(TUNING)
    assert not any(node.name.endswith(("leak_canary", "most_popular")) for node in pipeline.nodes)
    trials = outputs["tuning_trials"]
    assert trials.groupby("variant").size().to_dict() == {"sasrec": 2, "sasrec_adaptor_text": 2}
    settings = outputs["tuned_variant_settings"]
    assert set(settings["recommender"]["variant_settings"]) == {"sasrec", "sasrec_adaptor_text"}
    params = {**TINY_PARAMETERS, **settings["recommender"]}
    assert variant_params(params, "sasrec")["training"]["learning_rate"] in (0.01, 0.02)


def test_a_tuning_that_names_no_variant_of_the_pipeline_fails():
    with pytest.raises(Exception, match="names no variant"):
        _run({**TUNING, "variants": ["most_popular"]})
