"""LLM endpoint faults, as a user meets them: `kedro run --pipeline motivation` against a bad endpoint.

Each case runs the real Kedro session (hooks, catalog, kedro-mlflow with a file-based SQLite store in the
project folder) of the `smoke` environment against a real HTTP server in this process (``llm.testing``); the
client is never mocked. Each asserts the outcome (a clear error naming the endpoint and the problem, within a
bounded time, or a finished run whose failures are counted) and that nothing leaked: every file the run wrote
(LLM cache with its WAL, datasets, the log file, the MLflow database and artifacts) is searched for the key.
docs/reliability.md ("LLM endpoints") lists these cases.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from momorec.llm.embedded import free_port
from momorec.llm.errors import (
    LLMDryRun,
    LLMEndpointFailing,
    LLMEndpointUnreachable,
    LLMError,
    LLMFailureBudgetExceeded,
)
from momorec.llm.testing import Action, BlackHoleServer, FakeChatServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
API_KEY = "sk-faults-0123456789abcdefSECRET"
# Quick timings for tests; the shipped ones (45 s / 60 s) are measured in test_shipped_timings_*.
FAST_CLIENT = {
    "timeout_s": 0.5,
    "deadline_s": 1.0,
    "max_retries": 2,
    "backoff_s": 0.01,
    "max_backoff_s": 0.05,
    "show_progress": False,
}
LONG_TITLE = "Ultra " + "very long product title " * 4200  # ~100 KB: ~25,000 tokens


@pytest.fixture(scope="module")
def smoke_inputs(tmp_path_factory) -> Path:
    """A fresh project with the smoke environment's data_engineering outputs (the motivation inputs)."""
    project = tmp_path_factory.mktemp("faults_project")
    shutil.copytree(REPO / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    (project / "src").mkdir()
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    _own_tracking_store(project)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(project)
        _session_run(project, "data_engineering")
    return project


@pytest.fixture
def project(smoke_inputs, tmp_path, monkeypatch) -> Iterator[Path]:
    """A copy of the prepared project for one case, as the working directory, with a key in the environment."""
    target = tmp_path / "project"
    shutil.copytree(smoke_inputs, target)
    _own_tracking_store(target)
    monkeypatch.chdir(target)
    monkeypatch.setenv("MOMOREC_LLM_API_KEY", API_KEY)
    log_handler = logging.FileHandler(target / "logs.txt")
    log_handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(log_handler)  # the credentials hook adds redaction to it
    try:
        yield target
    finally:
        logging.getLogger().removeHandler(log_handler)
        log_handler.close()


def _own_tracking_store(project: Path) -> None:
    """Point the project at its own MLflow store by absolute path.

    MLflow caches one store per tracking URI in the process, so the relative ``sqlite:///mlflow.db`` of
    conf/base would keep writing to the first project's file.
    """
    server = yaml.safe_load((REPO / "conf" / "base" / "mlflow.yml").read_text())["server"]
    server["mlflow_tracking_uri"] = f"sqlite:///{project / 'mlflow.db'}"
    (project / "conf" / "smoke" / "mlflow.yml").write_text(yaml.safe_dump({"server": server}))


def _session_run(project: Path, pipeline: str) -> None:
    bootstrap_project(project)
    configure_project("momorec")
    with KedroSession.create(project_path=project, env="smoke") as session:
        session.run(pipeline_names=[pipeline])


def _run_motivation(project: Path, base_url: str, **overrides) -> tuple[BaseException | None, float]:
    """Run the motivation pipeline against ``base_url``; returns the error (or None) and the seconds taken."""
    motivation = {"models": {"smollm2": {"base_url": base_url}}, "client": dict(FAST_CLIENT)}
    for key, value in overrides.items():
        target = motivation["client"] if key in FAST_CLIENT or key in _CLIENT_KEYS else motivation
        target[key] = value
    (project / "conf" / "smoke" / "parameters_faults.yml").write_text(
        yaml.safe_dump({"motivation": motivation})
    )
    started = time.perf_counter()
    try:
        _session_run(project, "motivation")
    except Exception as error:  # noqa: BLE001 - the outcome under test
        return error, time.perf_counter() - started
    return None, time.perf_counter() - started


_CLIENT_KEYS = {"circuit_breaker_failures", "max_failed_fraction", "concurrency"}


def _cause(error: BaseException | None) -> BaseException | None:
    """The LLM-layer error behind what Kedro raised (Kedro may wrap a node's exception)."""
    while error is not None and not isinstance(error, LLMError):
        error = error.__cause__ or error.__context__
    return error


def _written_text(project: Path) -> dict[str, str]:
    """Every file under the project except the configuration we wrote, as text (Parquet decoded)."""
    texts = {}
    for path in project.rglob("*"):
        if not path.is_file() or path.is_relative_to(project / "conf"):
            continue
        if path.suffix == ".parquet":
            texts[str(path)] = pd.read_parquet(path).to_csv()
        else:
            texts[str(path)] = path.read_bytes().decode("latin-1")
    return texts


def _assert_nothing_leaked(project: Path, capfd) -> None:
    texts = _written_text(project)
    assert any(name.endswith("mlflow.db") for name in texts) and any("llm_cache" in n for n in texts)
    leaked = [name for name, text in texts.items() if API_KEY in text]
    assert not leaked, leaked
    captured = capfd.readouterr()
    assert API_KEY not in captured.out + captured.err


def _mlflow_statuses(project: Path) -> list[str]:
    with sqlite3.connect(project / "mlflow.db") as db:
        return [status for (status,) in db.execute("SELECT status FROM runs ORDER BY start_time")]


def _usage(project: Path) -> dict:
    return json.loads((project / "data" / "smoke" / "08_reporting" / "llm_usage.json").read_text())


def test_black_hole_endpoint_stops_the_run_quickly_naming_the_endpoint(project, capfd):
    with BlackHoleServer() as black_hole:
        error, seconds = _run_motivation(project, black_hole.base_url)
    cause = _cause(error)
    assert isinstance(cause, LLMEndpointFailing), error
    message = str(cause)
    assert black_hole.base_url in message and "smollm2" in message and "timeout x3" in message
    assert "llm_cache" in message  # how to resume
    # Three failed requests of ~1 s deadline each (two in parallel): far from 8 minutes per request.
    assert seconds < 30
    assert _mlflow_statuses(project)[-1] == "FAILED"
    with sqlite3.connect(project / "mlflow.db") as db:  # the stale-run hook tagged the run with its owner
        tags = {key for (key,) in db.execute("SELECT key FROM tags WHERE key LIKE 'momorec.%'")}
    assert {"momorec.pid", "momorec.host", "momorec.process_start"} <= tags
    _assert_nothing_leaked(project, capfd)


@pytest.mark.parametrize(
    ("status", "expected_error", "expected_kind"),
    # 400: every arena request fails (one per agent and pair, so the count follows the configured agents);
    # 500: the circuit breaker stops after its 3 consecutive endpoint failures.
    [(400, LLMFailureBudgetExceeded, "http_400 x"), (500, LLMEndpointFailing, "http_500 x3")],
)
def test_http_errors_on_every_call_stop_the_run(project, capfd, status, expected_error, expected_kind):
    with FakeChatServer(default_action=Action(status=status)) as server:
        error, seconds = _run_motivation(project, server.base_url)
    cause = _cause(error)
    assert isinstance(cause, expected_error), error
    assert server.base_url in str(cause) and expected_kind in str(cause), str(cause)
    assert seconds < 30
    assert not (project / "data" / "smoke" / "04_feature" / "pair_motivations.parquet").exists()
    assert _mlflow_statuses(project)[-1] == "FAILED"
    _assert_nothing_leaked(project, capfd)


def test_a_few_failures_within_the_budget_are_reported_and_the_run_finishes(project, capfd):
    with FakeChatServer() as server:
        server.queue(Action(status=400))  # one of the arena's requests fails for good
        error, _ = _run_motivation(project, server.base_url)
    assert error is None
    usage = _usage(project)
    assert usage["failures"] == 1 and usage["failure_kinds"] == {"http_400": 1}
    assert usage["stages"]["arena_agents"]["failure_kinds"] == {"http_400": 1}
    log = (project / "logs.txt").read_text()
    assert "1 of" in log and "http_400" in log and server.base_url in log
    _assert_nothing_leaked(project, capfd)


def test_an_error_body_echoing_the_key_is_redacted_everywhere(project, capfd):
    with FakeChatServer() as server:
        server.queue(Action(status=400, echo_headers=True))  # the proxy repeats "Authorization: Bearer <key>"
        error, _ = _run_motivation(project, server.base_url)
        assert server.requests  # the key really was sent
    assert error is None
    answers = pd.read_parquet(project / "data" / "smoke" / "02_intermediate" / "agent_answers.parquet")
    echoed = answers["error"].dropna()
    assert echoed.str.contains("request headers").any() and echoed.str.contains("REDACTED").any()
    with sqlite3.connect(project / "data" / "smoke" / "02_intermediate" / "llm_cache.sqlite") as db:
        (message,) = db.execute("SELECT message FROM failures").fetchone()
    assert "authorization" in message.lower() and "[REDACTED]" in message
    _assert_nothing_leaked(project, capfd)


def test_an_echoing_endpoint_that_fails_every_call_leaks_nothing_either(project, capfd):
    with FakeChatServer(default_action=Action(status=400, echo_headers=True)) as server:
        error, _ = _run_motivation(project, server.base_url)
    cause = _cause(error)
    assert isinstance(cause, LLMFailureBudgetExceeded)
    assert API_KEY not in str(error) and API_KEY not in str(cause)
    _assert_nothing_leaked(project, capfd)


def _give_the_top_pair_a_huge_title(project: Path) -> None:
    items_path = project / "data" / "smoke" / "03_primary" / "items.parquet"
    items = pd.read_parquet(items_path)
    pairs = pd.read_parquet(project / "data" / "smoke" / "04_feature" / "copurchase_pairs.parquet")
    top = pairs.sort_values(["support", "item_a", "item_b"], ascending=[False, True, True]).iloc[0]
    items.loc[items["item_idx"] == top["item_a"], "title"] = LONG_TITLE
    items.to_parquet(items_path)


def test_a_title_over_the_context_window_is_cut_to_the_token_budget(project, capfd):
    _give_the_top_pair_a_huge_title(project)
    with FakeChatServer(n_ctx=2048) as server:
        # Without the cut (a budget larger than the title) the server refuses the prompts like llama.cpp.
        error, _ = _run_motivation(project, server.base_url, max_title_tokens=100_000)
        cause = _cause(error)
        assert isinstance(cause, LLMFailureBudgetExceeded), error
        assert re.search(r"context_overflow x\d", str(cause)) and server.base_url in str(cause)
        # With the shipped budget (128 tokens) the same data runs through without a failure.
        before = server.n_requests
        error, _ = _run_motivation(project, server.base_url, max_title_tokens=128)
    assert error is None
    assert _usage(project)["failures"] == 0
    prompts = [m["content"] for body in server.requests[before:] for m in body["messages"]]
    assert max(len(p) for p in prompts) < 4000
    assert any("…" in p for p in prompts)
    _assert_nothing_leaked(project, capfd)


def test_switching_endpoints_is_not_served_from_the_old_endpoints_cache(project, capfd):
    with FakeChatServer() as first:
        assert _run_motivation(project, first.base_url)[0] is None
        calls = _usage(project)["calls"]
        assert calls == first.n_requests > 0
        # The same endpoint again: everything from the cache.
        assert _run_motivation(project, first.base_url)[0] is None
        assert (_usage(project)["calls"], first.n_requests) == (0, calls)
    # Another endpoint (here: nothing listening) must not be answered from the first one's cache.
    error, _ = _run_motivation(project, f"http://127.0.0.1:{free_port()}/v1")
    assert isinstance(_cause(error), LLMEndpointUnreachable), error
    with FakeChatServer() as second:
        assert _run_motivation(project, second.base_url)[0] is None
        assert second.n_requests == calls and _usage(project)["cache_hits"] == 0
    _assert_nothing_leaked(project, capfd)


def test_shipped_timings_stop_a_black_hole_endpoint_in_about_a_minute():
    """The shipped client settings (conf/base), not the quick test ones: one minute, not 8 per request."""
    from momorec.llm import CallSettings, ChatRequest, EndpointConfig, LLMClient

    shipped = yaml.safe_load((REPO / "conf" / "base" / "parameters_motivation.yml").read_text())
    settings = CallSettings.from_params({**shipped["motivation"]["client"], "show_progress": False})
    requests = [ChatRequest.from_messages([{"role": "user", "content": f"q{i}"}]) for i in range(20)]
    with BlackHoleServer() as black_hole:
        client = LLMClient(EndpointConfig(name="remote", model="m", base_url=black_hole.base_url), settings)
        started = time.perf_counter()
        with pytest.raises(LLMEndpointFailing, match="timeout x3"):
            client.complete_many(requests)
        seconds = time.perf_counter() - started
        client.close()
    assert settings.deadline_s - 1 < seconds < settings.deadline_s + 20, seconds


def test_a_rate_limited_endpoint_is_waited_for_and_the_stage_finishes_within_its_quota(project, capfd):
    """N requests per window, HTTP 429 with Retry-After beyond: no failed call, never more than N served."""
    n_per_window = 4
    with FakeChatServer(rate_limit=n_per_window, rate_window_s=1.0) as server:
        error, _ = _run_motivation(project, server.base_url, circuit_breaker_failures=2)
    assert error is None, error
    usage = _usage(project)
    assert usage["failures"] == 0 and usage["calls"] == len(server.served_times)
    assert usage["rate_limited"] == len(server.rate_limited_times) > 0
    assert server.max_served_in_window() <= n_per_window
    assert (
        pd.read_parquet(project / "data" / "smoke" / "04_feature" / "pair_motivations.parquet")["status"]
        == "ok"
    ).all()
    assert _mlflow_statuses(project)[-1] == "FINISHED"
    _assert_nothing_leaked(project, capfd)


def test_the_dry_run_asks_nothing_and_estimates_the_real_runs_calls(project, capfd):
    with FakeChatServer() as server:
        error, _ = _run_motivation(project, server.base_url, dry_run=True)
        assert isinstance(_cause(error), LLMDryRun), error
        assert server.n_requests == 0
        assert not (project / "data" / "smoke" / "04_feature" / "pair_motivations.parquet").exists()
        estimate = json.loads((project / "data" / "smoke" / "08_reporting" / "llm_estimate.json").read_text())
        assert "leak canary (extra)" in capfd.readouterr().out  # the printed table
        error, _ = _run_motivation(project, server.base_url)
        assert error is None, error
    calls = _usage(project)["calls"]
    assert calls == server.n_requests
    assert abs(estimate["total"]["calls"] - calls) <= 0.1 * calls
    _assert_nothing_leaked(project, capfd)
