"""Item traits from item text only (MOTE-style), requested only for items that appear as candidates."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from momorec.alignment.llm_setup import generate_schema_objects
from momorec.alignment.profiles import item_lines
from momorec.alignment.prompts import trait_messages
from momorec.alignment.schemas import TRAIT_SCHEMA
from momorec.llm import LLMClient
from momorec.llm.structured import SamplingPlan

TRAIT_COLUMNS = [
    "item_idx", "status", "traits_json", "traits_text", "attempts", "error", "prompt_tokens", "completion_tokens",
]  # fmt: skip


def trait_prompts(items: pd.DataFrame, item_idx: Sequence[int], description_chars: int = 300) -> pd.DataFrame:
    """(item_idx, messages_json) for the given items, from their text fields only."""
    wanted = np.unique(np.asarray(item_idx, dtype=np.int64))
    lines = item_lines(items, description_chars=description_chars)
    unknown = np.setdiff1d(wanted, lines.index.to_numpy())
    if len(unknown):
        raise ValueError(f"trait_prompts: item_idx {unknown[:5].tolist()} not in items")
    messages = [
        json.dumps(trait_messages(line), ensure_ascii=False) for line in lines.reindex(wanted).to_numpy()
    ]
    return pd.DataFrame({"item_idx": wanted, "messages_json": messages})


def generate_traits(
    client: LLMClient, prompts: pd.DataFrame, plan: SamplingPlan
) -> tuple[pd.DataFrame, float]:
    """Ask for every item's traits (validated, retried, failures recorded); ``TRAIT_COLUMNS`` and seconds."""
    results, seconds = generate_schema_objects(
        client, prompts["messages_json"], prompts["item_idx"].tolist(), TRAIT_SCHEMA, plan, "item traits"
    )
    table = results.rename(columns={"key": "item_idx", "value_json": "traits_json", "text": "traits_text"})
    return table.astype({"item_idx": np.int64})[TRAIT_COLUMNS], seconds
