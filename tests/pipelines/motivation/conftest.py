"""Tiny upstream tables with the contract schemas, and the real parameters pointed at a fake server."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from momorec.llm.testing import FakeChatServer

PARAMETERS = Path(__file__).resolve().parents[3] / "conf" / "base" / "parameters_motivation.yml"


@pytest.fixture
def items() -> pd.DataFrame:
    titles = [
        "Kettle grill 57 cm",
        "Grill tongs",
        "Espresso machine",
        "Burr grinder",
        "Running shoes",
        "Hydration vest",
    ]
    categories = ["Garden", "Kitchen", "Coffee", "Coffee", "Running", None]
    return pd.DataFrame(
        {
            "item_idx": pd.Series(range(6), dtype="int32"),
            "item_id": [f"B0000000{i}" for i in range(6)],
            "title": titles,
            "category": categories,
            "brand": ["b"] * 6,
            "description": [None] * 6,
            "price": [10.0] * 6,
        }
    )


@pytest.fixture
def copurchase_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_a": pd.Series([0, 2, 4, 1, 0], dtype="int32"),
            "item_b": pd.Series([1, 3, 5, 2, 5], dtype="int32"),
            "support": pd.Series([9, 7, 7, 3, 2], dtype="int64"),
        }
    )


@pytest.fixture
def interactions() -> pd.DataFrame:
    """Every split of three users' sequences (the leak canary builds its pairs from them)."""
    sequences = [[0, 1, 2, 3, 4], [0, 1, 4, 5, 2], [2, 3, 4, 5, 0]]
    rows = [
        {"user_idx": user, "item_idx": item, "position": position, "timestamp": position,
         "split": "train" if position < 3 else ("valid" if position == 3 else "test")}
        for user, sequence in enumerate(sequences)
        for position, item in enumerate(sequence)
    ]  # fmt: skip
    return pd.DataFrame(rows).astype({"user_idx": "int32", "item_idx": "int32", "position": "int32"})


@pytest.fixture
def item_true_motivations() -> pd.DataFrame:
    # Items 0-1 share "barbecue", 2-3 share "espresso", 4-5 share "running"; 1 is also in "espresso".
    return pd.DataFrame(
        {
            "item_id": [f"B0000000{i}" for i in (0, 1, 1, 2, 3, 4, 5)],
            "motivation_id": [0, 0, 1, 1, 1, 2, 2],
            "motivation": ["hosting a barbecue", "hosting a barbecue", "home espresso", "home espresso",
                           "home espresso", "running a marathon", "running a marathon"],
        }
    )  # fmt: skip


@pytest.fixture
def fake_server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as server:
        yield server


@pytest.fixture
def motivation_params(fake_server) -> dict:
    """The shipped parameters, with the model pointed at the fake server and quick retries."""
    params = copy.deepcopy(yaml.safe_load(PARAMETERS.read_text())["motivation"])
    params["models"]["smollm2"]["base_url"] = fake_server.base_url
    params["client"].update(show_progress=False, backoff_s=0.01, timeout_s=5)
    params["max_pairs"] = 4
    params["arena_pairs"] = 2
    return params
