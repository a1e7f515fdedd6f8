"""Item traits from item text only (MOTE-style), requested only for items that appear as candidates."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from momorec.alignment.profiles import item_lines
from momorec.alignment.schemas import TRAIT_SCHEMA, schema_example, validated_or_problems
from momorec.alignment.structured_calls import SamplingPlan, generate_structured
from momorec.llm import LLMClient

TRAIT_SYSTEM = (
    "You describe products for a recommender system. Reply with a single JSON object and nothing else: "
    "short phrases of a few words."
)
TRAIT_INSTRUCTION = (
    "Product: {item}\n\n"
    "Describe what this product offers a buyer as a JSON object with exactly these keys:\n{schema}\n"
    'Stay with what the product text supports; use an empty list where it says nothing, and "unknown" '
    "for the price tier when there is no price hint.\n"
    "Shape only, not content: {example}"
)
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
    schema_text, example = TRAIT_SCHEMA.describe_for_prompt(), schema_example(TRAIT_SCHEMA)
    messages = [
        json.dumps(
            [
                {"role": "system", "content": TRAIT_SYSTEM},
                {
                    "role": "user",
                    "content": TRAIT_INSTRUCTION.format(item=line, schema=schema_text, example=example),
                },
            ],
            ensure_ascii=False,
        )
        for line in lines.reindex(wanted).to_numpy()
    ]
    return pd.DataFrame({"item_idx": wanted, "messages_json": messages})


def generate_traits(
    client: LLMClient, prompts: pd.DataFrame, plan: SamplingPlan
) -> tuple[pd.DataFrame, float]:
    """Ask for every item's traits (validated, retried, failures recorded); ``TRAIT_COLUMNS`` and seconds."""
    results, seconds = generate_structured(
        client,
        prompts["item_idx"].tolist(),
        [json.loads(m) for m in prompts["messages_json"]],
        lambda text: validated_or_problems(TRAIT_SCHEMA, text),
        plan.with_schema(TRAIT_SCHEMA.to_json_schema()),
        description="item traits",
    )
    table = results.rename(columns={"key": "item_idx", "value_json": "traits_json"})
    table["traits_text"] = [
        TRAIT_SCHEMA.to_text(json.loads(value)) if status == "ok" else ""
        for status, value in zip(table["status"], table["traits_json"], strict=True)
    ]
    return table.astype({"item_idx": np.int64})[TRAIT_COLUMNS], seconds
