"""The worked example, conf/amazon2023_example, end to end: an Amazon Reviews 2023 category and an
OpenAI-compatible endpoint, as its README tells a user to set them up.

The category's two files are written by the test (a small shop in the Amazon Reviews 2023 JSONL format, the
smoke environment's size); the endpoint is a real HTTP server in this process that speaks the OpenAI chat
API and refuses any key but the one in ``conf/local/credentials.yml``. The example's files are used as they
are, except that its ``base_url`` points at that server and its sizes are the smoke environment's, so the
run its README names (every stage but the leak canary) takes minutes.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from momorec.data.shop import META_FILENAME, REVIEWS_FILENAME, ShopSettings, generate_shop, shop_file_bytes
from momorec.llm.config import register_credentials
from momorec.llm.testing import FakeChatServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
ENV = "amazon2023_example"
API_KEY = "sk-example-endpoint-0123456789SECRET"
HOSTED_URL = "https://api.openai.com/v1"


def _project(target: Path, base_url: str) -> Path:
    shutil.copytree(REPO / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    example = target / "conf" / ENV / "parameters_llm.yml"
    text = example.read_text()
    assert text.count(HOSTED_URL) == 2  # the motivation model and the alignment endpoint
    example.write_text(text.replace(HOSTED_URL, base_url))
    local = target / "conf" / "local"
    local.mkdir()
    (local / "credentials.yml").write_text(yaml.safe_dump({"llm": {"api_key": API_KEY}}))
    (target / "src").mkdir()
    shutil.copy(REPO / "pyproject.toml", target / "pyproject.toml")
    # The category's files, where catalog_data_engineering.yml reads them.
    smoke = yaml.safe_load((REPO / "conf" / "smoke" / "globals.yml").read_text())["builtin_shop"]
    settings = ShopSettings.from_mapping(smoke)
    files = shop_file_bytes(generate_shop(settings), settings)
    raw = target / "data" / "01_raw" / ENV
    raw.mkdir(parents=True)
    (raw / "All_Beauty.jsonl.gz").write_bytes(files[REVIEWS_FILENAME])
    (raw / "meta_All_Beauty.jsonl.gz").write_bytes(files[META_FILENAME])
    return target


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """`kedro run --env amazon2023_example --pipeline without_leak_canary`, at the smoke environment's sizes."""
    project_root = tmp_path_factory.mktemp("example_project")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.delenv("MOMOREC_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    smoke_sizes = yaml.safe_load((REPO / "conf" / "smoke" / "parameters.yml").read_text())
    try:
        with FakeChatServer(expected_key=API_KEY) as server:
            project = _project(project_root, server.base_url)
            monkeypatch.chdir(project)
            bootstrap_project(project)
            configure_project("momorec")
            with KedroSession.create(project_path=project, env=ENV, runtime_params=smoke_sizes) as session:
                session.run(pipeline_names=["without_leak_canary"])  # as its README says
            yield project, list(server.requests)
    finally:
        register_credentials({})
        monkeypatch.undo()


def test_every_llm_request_went_to_the_example_endpoint_with_the_key(example_run):
    project, requests = example_run
    data = project / "data" / ENV
    usage = json.loads((data / "08_reporting" / "llm_usage.json").read_text())
    # The server refuses other keys, so every answered request carried conf/local's key; none fell back to
    # the embedded model, which would have answered without reaching the server.
    assert requests and {request["model"] for request in requests} == {"gpt-4o-mini"}
    assert usage["failures"] == 0 and usage["calls"] > 0
    assert usage["calls"] <= len(requests)  # the leak canary's calls reach the server too


def test_the_example_writes_its_outputs_report_and_champion_apart(example_run):
    project, _ = example_run
    data = project / "data" / ENV
    for relative in [
        "03_primary/items.parquet",
        "04_feature/item_motivations.parquet",
        "05_model_input/item_semantic_ids.parquet",
        "08_reporting/recommender_results.parquet",
        "08_reporting/report.md",
    ]:
        assert (data / relative).is_file(), relative
    assert not (project / "data" / "03_primary").exists()  # nothing in the default environment's folders
    with sqlite3.connect(project / "mlflow.db") as db:
        models = {name for (name,) in db.execute("select name from registered_models")}
        experiments = {name for (name,) in db.execute("select name from experiments")}
        params = dict(db.execute("select key, value from params where key like 'llm.%'").fetchall())
    assert models == {"momorec-recommender-amazon2023_example"}
    assert "momorec-amazon2023_example" in experiments and "momorec" not in experiments
    assert params["llm.arena_agents.example_llm.model"] == "gpt-4o-mini"
    assert API_KEY not in json.dumps(params)
