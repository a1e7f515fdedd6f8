"""The whole flow, as a user runs it, on the tiny `smoke` environment in a fresh project folder.

One module-scoped run feeds several checks: every stage's outputs and the report exist, MLflow holds the
run's parameters, metrics, artifacts and the registered model, a re-run makes no LLM call, and the
exploration notebook executes against the run's catalog.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

pytestmark = [pytest.mark.slow, pytest.mark.llm]

REPO = Path(__file__).resolve().parents[1]


def _fresh_project(target: Path) -> Path:
    shutil.copytree(REPO / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    (target / "src").mkdir()
    shutil.copy(REPO / "pyproject.toml", target / "pyproject.toml")
    shutil.copytree(REPO / "notebooks", target / "notebooks")
    return target


def _run(project: Path, **kwargs) -> None:
    bootstrap_project(project)
    configure_project("momorec")
    with KedroSession.create(project_path=project, env="smoke") as session:
        session.run(**kwargs)


@pytest.fixture(scope="module")
def smoke_project(tmp_path_factory) -> Path:
    project = _fresh_project(tmp_path_factory.mktemp("smoke_project"))
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(project)  # the MLflow store is sqlite:///mlflow.db, relative to the working directory
    try:
        _run(project)
        yield project
    finally:
        monkeypatch.undo()


def test_every_stage_wrote_its_outputs_and_the_report(smoke_project):
    data = smoke_project / "data" / "smoke"
    for path in [
        "03_primary/interactions.parquet",
        "04_feature/copurchase_pairs.parquet",
        "04_feature/item_motivations.parquet",
        "04_feature/item_motivation_assignment.parquet",
        "05_model_input/item_semantic_ids.parquet",
        "05_model_input/leak_canary_item_semantic_ids.parquet",
        "05_model_input/oracle_item_semantic_ids.parquet",
        "07_model_output/semantic_id_table.parquet",
        "08_reporting/recommender_results.parquet",
        "08_reporting/report.md",
        "08_reporting/report.html",
    ]:
        assert (data / path).is_file(), path
    report = (data / "08_reporting" / "report.md").read_text()
    for title in [
        "Data set statistics",
        "Judges: leaderboards of the motivation agents",
        "Semantic-ID quality per layer",
        "Main results",
        "Ablations",
    ]:
        assert title in report, title
    # The smoke shop has ground truth: the oracle variant trains and is shown under ablations only.
    assert "momorec_oracle" in report.split("## Ablations")[1]
    assert "momorec_oracle" not in report.split("## Ablations")[0].split("Main results")[1]
    assert (data / "08_reporting" / "figures" / "metric_bars.png").is_file()
    # The report opens with its summary, which names the variant and version the run registered, and shows
    # the training curves.
    assert report.split("\n## ")[1].startswith("Summary")
    entry = json.loads((data / "07_model_output" / "recommender_registry_entry.json").read_text())
    assert (
        f"**Registered model**: `{entry['variant']}`, MLflow model `{entry['registered_model_name']}` "
        f"version {entry['version']}"
    ) in report
    assert (data / "08_reporting" / "figures" / "training_curves.png").is_file()


def test_mlflow_run_holds_parameters_metrics_artifacts_and_the_registered_model(smoke_project):
    with sqlite3.connect(smoke_project / "mlflow.db") as db:
        (experiment_id,) = db.execute(
            "select experiment_id from experiments where name = 'momorec-smoke'"
        ).fetchone()
        runs = db.execute(
            "select run_uuid, artifact_uri from runs where experiment_id = ?", (experiment_id,)
        ).fetchall()
        assert runs
        run_id, artifact_uri = runs[0]
        params = {k for (k,) in db.execute("select key from params where run_uuid = ?", (run_id,))}
        metrics = {k for (k,) in db.execute("select key from metrics where run_uuid = ?", (run_id,))}
        models = {n for (n,) in db.execute("select name from registered_models")}
    assert any(key.startswith("data_engineering.") for key in params)
    assert any(key.startswith("recommender.") for key in params)
    assert any(key.startswith("data.") for key in metrics), sorted(metrics)[:20]
    assert any(key.startswith("llm") for key in metrics), sorted(metrics)[:20]
    assert "momorec-recommender-smoke" in models  # conf/smoke/globals.yml: apart from the default run's
    artifacts = Path(artifact_uri.removeprefix("file://"))
    logged = {p.relative_to(artifacts).as_posix() for p in artifacts.rglob("*") if p.is_file()}
    assert "report/report.md" in logged and "report/report.html" in logged
    assert any("codebook" in name for name in logged), sorted(logged)


def test_a_second_run_makes_no_llm_call(smoke_project):
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(smoke_project)
    try:
        _run(smoke_project, pipeline_name="motivation")
    finally:
        monkeypatch.undo()
    usage = json.loads((smoke_project / "data" / "smoke" / "08_reporting" / "llm_usage.json").read_text())
    assert usage["calls"] == 0
    assert usage["cache_hits"] > 0


def test_the_exploration_notebook_runs_against_the_catalog(smoke_project):
    import nbformat
    from nbclient import NotebookClient

    notebook_path = smoke_project / "notebooks" / "explore_run.ipynb"
    notebook = nbformat.read(notebook_path, as_version=4)
    # As `kedro jupyter notebook --env smoke` starts it: the smoke run's datasets and champion.
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("KEDRO_ENV", "smoke")
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook_path.parent)}},
    ).execute()
    monkeypatch.undo()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("semantic_id" in json.dumps(o) for o in outputs)
    # Every plot cell renders (no backend forced at import), the training curves included.
    plot_cells = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and (".plot" in cell.source or "plot_training_curves(" in cell.source)
    ]
    assert len(plot_cells) >= 3
    for cell in plot_cells:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source[:80]
    # The champion's recommendations are shown, and the kernel used the project's MLflow store.
    assert any(
        cell.cell_type == "code" and "momorec.recommend" in cell.source and cell.get("outputs")
        for cell in notebook.cells
    )
    assert not (smoke_project / "notebooks" / "mlflow.db").exists()
