"""Kedro hooks around kedro-mlflow's run: no run left open in the process, none left RUNNING by a killed one.

``CloseMlflowRunsHook``: kedro-mlflow 2.0.3 (``tracking.run.nested: true`` in conf/base/mlflow.yml) re-enters
its run once per node (``before_node_run``) but ends it once after the pipeline, so after a successful
pipeline the run is still on this thread's run stack. The CLI's process exit ends it; anything else in the
same process (a notebook, a test, a second ``KedroSession``) would log into it and fail ("Changing param
values is not allowed"). The hook ends what is left after the pipeline. A run the caller opened before the
session (kedro-mlflow then logs into it and leaves it open on purpose) is left to the caller.

``StaleMlflowRunsHook`` marks MLflow runs of killed processes as FAILED at the start of the next run.

kedro-mlflow 2.0.3 ends its run as FINISHED after the pipeline and as FAILED in ``on_pipeline_error``; a
process killed outright (SIGKILL, out of memory, a closed terminal) runs neither hook, and its run stays
``RUNNING`` forever. kedro-mlflow has no clean-up of its own, so this hook does it:

- when a run starts, it tags the run with the process that owns it (``momorec.pid``, ``momorec.host`` and
  ``momorec.process_start``, the process's start time from ``/proc``, so a recycled pid is not mistaken
  for the owner);
- then it looks for other ``RUNNING`` runs of the same experiment tagged with this host whose process is
  gone, and sets them ``FAILED`` with a ``momorec.stale_reason`` tag.

Runs without these tags (started before this hook existed, or by another tool) and runs of other hosts are
left alone: nothing can tell whether their process still runs, and a live run must never be marked failed.

``CodeCommitTagHook`` tags the run with the code it ran: ``mlflow.source.git.commit`` (MLflow's own tag, which
its UI shows; ``kedro run`` starts from the virtual environment's script, so MLflow finds no repository to set
it from), ``-dirty`` appended when tracked files had changes. ``benchmarks/export_results.py`` writes it into
docs/results/. Outside a git checkout (an installed package) the run has no such tag.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from pathlib import Path

import mlflow
from kedro.framework.hooks import hook_impl
from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

PID_TAG = "momorec.pid"
HOST_TAG = "momorec.host"
START_TAG = "momorec.process_start"
STALE_TAG = "momorec.stale_reason"
COMMIT_TAG = "mlflow.source.git.commit"


def code_commit(repository: Path) -> str | None:
    """``git rev-parse HEAD`` of ``repository``, ``-dirty`` appended when tracked files differ from it; None
    outside a git checkout or without git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repository, check=True, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repository,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}-dirty" if changed else head


def process_start_marker(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (``/proc/<pid>/stat``), or ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: count fields after its last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of the whole line: starttime


def process_is_alive(pid: int, start_marker: str | None) -> bool:
    """Whether ``pid`` still runs and, when both start times are known, is the same process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    current = process_start_marker(pid)
    return start_marker is None or current is None or current == start_marker


def mark_stale_runs_failed(client: MlflowClient, experiment_id: str, current_run_id: str) -> list[str]:
    """Set ``FAILED`` on this host's ``RUNNING`` runs whose process is gone; returns their run ids."""
    host = socket.gethostname()
    running = client.search_runs(
        [experiment_id], filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{host}'"
    )
    marked = []
    for run in running:
        tags = run.data.tags
        if run.info.run_id == current_run_id or PID_TAG not in tags:
            continue
        pid = int(tags[PID_TAG])
        if process_is_alive(pid, tags.get(START_TAG)):
            continue
        reason = (
            f"process {pid} on {host} ended without closing the run; marked FAILED by run {current_run_id}"
        )
        client.set_tag(run.info.run_id, STALE_TAG, reason)
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FAILED))
        logger.warning("MLflow run %s (%s) was left RUNNING: %s", run.info.run_id, run.info.run_name, reason)
        marked.append(run.info.run_id)
    return marked


class StaleMlflowRunsHook:
    # trylast: kedro-mlflow's own before_pipeline_run must have started the run.
    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        run = mlflow.active_run()
        if run is None:  # tracking disabled for this pipeline
            return
        pid = os.getpid()
        tags = {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), START_TAG: process_start_marker(pid)}
        mlflow.set_tags({name: value for name, value in tags.items() if value})
        mark_stale_runs_failed(MlflowClient(), run.info.experiment_id, run.info.run_id)


class CodeCommitTagHook:
    """Tag kedro-mlflow's run with the project's git commit (``COMMIT_TAG``), when there is one."""

    # trylast: kedro-mlflow's own before_pipeline_run must have started the run.
    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        if mlflow.active_run() is None:  # tracking disabled for this pipeline
            return
        commit = code_commit(Path(run_params.get("project_path") or Path.cwd()))
        if commit is None:
            logger.info("the project is not a git checkout: the MLflow run has no %s tag", COMMIT_TAG)
            return
        mlflow.set_tag(COMMIT_TAG, commit)


class CloseMlflowRunsHook:
    """End every MLflow run still active in this thread after a pipeline whose run kedro-mlflow started."""

    def __init__(self) -> None:
        self._run_opened_by_caller = False

    # tryfirst: look before kedro-mlflow's before_pipeline_run starts (or reuses) a run.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params, pipeline, catalog) -> None:
        self._run_opened_by_caller = mlflow.active_run() is not None

    # trylast: after kedro-mlflow's after_pipeline_run has ended its own level of the run stack.
    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params, pipeline, catalog) -> None:
        if self._run_opened_by_caller:
            return
        while mlflow.active_run() is not None:
            mlflow.end_run()
