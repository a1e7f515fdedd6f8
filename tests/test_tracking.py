"""MLflow runs left RUNNING by a killed process are marked FAILED at the start of the next run; every run
carries the code's git commit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from momorec.tracking import (
    COMMIT_TAG,
    HOST_TAG,
    PID_TAG,
    STALE_TAG,
    START_TAG,
    CloseMlflowRunsHook,
    CodeCommitTagHook,
    StaleMlflowRunsHook,
    code_commit,
    mark_stale_runs_failed,
    process_is_alive,
    process_start_marker,
)


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.create_experiment("momorec-test", artifact_location=str(tmp_path / "mlruns"))
    # An earlier in-process Kedro session leaves kedro-mlflow's experiment active; nested runs check it.
    mlflow.set_experiment(experiment_id=experiment_id)
    yield uri, experiment_id


def _run_killed_in_a_child(uri: str, experiment_id: str) -> str:
    """Start a run in a child process that tags itself like the hook, then SIGKILL the child."""
    child = textwrap.dedent(
        f"""
        import os, socket, sys, time
        import mlflow
        from momorec.tracking import HOST_TAG, PID_TAG, START_TAG, process_start_marker
        mlflow.set_tracking_uri({uri!r})
        run = mlflow.start_run(experiment_id={experiment_id!r})
        mlflow.set_tags({{PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(),
                         START_TAG: process_start_marker(os.getpid())}})
        print(run.info.run_id, flush=True)
        time.sleep(120)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    run_id = process.stdout.readline().strip()
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert run_id, "the child did not start its run"
    return run_id


