"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    """Where the real development data sets live (``../shared/data`` beside the repo by default)."""
    return Path(os.environ.get("MOMOREC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets folder; tests that need it are skipped where it is absent."""
    root = shared_data_root()
    if not root.is_dir():
        pytest.skip(f"real data not present at {root}")
    return root


@pytest.fixture(autouse=True)
def _no_mlflow_run_outlives_its_test():
    """Fail a test that leaves an MLflow run active, and end the run so the next test starts clean.

    An in-process Kedro session ends its run (``momorec.tracking.CloseMlflowRunsHook``); a run left active
    would make the next session in the process log into it ("Changing param values is not allowed").
    """
    yield
    import sys

    if "mlflow" in sys.modules:
        import mlflow

        leaked = []
        while (run := mlflow.active_run()) is not None:
            leaked.append(run.info.run_id)
            mlflow.end_run()
        assert not leaked, f"MLflow run(s) {sorted(set(leaked))} still active after the test"
