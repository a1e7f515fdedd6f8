"""Batch scoring and ``momorec.recommend`` on the smoke shop, in a fresh project folder, as a user runs them.

The shop comes from the data_engineering pipeline; the recommender stage and its registration
node run in-process on the project's catalog (SASRec only: the other variants read LLM-made features);
``kedro run --pipelines scoring`` is the real CLI, started from ``notebooks/`` so the MLflow store must be
found from the project root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.runner import SequentialRunner

from momorec.pipelines import recommender, scoring

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
K = 5


def fresh_project(target: Path) -> Path:
    """The project's configuration and notebooks in ``target``; the package is the installed one."""
    shutil.copytree(REPO / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    # The README's commands name the default environment's model; here the smoke shop registers under it.
    smoke_globals = target / "conf" / "smoke" / "globals.yml"
    text = smoke_globals.read_text()
    assert "registered_model: momorec-recommender-smoke" in text
    smoke_globals.write_text(text.replace("momorec-recommender-smoke", "momorec-recommender"))
    (target / "conf" / "local").mkdir()
    (target / "src").mkdir()
    (target / "notebooks").mkdir()
    shutil.copy(REPO / "pyproject.toml", target / "pyproject.toml")
    return target


def kedro(project: Path, *arguments: str, cwd: Path | None = None) -> None:
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
    }
    command = [str(Path(sys.executable).with_name("kedro")), *arguments]
    result = subprocess.run(command, cwd=cwd or project, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def shop_project(tmp_path_factory) -> Path:
    project = fresh_project(tmp_path_factory.mktemp("scoring_project"))
    bootstrap_project(project)
    configure_project("momorec")
    previous = mlflow.get_tracking_uri()
    try:
        with KedroSession.create(project_path=project, env="smoke") as session:
            session.run(pipeline_names=["data_engineering"])
        with KedroSession.create(project_path=project, env="smoke") as session:
            context = session.load_context()  # kedro-mlflow points MLflow at the project's store here
            catalog = context.catalog
            parameters = catalog.load("params:recommender")
            catalog.save("params:recommender", {**parameters, "variants": ["sasrec"], "seeds": [0]})
            stage = recommender.create_pipeline(variants=["sasrec"]) + scoring.create_registration_pipeline()
            mlflow.set_experiment("momorec-smoke")
            with mlflow.start_run():
                SequentialRunner().run(stage, catalog)
    finally:
        mlflow.set_tracking_uri(previous)
    kedro(project, "run", "--env", "smoke", "--pipelines", "scoring", cwd=project / "notebooks")
    return project


def test_scoring_writes_k_unseen_catalogue_products_per_user(shop_project):
    data = shop_project / "data" / "smoke"
    recommendations = pd.read_parquet(data / "07_model_output" / "recommendations.parquet")
    users = pd.read_parquet(data / "03_primary" / "users.parquet")
    items = pd.read_parquet(data / "03_primary" / "items.parquet")
    interactions = pd.read_parquet(data / "03_primary" / "interactions.parquet")
    assert list(recommendations.columns) == ["user_id", "rank", "product_id", "score", "popularity_fallback"]
    # One row per (user, rank), ranks 1..k for every user of the data set.
    assert not recommendations.duplicated(["user_id", "rank"]).any()
    assert set(recommendations["user_id"]) == set(users["user_id"])
    complete = recommendations.groupby("user_id")["rank"].agg(
        lambda ranks: sorted(ranks) == list(range(1, 11))
    )
    assert complete.all()
    assert set(recommendations["product_id"]) <= set(items["item_id"])
    # Masking: nothing the user already bought (any split) is recommended.
    bought = (
        interactions[["user_idx", "item_idx"]]
        .merge(users[["user_idx", "user_id"]], on="user_idx")
        .merge(items[["item_idx", "item_id"]], on="item_idx")
    )
    overlap = recommendations.merge(
        bought, left_on=["user_id", "product_id"], right_on=["user_id", "item_id"]
    )
    assert overlap.empty
    assert recommendations.groupby("user_id")["score"].is_monotonic_decreasing.all()


def test_the_mlflow_store_is_the_project_roots_wherever_kedro_starts(shop_project):
    assert (shop_project / "mlflow.db").is_file()
    assert not (shop_project / "notebooks" / "mlflow.db").exists()


def test_scoring_from_the_run_model_matches_the_registered_model(shop_project):
    registered = pd.read_parquet(
        shop_project / "data" / "smoke" / "07_model_output" / "recommendations.parquet"
    )
    with KedroSession.create(project_path=shop_project, env="smoke") as session:
        session.run(pipeline_names=["scoring_from_run"])
    from_run = pd.read_parquet(
        shop_project / "data" / "smoke" / "07_model_output" / "recommendations.parquet"
    )
    pd.testing.assert_frame_equal(
        registered.drop(columns="score"), from_run.drop(columns="score"), check_dtype=False
    )


def test_recommend_in_python_uses_the_projects_champion(shop_project, monkeypatch):
    import momorec

    items = pd.read_parquet(shop_project / "data" / "smoke" / "03_primary" / "items.parquet")
    history = items["item_id"].iloc[:3].tolist()
    monkeypatch.chdir(shop_project / "notebooks")  # found by walking up, as from a notebook
    result = momorec.recommend(history + ["NOT-A-PRODUCT"], k=K, env="smoke")
    assert list(result.columns) == ["rank", "product_id", "title", "score"]
    assert result["rank"].tolist() == list(range(1, K + 1))
    assert not set(result["product_id"]) & set(history)
    assert set(result["product_id"]) <= set(items["item_id"])
    assert result["title"].str.len().gt(0).all()
    assert result.attrs["unknown_items"] == ["NOT-A-PRODUCT"]
    assert result.attrs["popularity_fallback"] is False


def _readme_line(prefix: str) -> str:
    (line,) = [line for line in (REPO / "README.md").read_text().splitlines() if line.startswith(prefix)]
    return line


def test_the_readme_serve_and_curl_commands_work_as_written(shop_project):
    """The README's two commands, run by bash in the project root; only the port is swapped for a free one."""
    import json
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    serve = _readme_line("MLFLOW_TRACKING_URI=").replace("5001", port)
    curl = _readme_line("curl -s ").replace("5001", port)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    log = open(shop_project / "serve.log", "w")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(["bash", "-c", serve], cwd=shop_project, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (shop_project / "serve.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, (shop_project / "serve.log").read_text()[-3000:]
                time.sleep(0.5)
        result = subprocess.run(
            ["bash", "-c", curl], cwd=shop_project, capture_output=True, text=True, timeout=60
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert result.returncode == 0, result.stderr
    (answer,) = json.loads(result.stdout)["predictions"]
    catalogue = set(
        pd.read_parquet(shop_project / "data" / "smoke" / "03_primary" / "items.parquet")["item_id"]
    )
    readme_ids = json.loads(curl.split("-d '", 1)[1].rstrip("'"))["inputs"][0]["history"]
    assert len(answer["product_ids"]) == 5 and set(answer["product_ids"]) <= catalogue
    assert all(answer["titles"])
    # The README's ids are default-shop products: unknown to the smoke shop, reported, never a failure.
    assert set(answer["unknown_items"]) == set(readme_ids) - catalogue


def test_the_readme_python_call_works_as_written(shop_project, monkeypatch):
    monkeypatch.chdir(shop_project)
    call = _readme_line("momorec.recommend(").split("#")[0]
    import momorec

    result = eval(call, {"momorec": momorec})  # noqa: S307 - the README's own line
    assert len(result) == 5 and list(result.columns) == ["rank", "product_id", "title", "score"]
