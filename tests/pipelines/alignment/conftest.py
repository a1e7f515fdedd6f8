"""Fixtures of the alignment pipeline tests: parameters sized for a tiny log and a fake LLM server."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from momorec.llm.testing import FakeChatServer
from tests.alignment.conftest import make_llm_params, start_fake_server
from tests.alignment.tiny_data import tiny_interactions, tiny_items, train_part

REPO_ROOT = Path(__file__).resolve().parents[3]

TINY_RECOMMENDER = {
    "model": {"hidden_size": 8, "n_blocks": 1, "n_heads": 1, "max_length": 8, "dropout": 0.1},
    "training": {"epochs": 1, "patience": 1, "batch_size": 8, "learning_rate": 0.01},
    "mask_history": True,
    "evaluation": {"chunk_size": 64},
    "runtime": {"device": "cpu", "num_threads": 1},
}


@pytest.fixture
def alignment_params() -> dict[str, Any]:
    """The project's base parameters with a small user budget and the LLM settings filled in by tests."""
    params = yaml.safe_load((REPO_ROOT / "conf/base/parameters_alignment.yml").read_text())["alignment"]
    params = copy.deepcopy(params)
    params["seeds"] = [0, 1]
    params["users"]["max_users"] = 8
    params["candidates"]["n_candidates"] = 5
    params["compatibility"]["max_users"] = 3
    return params


@pytest.fixture
def fake_llm() -> Iterator[tuple[FakeChatServer, dict[str, Any]]]:
    server = start_fake_server()
    yield server, make_llm_params(server.base_url)
    server.stop()


@pytest.fixture
def tiny_log():
    interactions = tiny_interactions()
    return {
        "interactions": interactions,
        "train_interactions": train_part(interactions),
        "items": tiny_items(),
    }
