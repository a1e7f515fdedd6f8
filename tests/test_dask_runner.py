"""Kedro on Dask: data_engineering → motivation → spreading → semantic_id of the smoke shop, run by
``momorec.runner.DaskRunner`` on a ``LocalCluster`` of 2 worker processes, writes the same outputs as the
sequential run.

The agents talk to the project's scripted OpenAI-compatible server on 127.0.0.1 (``momorec.llm.testing``),
not the embedded model, so the test needs no model start. The sequential run fills the LLM cache; the Dask
run re-uses it and must make no call (the cache, an SQLite file, is shared storage like every dataset).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from momorec.llm.testing import FakeChatServer
from momorec.runner import DaskRunner

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
STAGES = ["data_engineering", "motivation", "spreading", "semantic_id"]
ENV = "dask_smoke"
# Written by both runs but legitimately different: the LLM usage and the estimate count calls and cache hits
# (the Dask run makes no call); the report and its description of the registered model's run carry the run's
# id, times and wall time.
RUN_SPECIFIC = ("llm_usage", "llm_estimate", "/report.", "/report_training_run.")


def _project(target: Path) -> Path:
    """A fresh project whose environment is conf/smoke (the tiny shop) plus conf/dask (shared-storage catalog)."""
    shutil.copytree(REPO / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    environment = target / "conf" / ENV
    shutil.copytree(REPO / "conf" / "smoke", environment)
    for path in (REPO / "conf" / "dask").glob("*.yml"):
        shutil.copy(path, environment / path.name)
    (target / "src").mkdir()
    shutil.copy(REPO / "pyproject.toml", target / "pyproject.toml")
    return target


def _run(project: Path, base_url: str, runner=None) -> None:
    bootstrap_project(project)
    configure_project("momorec")
    endpoint = {"base_url": base_url, "require_api_key": False}  # the fake server takes no key
    runtime_params = {"motivation": {"models": {"smollm2": endpoint}}}
    with KedroSession.create(project_path=project, env=ENV, runtime_params=runtime_params) as session:
        session.run(pipeline_names=STAGES, runner=runner)


def _outputs(data: Path) -> dict[str, Path]:
    """The files the stages write (the generated shop and the LLM cache, with its SQLite WAL files, are not)."""
    return {
        path.relative_to(data).as_posix(): path
        for path in sorted(data.rglob("*"))
        if path.is_file() and "01_raw" not in path.parts and not path.name.startswith("llm_cache.sqlite")
    }


def _content(path: Path):
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".json":
        return json.loads(path.read_text())
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    return path.read_bytes()


def _same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b) and list(a.dtypes) == list(b.dtypes)
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Sequential run, then the Dask run in the same project after every output was deleted."""
    project = _project(tmp_path_factory.mktemp("dask_project"))
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(project)  # the MLflow store is sqlite:///mlflow.db, relative to the working directory
    try:
        with FakeChatServer() as server:
            _run(project, server.base_url)
            data = project / "data" / "smoke"  # the copied conf/smoke/globals.yml: data_root
            sequential = {name: _content(path) for name, path in _outputs(data).items()}
            calls_before = len(server.requests)
            for path in _outputs(data).values():
                path.unlink()
            _run(project, server.base_url, DaskRunner(n_workers=2))
            dask = {name: _content(path) for name, path in _outputs(data).items()}
            yield sequential, dask, len(server.requests) - calls_before
    finally:
        monkeypatch.undo()


def test_the_dask_run_writes_every_output_of_the_sequential_run_identically(runs):
    sequential, dask, _ = runs
    assert "05_model_input/item_semantic_ids.parquet" in sequential
    assert "04_feature/item_motivations.parquet" in sequential
    assert sorted(dask) == sorted(sequential)
    compared = [name for name in sequential if not any(part in name for part in RUN_SPECIFIC)]
    different = [name for name in compared if not _same(sequential[name], dask[name])]
    assert not different, different
    assert len(compared) >= 15


def test_the_dask_run_answers_every_llm_request_from_the_shared_cache(runs):
    sequential, dask, calls = runs
    assert calls == 0
    assert sequential["08_reporting/llm_usage.json"]["calls"] > 0
    assert dask["08_reporting/llm_usage.json"]["calls"] == 0
    assert dask["08_reporting/llm_usage.json"]["cache_hits"] > 0


def test_an_in_memory_dataset_between_two_nodes_is_refused(tmp_path):
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.pipeline import Pipeline, node

    pipeline = Pipeline(
        [node(_same_value, "a", "between", name="first"), node(_same_value, "between", "c", name="second")]
    )
    catalog = DataCatalog({"a": MemoryDataset(1)})
    with pytest.raises(ValueError, match=r"\['between'\] are in-memory"):
        DaskRunner(n_workers=1).run(pipeline, catalog)
    with pytest.raises(ValueError, match="n_workers"):
        DaskRunner(n_workers=0)


def _same_value(value):
    return value
