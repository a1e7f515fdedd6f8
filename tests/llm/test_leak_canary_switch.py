"""leak_canary.enabled: the canary calls the embedded model by default, a paid endpoint only when allowed."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset

from momorec.llm.errors import LLMConfigError
from momorec.llm.hooks import LeakCanarySwitchHook, leak_canary_refusal
from momorec.pipeline_registry import register_pipelines

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"


@pytest.fixture(scope="module")
def pipelines():
    return register_pipelines()


def _motivation(base_url: str | None) -> dict:
    params = copy.deepcopy(yaml.safe_load((CONF / "parameters_motivation.yml").read_text())["motivation"])
    params["models"]["smollm2"]["base_url"] = base_url
    return params


def _check(pipeline, motivation: dict, switch=None) -> None:
    datasets = {"params:motivation": MemoryDataset(motivation)}
    if switch is not None:
        datasets["params:leak_canary"] = MemoryDataset({"enabled": switch})
    LeakCanarySwitchHook().before_pipeline_run(
        run_params={}, pipeline=pipeline, catalog=DataCatalog(datasets)
    )


def test_the_shipped_default_is_auto():
    assert (
        yaml.safe_load((CONF / "parameters_leak_canary.yml").read_text())["leak_canary"]["enabled"] == "auto"
    )


def test_auto_lets_the_canary_call_the_embedded_model_only(pipelines):
    _check(pipelines["__default__"], _motivation(None), "auto")
    _check(pipelines["__default__"], _motivation(None))  # no leak_canary parameters: auto
    with pytest.raises(LLMConfigError, match="without_leak_canary") as refused:
        _check(pipelines["__default__"], _motivation("https://api.example.com/v1"), "auto")
    assert "leak_canary.enabled=true" in str(refused.value) and "smollm2" in str(refused.value)


def test_true_allows_a_paid_endpoint_and_false_refuses_any(pipelines):
    _check(pipelines["__default__"], _motivation("https://api.example.com/v1"), True)
    with pytest.raises(LLMConfigError, match="leak_canary.enabled is false"):
        _check(pipelines["__default__"], _motivation(None), False)


def test_runs_without_the_canary_are_never_stopped(pipelines):
    for name in ("without_leak_canary", "motivation", "alignment"):
        _check(pipelines[name], _motivation("https://api.example.com/v1"), False)
    assert not any(node.namespace == "leak_canary" for node in pipelines["without_leak_canary"].nodes)
    # Everything else of the default run is there: the honest stages, the recommender and the report.
    default_names = {node.name for node in pipelines["__default__"].nodes if node.namespace != "leak_canary"}
    without = {node.name for node in pipelines["without_leak_canary"].nodes}
    assert {name for name in default_names - without if "canary" not in name} == set()


def test_a_bad_switch_names_the_key():
    with pytest.raises(LLMConfigError, match="leak_canary.enabled must be auto, true or false"):
        leak_canary_refusal("sometimes", _motivation(None))
