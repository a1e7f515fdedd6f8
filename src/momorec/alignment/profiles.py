"""User motivation profiles from each user's training prefix only (MOPE-style), and the leakage guard.

The only interaction input is ``train_interactions`` (the training prefix): validation and test items never
reach a prompt. ``check_training_prefix`` refuses a table that carries other splits, and the prompts are a
pure function of (training prefix, item text), which the tests check byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from momorec.alignment.llm_setup import generate_schema_objects
from momorec.alignment.prompts import profile_messages
from momorec.alignment.schemas import PROFILE_SCHEMA
from momorec.llm import LLMClient
from momorec.llm.structured import SamplingPlan

# Item fields shown next to the title in a profile prompt (brand and description add tokens, not motives).
PROFILE_ITEM_FIELDS = ("category", "price")
PROFILE_COLUMNS = [
    "user_idx", "n_train_items", "status", "profile_json", "profile_text", "attempts", "error",
    "prompt_tokens", "completion_tokens",
]  # fmt: skip


def check_training_prefix(train_interactions: pd.DataFrame) -> None:
    """Refuse anything that is not a training prefix: other splits, or positions that are not 0..n-1."""
    missing = {"user_idx", "item_idx", "position"} - set(train_interactions.columns)
    if missing:
        raise ValueError(f"train_interactions: missing column(s) {sorted(missing)}")
    if "split" in train_interactions.columns:
        other = set(train_interactions["split"].astype(str).unique()) - {"train"}
        if other:
            raise ValueError(
                f"train_interactions: rows of split(s) {sorted(other)} found; profiles may only read the "
                "training prefix (pass `train_interactions`, not `interactions`)"
            )
    positions = train_interactions.groupby("user_idx")["position"].agg(["min", "max", "count"])
    not_prefix = (positions["min"] != 0) | (positions["max"] != positions["count"] - 1)
    if not_prefix.any():
        raise ValueError(
            f"train_interactions: positions of {int(not_prefix.sum())} user(s) are not 0..n-1 "
            f"(e.g. user_idx {int(positions.index[not_prefix][0])}); not a training prefix"
        )


def item_lines(
    items: pd.DataFrame, description_chars: int = 0, fields: Sequence[str] = ("category", "brand", "price")
) -> pd.Series:
    """One short line per item: the title, then the non-empty ``fields`` in brackets; indexed by item_idx.

    Only the last level of a category path is shown ("Kettlebells", not the whole tree): it names the
    product type in a few tokens, which keeps prompts short for small models.
    """
    missing = {"item_idx", "title"} - set(items.columns)
    if missing:
        raise ValueError(f"items: missing column(s) {sorted(missing)}")
    line = items["title"].astype("string").fillna("").str.strip()
    line = line.where(line != "", "(untitled item)")
    extras = []
    for column in fields:
        if column not in items.columns:
            continue
        if column == "price":
            price = pd.to_numeric(items["price"], errors="coerce")
            extras.append(("$" + price.round(2).astype("string")).fillna(""))
        elif column == "category":
            extras.append(items[column].astype("string").fillna("").str.split(">").str[-1].str.strip())
        else:
            extras.append(items[column].astype("string").fillna("").str.strip())
    if description_chars > 0 and "description" in items.columns:
        extras.append(
            items["description"].astype("string").fillna("").str.strip().str.slice(0, description_chars)
        )
    joined = pd.Series("", index=items.index, dtype="string")
    for value in extras:  # column-wise join that skips empty values
        joined = joined.where(value == "", joined.where(joined == "", joined + "; ") + value)
    line = line.where(joined == "", line + " (" + joined + ")")
    return pd.Series(line.astype(str).to_numpy(), index=items["item_idx"].to_numpy())


def profile_prompts(
    train_interactions: pd.DataFrame,
    items: pd.DataFrame,
    user_idx: Sequence[int],
    max_history_items: int = 10,
) -> pd.DataFrame:
    """(user_idx, n_train_items, messages_json): the profile request of each user, built from the prefix.

    Only the last ``max_history_items`` training items are listed (long prefixes would not fit the context).
    """
    check_training_prefix(train_interactions)
    users = pd.Index(np.asarray(user_idx, dtype=np.int64), name="user_idx")
    prefix = train_interactions[train_interactions["user_idx"].isin(users)]
    prefix = prefix.sort_values(["user_idx", "position"], kind="stable")
    counts = prefix.groupby("user_idx").size().reindex(users, fill_value=0)
    shown = prefix.groupby("user_idx").tail(max_history_items)
    lines = item_lines(items, fields=PROFILE_ITEM_FIELDS)
    unknown = ~shown["item_idx"].isin(lines.index)
    if unknown.any():
        raise ValueError(
            f"train_interactions: item_idx {int(shown['item_idx'][unknown].iloc[0])} not in items"
        )
    bullet = "- " + lines.reindex(shown["item_idx"].to_numpy()).to_numpy().astype(object)
    history = pd.Series(bullet, index=shown["user_idx"].to_numpy()).groupby(level=0).agg("\n".join)
    history = history.reindex(users, fill_value="(no purchases yet)")
    messages = [json.dumps(profile_messages(text), ensure_ascii=False) for text in history.to_numpy()]
    return pd.DataFrame(
        {
            "user_idx": users.to_numpy(),
            "n_train_items": counts.to_numpy().astype(np.int64),
            "messages_json": messages,
        }
    )


def generate_profiles(
    client: LLMClient, prompts: pd.DataFrame, plan: SamplingPlan
) -> tuple[pd.DataFrame, float]:
    """Ask for every profile (validated, retried, failures recorded); ``PROFILE_COLUMNS`` and wall seconds."""
    results, seconds = generate_schema_objects(
        client, prompts["messages_json"], prompts["user_idx"].tolist(), PROFILE_SCHEMA, plan, "user profiles"
    )
    table = prompts[["user_idx", "n_train_items"]].reset_index(drop=True).join(results.drop(columns="key"))
    table = table.rename(columns={"value_json": "profile_json", "text": "profile_text"})
    return table[PROFILE_COLUMNS], seconds


def ok_texts(table: pd.DataFrame, key: str, text_column: str) -> Mapping[int, str]:
    """{key: text} of the rows whose status is ok (failed rows have no text and get no score)."""
    ok = table[table["status"] == "ok"]
    return dict(zip(ok[key].astype(int), ok[text_column].astype(str), strict=True))
