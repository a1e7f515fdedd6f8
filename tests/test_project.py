"""The project as a whole: pipelines registered, configuration loads in every environment."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from momorec.embeddings.settings import EncoderSettings
from momorec.pipeline_registry import FEATURE_STAGES, STAGES, register_pipelines
from tests.test_lineage_graph import LAYER_ORDER

ENVIRONMENTS = ["base", "scientific", "movielens", "amazon2023_example"]


def test_all_six_stages_are_registered_in_order():
    pipelines = register_pipelines()
    assert list(STAGES) == [
        "data_engineering",
        "motivation",
        "spreading",
        "semantic_id",
        "recommender",
        "reporting",
    ]
    assert set(pipelines) == {
        *STAGES,
        "leak_canary",
        "recommender_with_canary",
        "alignment",
        "alignment_momorec",
        "layer_sweep",
        "tuning",
        "scoring",
        "scoring_from_run",
        "without_leak_canary",
        "__default__",
    }
    default_parts = [name.replace("recommender", "recommender_with_canary") for name in STAGES]
    stage_nodes = set().union(*(set(pipelines[name].nodes) for name in [*default_parts, "leak_canary"]))
    # The same nodes by name; only the default run's report reads the canary's LLM usage (it ran in the run).
    assert {node.name for node in pipelines["__default__"].nodes} == {node.name for node in stage_nodes}
    canary_usage = {"leak_canary.arena_llm_usage", "leak_canary.top_agent_llm_usage"}
    assert canary_usage <= pipelines["__default__"].only_nodes("reporting.build_report").inputs()
    assert not canary_usage & pipelines["reporting"].inputs()
    # The explicit alignment run re-ranks and rebuilds the report with its results.
    alignment_report = pipelines["alignment"].only_nodes("reporting.build_report").nodes[0]
    assert "alignment_results" in alignment_report.inputs
    default_report = pipelines["__default__"].only_nodes("reporting.build_report").nodes[0]
    assert "alignment_results" not in default_report.inputs
    # The MoMoREC-based re-ranking reads the semantic IDs; the SASRec-based one does not.
    assert "item_semantic_ids" in pipelines["alignment_momorec"].inputs()
    assert "item_semantic_ids" not in pipelines["alignment"].inputs()


def test_each_stage_is_a_modular_pipeline_whose_datasets_keep_their_names():
    """Kedro-Viz draws a namespace as one box; the namespace renames nodes only, never datasets or params."""
    pipelines = register_pipelines()
    for name, module in STAGES.items():
        assert {node.namespace for node in pipelines[name].nodes} == {name}
        if name not in ("recommender", "reporting"):  # these two are built from the others' outputs
            assert pipelines[name].datasets() == module.create_pipeline().datasets()
    assert {node.namespace for node in pipelines["leak_canary"].nodes} == {"leak_canary"}
    default = pipelines["__default__"]
    # `kedro run --namespaces semantic_id` selects the same nodes as `kedro run --pipeline semantic_id`.
    assert set(default.only_nodes_with_namespaces(["semantic_id"]).nodes) == set(
        pipelines["semantic_id"].nodes
    )
    assert (
        "item_semantic_ids" in default.all_outputs()
        and "semantic_id.item_semantic_ids" not in default.datasets()
    )


def test_recommender_runs_on_feature_stage_outputs_without_the_canary():
    """`kedro run --pipeline recommender` needs only what the feature stages persist (not leak_canary's)."""
    pipelines = register_pipelines()
    feature_outputs = set().union(*(pipelines[name].all_outputs() for name in FEATURE_STAGES))
    data_inputs = {name for name in pipelines["recommender"].inputs() if not name.startswith("param")}
    assert data_inputs <= feature_outputs
    assert not data_inputs & pipelines["leak_canary"].all_outputs()
    canary_node = "recommender.train_and_evaluate_leak_canary"
    assert canary_node not in {n.name for n in pipelines["recommender"].nodes}
    # Every non-canary variant of the default run is in it, the new adaptor variants included.
    trained = {n.name for n in pipelines["recommender"].nodes if ".train_and_evaluate_" in n.name}
    with_canary = {n.name for n in pipelines["recommender_with_canary"].nodes if ".train_" in n.name}
    assert with_canary - trained == {canary_node}
    adaptors = {
        "recommender.train_and_evaluate_sasrec_adaptor_text",
        "recommender.train_and_evaluate_momorec_adaptor",
    }
    assert adaptors <= trained
    assert "leak_canary_item_semantic_ids" in pipelines["__default__"].all_outputs()
    assert canary_node in {n.name for n in pipelines["__default__"].nodes}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_configuration_loads_in_every_environment(repo_root, env):
    bootstrap_project(repo_root)
    configure_project("momorec")
    with KedroSession.create(project_path=repo_root, env=env) as session:
        context = session.load_context()
        catalog = context.catalog
        assert isinstance(context.params, dict)
        # Each environment's item text and encoder settings pass the check the first encoder node makes.
        EncoderSettings.from_params(context.params["spreading"]["encoder"])
        # Every dataset a pipeline reads or writes is declared in the catalog: no hidden MemoryDatasets,
        # so each intermediate can be inspected and `--pipeline <stage>` runs on persisted inputs.
        undeclared = sorted(
            name
            for name in set().union(*(p.datasets() for p in register_pipelines().values()))
            if not name.startswith("params:") and name != "parameters" and name not in catalog
        )
        assert undeclared == []


def test_mlflow_uses_an_embedded_sqlite_store_in_the_project_root(repo_root, tmp_path):
    from momorec.config_loader import ProjectConfigLoader

    # Resolved against the project root, not the working directory (a notebook kernel starts in notebooks/).
    shutil.copytree(repo_root / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    loader = ProjectConfigLoader(
        str(tmp_path / "conf"),
        base_env="base",
        default_run_env="local",
        config_patterns={"mlflow": ["mlflow*"]},
    )
    mlflow = loader["mlflow"]
    assert mlflow["server"]["mlflow_tracking_uri"] == f"sqlite:///{tmp_path.resolve().as_posix()}/mlflow.db"
    assert mlflow["tracking"]["experiment"]["name"] == "momorec"  # conf/base/globals.yml


@pytest.mark.slow
def test_kedro_viz_build_shows_every_pipeline_and_node(repo_root, tmp_path):
    """`kedro viz build` (the documented lineage command) succeeds and its site lists our nodes."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    # Build from a copy of the project's config so the test never touches the working tree's build/.
    shutil.copytree(repo_root / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    (tmp_path / "src").mkdir()  # the package itself is installed; Kedro only checks the folder exists
    shutil.copy(repo_root / "pyproject.toml", tmp_path / "pyproject.toml")
    kedro = Path(sys.executable).with_name("kedro")
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    result = subprocess.run(
        [str(kedro), "viz", "build"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "circular dependency" not in (result.stdout + result.stderr).lower()  # else no layer bands
    site = json.loads((tmp_path / "build" / "api" / "main").read_text())
    assert {p["id"] for p in site["pipelines"]} >= {*STAGES, "__default__"}
    shown = {n["name"] for n in site["nodes"]}
    # Kedro-Viz shows a namespaced node (leak_canary.x) as x inside its modular pipeline.
    registered = {n.name.rsplit(".", 1)[-1] for n in register_pipelines()["__default__"].nodes}
    assert registered <= shown


def test_every_catalog_entry_declares_its_kedro_viz_layer(repo_root):
    import yaml

    layers = set(LAYER_ORDER)
    for path in sorted((repo_root / "conf").rglob("catalog*.yml")):
        for name, entry in yaml.safe_load(path.read_text()).items():
            if name.startswith("_"):
                continue  # YAML anchors, not datasets
            layer = (entry.get("metadata") or {}).get("kedro-viz", {}).get("layer")
            assert layer in layers, f"{path.relative_to(repo_root)}: {name} has layer {layer!r}"


# Environments that are a data set of their own (dask is the default run on another runner).
DATA_ENVIRONMENTS = ["smoke", "scientific", "movielens", "shop_large", "amazon2023_example"]


def _environment_config(repo_root, env: str | None) -> tuple[dict, dict, dict]:
    from momorec.config_loader import ProjectConfigLoader

    loader = ProjectConfigLoader(
        str(repo_root / "conf"),
        base_env="base",
        default_run_env="local",
        env=env,
        merge_strategy={"parameters": "soft"},
        config_patterns={"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]},
    )
    return loader["catalog"], loader["parameters"], loader["mlflow"]


@pytest.mark.parametrize("env", DATA_ENVIRONMENTS)
def test_every_data_environment_writes_apart_from_the_default_one(repo_root, env):
    base_catalog, base_params, base_mlflow = _environment_config(repo_root, None)
    catalog, params, mlflow = _environment_config(repo_root, env)
    written = {
        name: entry.get("filepath") or entry.get("path")
        for name, entry in catalog.items()
        if isinstance(entry, dict) and (entry.get("filepath") or entry.get("path"))
    }
    # Every dataset's file is under data/<env>/, except raw inputs that make link-data puts in data/01_raw/<env>
    # and the text-embedding cache, which every environment shares on purpose: keyed by encoder and exact text,
    # a second environment on the same catalogue embeds only what is new (issue 28).
    outside = {
        name: path
        for name, path in written.items()
        if not str(path).startswith(f"data/{env}/") and not str(path).startswith(f"data/01_raw/{env}/")
    }
    assert outside == {"text_embedding_cache": "data/02_intermediate/text_embedding_cache.sqlite"}
    assert base_catalog["items"]["filepath"] == "data/03_primary/items.parquet"  # the default run's paths
    assert mlflow["tracking"]["experiment"]["name"] == f"momorec-{env}"
    assert base_mlflow["tracking"]["experiment"]["name"] == "momorec"
    model = params["recommender"]["registry"]["model_name"]
    assert model == catalog["registered_recommender"]["model_name"] == f"momorec-recommender-{env}"
    assert base_params["recommender"]["registry"]["model_name"] == "momorec-recommender"
