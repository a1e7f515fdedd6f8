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
    """End any MLflow run a test leaves active.

    kedro-mlflow leaves its run on the thread's run stack after a successful in-process Kedro session (the
    CLI's process exit clears it); without this, the next in-process session logs into that run and fails
    ("Changing param values is not allowed").
    """
    yield
    import sys

    if "mlflow" in sys.modules:
        import mlflow

        while mlflow.active_run() is not None:
            mlflow.end_run()
