"""A tiny shop (items, interactions with leave-one-out splits) and an LLM responder that answers in schema."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Responder = Callable[[list[dict[str, str]], dict[str, Any]], str]
"""Maps (messages, request body) to the assistant's text."""

CATEGORIES = ["Camping", "Kitchen", "Garden", "Toys"]


def tiny_items(n_items: int = 16) -> pd.DataFrame:
    idx = np.arange(n_items)
    return pd.DataFrame(
        {
            "item_idx": idx.astype(np.int32),
            "item_id": [f"I{i:03d}" for i in idx],
            "title": [f"{CATEGORIES[i % 4].lower()} thing {i}" for i in idx],
            "category": [CATEGORIES[i % 4] for i in idx],
            "brand": [None if i % 3 else f"Brand{i % 5}" for i in idx],
            "description": [f"A useful {CATEGORIES[i % 4].lower()} product number {i}." for i in idx],
            "price": [None if i % 4 == 3 else float(5 + i) for i in idx],
        }
    )


def tiny_interactions(n_users: int = 12, n_items: int = 16, seed: int = 0) -> pd.DataFrame:
    """Sequences of 4..7 items per user (mostly one category each); last = test, second-to-last = valid."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        length = 4 + user % 4
        category = user % 4
        pool = [i for i in range(n_items) if i % 4 == category]
        items = rng.choice(pool + list(rng.choice(n_items, 2)), size=length)
        for position, item in enumerate(items):
            split = "test" if position == length - 1 else "valid" if position == length - 2 else "train"
            rows.append((user, int(item), position, split))
    table = pd.DataFrame(rows, columns=["user_idx", "item_idx", "position", "split"])
    table["user_id"] = "U" + table["user_idx"].astype(str)
    table["item_id"] = "I" + table["item_idx"].astype(str).str.zfill(3)
    table["timestamp"] = (table["position"] * 100 + table["user_idx"]).astype(np.int64)
    table["rating"] = 5.0
    return table.astype({"user_idx": np.int32, "item_idx": np.int32, "position": np.int32})


def train_part(interactions: pd.DataFrame) -> pd.DataFrame:
    train = interactions[interactions["split"] == "train"]
    return train[["user_idx", "item_idx", "timestamp", "position"]].reset_index(drop=True)


def _pick(text: str, options: list[str]) -> str:
    return options[int(hashlib.sha256(text.encode()).hexdigest(), 16) % len(options)]


def schema_responder(messages: list[dict[str, str]], body: dict) -> str:
    """Deterministic, schema-valid answers derived from the prompt text (profile, traits or ratings)."""
    system, user = messages[0]["content"], messages[-1]["content"]
    if "study shoppers" in system:
        found = sorted({c for c in CATEGORIES if c.lower() in user.lower()}) or ["general"]
        return json.dumps(
            {
                "primary_motivations": [f"enjoys {c.lower()}" for c in found[:3]],
                "functional_needs": [f"{found[0].lower()} gear"],
                "aesthetic_signals": [],
                "social_signals": [],
                "price_sensitivity": _pick(user, ["low", "medium", "high"]),
            }
        )
    if "describe products" in system:
        product = user.split("\n", 1)[0]
        found = [c for c in CATEGORIES if c.lower() in product.lower()] or ["general"]
        return json.dumps(
            {
                "core_functions": [f"{found[0].lower()} use"],
                "motivations_served": [f"enjoys {found[0].lower()}"],
                "aesthetic_traits": [],
                "social_traits": [],
                "price_tier": "mid",
            }
        )
    if "judge product fit" in system:
        lines = re.findall(r"^\d+\. (.*)$", user, flags=re.M)
        profile = user.split("\n", 1)[0].lower()
        return json.dumps(
            {
                "scores": [
                    9 if any(c.lower() in line.lower() and c.lower() in profile for c in CATEGORIES) else 2
                    for line in lines
                ]
            }
        )
    return "{}"
