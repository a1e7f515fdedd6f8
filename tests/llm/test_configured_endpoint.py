"""An endpoint configured the documented way is the one called, under any environment; without its key the run
stops before anything runs, saying where keys go.

Each case is a real Kedro session (hooks, config loader, catalog, kedro-mlflow with the project's own SQLite
store) of the `smoke` environment in a fresh project folder, against a real OpenAI-compatible HTTP server in
this process (``momorec.llm.testing``) that refuses any other key. The documented way
(docs/configuration.md, "Your data and your LLM"): the endpoint in ``conf/local/parameters_llm.yml``, the key in
``conf/local/credentials.yml``.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from momorec.llm.config import register_credentials
from momorec.llm.errors import LLMConfigError
from momorec.llm.testing import FakeChatServer

REPO = Path(__file__).resolve().parents[2]
API_KEY = "sk-configured-endpoint-0123456789SECRET"


def _project(target: Path, base_url: str, with_key: bool) -> Path:
    shutil.copytree(REPO / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    local = target / "conf" / "local"
    local.mkdir()
    endpoint = {"model": "my-served-model", "base_url": base_url}
    (local / "parameters_llm.yml").write_text(
        yaml.safe_dump(
            {
                "motivation": {
                    "models": {"my_llm": endpoint},
                    "agents": {"models": ["my_llm"]},
                    "judge": {"model": "my_llm"},
                },
                "alignment": {"llm": {"name": "my_llm", "endpoint": endpoint}},
            }
        )
    )
    if with_key:
        (local / "credentials.yml").write_text(yaml.safe_dump({"llm": {"api_key": API_KEY}}))
    (target / "src").mkdir()
    shutil.copy(REPO / "pyproject.toml", target / "pyproject.toml")
    return target


def _run_arena(project: Path, monkeypatch) -> None:
    """Data engineering and the first LLM node (the arena agents) of `kedro run --env smoke`."""
    monkeypatch.chdir(project)
    bootstrap_project(project)
    configure_project("momorec")
    try:
        with KedroSession.create(project_path=project, env="smoke") as session:
            session.run(to_outputs=["arena_answers"])
    finally:
        register_credentials({})  # the next test starts without this project's key


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch):
    monkeypatch.delenv("MOMOREC_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.mark.slow  # the smoke data stage and the arena: ~30 s on the shared 2-core machine
def test_the_endpoint_in_conf_local_is_called_under_another_environment(tmp_path, monkeypatch):
    with FakeChatServer(expected_key=API_KEY) as server:
        project = _project(tmp_path, server.base_url, with_key=True)
        _run_arena(project, monkeypatch)
        requests = list(server.requests)
    # 3 prompt variants x 2 arena pairs (conf/smoke), each a generation and a summary, all on the configured
    # model; the server refuses any other key, so every one carried the key from conf/local/credentials.yml.
    assert len(requests) >= 12
    assert {request["model"] for request in requests} == {"my-served-model"}
    assert (project / "data" / "smoke" / "02_intermediate" / "arena_answers.parquet").is_file()
    with sqlite3.connect(project / "mlflow.db") as db:
        params = dict(db.execute("select key, value from params where key like 'llm.%'").fetchall())
        experiments = {name for (name,) in db.execute("select name from experiments")}
    assert params["llm.arena_agents.my_llm.model"] == "my-served-model"
    assert params["llm.arena_agents.my_llm.base_url"] == server.base_url
    assert "momorec-smoke" in experiments
    assert API_KEY not in repr(params)


def test_a_configured_endpoint_without_its_key_stops_the_run_before_it_starts(tmp_path, monkeypatch):
    with FakeChatServer(expected_key=API_KEY) as server:
        project = _project(tmp_path, server.base_url, with_key=False)
        with pytest.raises(LLMConfigError) as error:
            _run_arena(project, monkeypatch)
        assert server.n_requests == 0
    message = str(error.value)
    assert "'my_llm'" in message and server.base_url in message
    assert "conf/local/credentials.yml" in message and "MOMOREC_LLM_API_KEY" in message
    assert not (project / "data" / "smoke" / "03_primary").exists()  # nothing ran, not even the data stage