def _run_of_a_finished_process(uri: str, experiment_id: str) -> str:
    """A RUNNING run tagged with a process of this host that has ended (cheaper than killing a child)."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    tags = {PID_TAG: str(finished.pid), HOST_TAG: socket.gethostname()}
    return MlflowClient(uri).create_run(experiment_id, tags=tags).info.run_id


def test_process_liveness():
    me = os.getpid()
    assert process_is_alive(me, process_start_marker(me))
    assert not process_is_alive(me, "1")  # same pid, another start time: a recycled pid
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert not process_is_alive(finished.pid, None)


def test_only_this_hosts_runs_of_dead_processes_are_marked_failed(tracking):
    uri, experiment_id = tracking
    client = MlflowClient(uri)
    killed = _run_killed_in_a_child(uri, experiment_id)
    host = socket.gethostname()
    alive = client.create_run(experiment_id, tags={PID_TAG: str(os.getpid()), HOST_TAG: host}).info.run_id
    elsewhere = client.create_run(experiment_id, tags={PID_TAG: "1", HOST_TAG: "another-host"}).info.run_id
    untagged = client.create_run(experiment_id).info.run_id
    current = client.create_run(experiment_id).info.run_id

    assert client.get_run(killed).info.status == "RUNNING"
    assert mark_stale_runs_failed(client, experiment_id, current) == [killed]
    assert client.get_run(killed).info.status == "FAILED"
    assert "ended without closing the run" in client.get_run(killed).data.tags[STALE_TAG]
    for run_id in (alive, elsewhere, untagged, current):
        assert client.get_run(run_id).info.status == "RUNNING"


def test_the_hook_tags_the_active_run_and_cleans_up(tracking):
    uri, experiment_id = tracking
    killed = _run_of_a_finished_process(uri, experiment_id)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        StaleMlflowRunsHook().before_pipeline_run(run_params={}, pipeline=None, catalog=None)
        tags = MlflowClient(uri).get_run(run.info.run_id).data.tags
    assert tags[PID_TAG] == str(os.getpid()) and tags[HOST_TAG] == socket.gethostname() and tags[START_TAG]
    assert MlflowClient(uri).get_run(killed).info.status == "FAILED"


def test_the_hook_does_nothing_without_an_active_run(tracking):
    uri, experiment_id = tracking
    killed = _run_of_a_finished_process(uri, experiment_id)
    assert mlflow.active_run() is None  # tracking disabled for this pipeline: nothing is touched
    StaleMlflowRunsHook().before_pipeline_run(run_params={}, pipeline=None, catalog=None)
    assert MlflowClient(uri).get_run(killed).info.status == "RUNNING"


def test_the_close_hook_ends_the_run_kedro_mlflow_leaves_on_the_stack(tracking):
    uri, experiment_id = tracking
    hook = CloseMlflowRunsHook()
    hook.before_pipeline_run(run_params={}, pipeline=None, catalog=None)
    # What kedro-mlflow 2.0.3 does with `nested: true`: start the run, re-enter it before every node, end
    # it once after the pipeline.
    run = mlflow.start_run(experiment_id=experiment_id)
    for _ in range(3):
        mlflow.start_run(run_id=run.info.run_id, nested=True)
    mlflow.end_run()
    assert mlflow.active_run() is not None  # the leak the hook exists for
    hook.after_pipeline_run(run_params={}, pipeline=None, catalog=None)
    assert mlflow.active_run() is None
    assert MlflowClient(uri).get_run(run.info.run_id).info.status == "FINISHED"


def test_the_close_hook_leaves_a_run_the_caller_opened(tracking):
    _, experiment_id = tracking
    hook = CloseMlflowRunsHook()
    with mlflow.start_run(experiment_id=experiment_id) as caller:
        hook.before_pipeline_run(run_params={}, pipeline=None, catalog=None)
        hook.after_pipeline_run(run_params={}, pipeline=None, catalog=None)
        assert mlflow.active_run().info.run_id == caller.info.run_id


@pytest.mark.slow
def test_an_in_process_kedro_session_leaves_no_run_active(repo_root, tmp_path, monkeypatch):
    """The real interplay: kedro-mlflow's hooks and the project's, one pipeline of the smoke environment."""
    import shutil

    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    shutil.copytree(repo_root / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    (tmp_path / "src").mkdir()
    shutil.copy(repo_root / "pyproject.toml", tmp_path / "pyproject.toml")
    head = _git_repository(tmp_path)  # the project is a git checkout: its runs carry the commit
    monkeypatch.chdir(tmp_path)
    previous = mlflow.get_tracking_uri()
    bootstrap_project(tmp_path)
    configure_project("momorec")
    try:
        for _ in range(2):  # the second session would log into a leftover run and fail
            with KedroSession.create(project_path=tmp_path, env="smoke") as session:
                session.run(pipeline_names=["data_engineering"])
            assert mlflow.active_run() is None
        client = MlflowClient()  # the smoke environment's own experiment (conf/smoke/globals.yml)
        runs = client.search_runs([experiment.experiment_id for experiment in client.search_experiments()])
        assert [run.info.status for run in runs] == ["FINISHED", "FINISHED"]
        assert [run.data.tags.get(COMMIT_TAG) for run in runs] == [head, head]
    finally:
        mlflow.set_tracking_uri(previous)


def _git_repository(folder):
    """A one-commit git repository in ``folder`` (made if absent); its HEAD."""
    folder.mkdir(exist_ok=True)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=folder, check=True)
    (folder / "code.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "code.py"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], cwd=folder, check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_code_commit_is_head_marked_dirty_by_changed_tracked_files_only(tmp_path, monkeypatch):
    repository = tmp_path / "project"
    head = _git_repository(repository)
    assert code_commit(repository) == head
    (repository / "untracked.py").write_text("y = 2\n")
    assert code_commit(repository) == head  # outputs and scratch files do not make the code dirty
    (repository / "code.py").write_text("x = 2\n")
    assert code_commit(repository) == f"{head}-dirty"
    (tmp_path / "not_a_repository").mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # git must not find a repository above
    assert code_commit(tmp_path / "not_a_repository") is None


def test_the_commit_hook_tags_the_run_with_the_projects_commit(tracking, tmp_path):
    uri, experiment_id = tracking
    head = _git_repository(tmp_path / "project")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        CodeCommitTagHook().before_pipeline_run(
            run_params={"project_path": str(tmp_path / "project")}, pipeline=None, catalog=None
        )
    assert MlflowClient(uri).get_run(run.info.run_id).data.tags[COMMIT_TAG] == head
    CodeCommitTagHook().before_pipeline_run(run_params={}, pipeline=None, catalog=None)  # no run: no error
