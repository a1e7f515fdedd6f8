"""Environments keep their outputs apart: `--env smoke` never touches the default run's files or champion.

The default environment's earlier run is stood in for by files at its data root and a champion registered in
the project's MLflow store; the smoke environment then runs as a user runs it (a Kedro session: the data
stage, SASRec and the registration node, on the smoke shop), and everything of the default environment is
compared byte for byte and version for version.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import pytest
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.runner import SequentialRunner
from mlflow import MlflowClient

from momorec.pipelines import recommender, scoring
from momorec.serving.api import project_registry_model

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BASE_MODEL = "momorec-recommender"
# Files a default run writes (conf/base/catalog_*.yml, data_root `data`), with stand-in contents.
BASE_OUTPUTS = {
    "01_raw/shop/manifest.json": b'{"n_users": 5500}',
    "03_primary/items.parquet": b"the default shop's items",
    "02_intermediate/llm_cache.sqlite": b"the default run's LLM cache",
    "07_model_output/recommender_registry_entry.json": b'{"variant": "momorec"}',
    "08_reporting/report.md": b"# the default run's report",
}


def _project(target: Path) -> Path:
    shutil.copytree(REPO / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    (target / "src").mkdir()
    shutil.copy(REPO / "pyproject.toml", target / "pyproject.toml")
    for relative, content in BASE_OUTPUTS.items():
        path = target / "data" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return target


def _register_base_champion(uri: str, project: Path) -> int:
    client = MlflowClient(uri)
    client.create_registered_model(BASE_MODEL)
    source = project / "mlruns" / "base-model"
    source.mkdir(parents=True)
    version = client.create_model_version(BASE_MODEL, source.as_uri()).version
    client.set_registered_model_alias(BASE_MODEL, "champion", version)
    return int(version)


def _run_smoke_and_register(project: Path) -> None:
    """`kedro run --env smoke --pipeline data_engineering`, then SASRec and the registration node."""
    with KedroSession.create(project_path=project, env="smoke") as session:
        session.run(pipeline_names=["data_engineering"])
    with KedroSession.create(project_path=project, env="smoke") as session:
        context = session.load_context()
        catalog = context.catalog
        parameters = catalog.load("params:recommender")
        catalog.save("params:recommender", {**parameters, "variants": ["sasrec"], "seeds": [0]})
        stage = recommender.create_pipeline(variants=["sasrec"]) + scoring.create_registration_pipeline()
        experiment = context.config_loader["mlflow"]["tracking"]["experiment"]["name"]
        mlflow.set_experiment(experiment)
        with mlflow.start_run():
            SequentialRunner().run(stage, catalog)


def test_a_smoke_run_leaves_the_default_environments_outputs_and_champion_untouched(tmp_path, monkeypatch):
    project = _project(tmp_path)
    monkeypatch.chdir(project)
    bootstrap_project(project)
    configure_project("momorec")
    uri = f"sqlite:///{(project / 'mlflow.db').as_posix()}"
    previous = mlflow.get_tracking_uri()
    try:
        base_version = _register_base_champion(uri, project)
        _run_smoke_and_register(project)
    finally:
        mlflow.set_tracking_uri(previous)

    data = project / "data"
    # Every default-environment file is as it was, and nothing new was written outside data/smoke.
    for relative, content in BASE_OUTPUTS.items():
        assert (data / relative).read_bytes() == content, relative
    outside = {
        p.relative_to(data).as_posix()
        for p in data.rglob("*")
        if p.is_file() and p.relative_to(data).parts[0] != "smoke"
    }
    assert outside == set(BASE_OUTPUTS)
    assert (data / "smoke" / "03_primary" / "items.parquet").is_file()
    assert (data / "smoke" / "07_model_output" / "recommender_registry_entry.json").is_file()

    client = MlflowClient(uri)
    assert int(client.get_model_version_by_alias(BASE_MODEL, "champion").version) == base_version
    assert len(client.search_model_versions(f"name='{BASE_MODEL}'")) == 1
    smoke_champion = client.get_model_version_by_alias(f"{BASE_MODEL}-smoke", "champion")
    run_experiment = client.get_run(smoke_champion.run_id).info.experiment_id
    assert client.get_experiment(run_experiment).name == "momorec-smoke"
    assert client.get_experiment_by_name("momorec") is None  # the default run's experiment: never written

    # momorec.recommend / scoring read the champion of the environment they are asked for.
    assert project_registry_model(project).model_name == BASE_MODEL
    assert project_registry_model(project, env="smoke").model_name == f"{BASE_MODEL}-smoke"
    monkeypatch.setenv("KEDRO_ENV", "smoke")  # as `kedro jupyter notebook --env smoke` sets it
    assert project_registry_model(project).model_name == f"{BASE_MODEL}-smoke"
