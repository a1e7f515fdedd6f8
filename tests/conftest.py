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
