"""The expensive alignment score (MAR-style): the LLM rates how well each candidate fits a user's profile.

One request per (user, split, seed) lists the user's top-N candidates (title and traits) and asks for one
0–10 rating per candidate, in list order, as ``{"scores": [...]}``. Only the first ``max_users`` evaluated
users with a valid profile are rated (the call budget); every other candidate keeps NaN, and a request whose
answers stay malformed after the retries is recorded as failed, its candidates NaN.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from momorec.alignment.profiles import PROFILE_ITEM_FIELDS, item_lines, ok_texts
from momorec.alignment.prompts import compatibility_messages
from momorec.alignment.schemas import parse_json_object
from momorec.llm import LLMClient
from momorec.llm.structured import SamplingPlan, generate_structured

MAX_SCORE = 10.0


def compatibility_validator(n_candidates: int):
    """A validator accepting ``{"scores": [n numbers in 0..10]}`` and returning the list of floats."""

    def validate(text: str | None) -> tuple[list[float] | None, list[str]]:
        value, problem = parse_json_object(text)
        if problem is not None:
            return None, [problem]
        scores = value.get("scores") if isinstance(value, dict) else None
        if not isinstance(scores, list):
            return None, ['expected {"scores": [...]}']
        if len(scores) != n_candidates:
            return None, [f"scores: {len(scores)} values for {n_candidates} candidates"]
        bad = [
            s
            for s in scores
            if isinstance(s, bool) or not isinstance(s, int | float) or not 0 <= s <= MAX_SCORE
        ]
        if bad:
            return None, [f"scores: values outside 0..{MAX_SCORE:g} or not numbers: {bad[:3]}"]
        return [float(s) for s in scores], []

    return validate


def compatibility_json_schema(n_candidates: int) -> str:
    """``{"scores": [n integers 0..10]}`` as JSON-schema text (integers: grammar converters lack ranges)."""
    scores = {
        "type": "array",
        "items": {"enum": list(range(int(MAX_SCORE) + 1))},
        "minItems": n_candidates,
        "maxItems": n_candidates,
    }
    schema = {
        "type": "object",
        "properties": {"scores": scores},
        "required": ["scores"],
        "additionalProperties": False,
    }
    return json.dumps(schema, sort_keys=True)


def compatibility_requests(
    candidates: pd.DataFrame,
    profile_texts: Mapping[int, str],
    item_descriptions: pd.Series,
    rated_users: Sequence[int],
) -> pd.DataFrame:
    """(user_idx, split, seed, item_idx list, messages_json) for each rated user's candidate list.

    ``item_descriptions`` is indexed by item_idx (title line plus traits text when available).
    """
    rated = set(int(u) for u in rated_users) & set(profile_texts)
    chosen = candidates[candidates["user_idx"].isin(rated)].sort_values(["user_idx", "split", "seed", "rank"])
    if chosen.empty:
        return pd.DataFrame(columns=["user_idx", "split", "seed", "item_list", "messages_json"])
    numbered = (chosen.groupby(["user_idx", "split", "seed"]).cumcount() + 1).astype(str)
    lines = (
        numbered
        + ". "
        + item_descriptions.reindex(chosen["item_idx"].to_numpy()).fillna("(unknown item)").to_numpy()
    )
    grouped = pd.DataFrame(
        {"user_idx": chosen["user_idx"], "split": chosen["split"], "seed": chosen["seed"],
         "item_idx": chosen["item_idx"], "line": lines}
    ).groupby(["user_idx", "split", "seed"], sort=True)  # fmt: skip
    requests = grouped.agg(item_list=("item_idx", list), block=("line", "\n".join)).reset_index()
    requests["messages_json"] = [
        json.dumps(
            compatibility_messages(profile_texts[int(user)], block, len(item_list)), ensure_ascii=False
        )
        for user, block, item_list in zip(
            requests["user_idx"], requests["block"], requests["item_list"], strict=True
        )
    ]
    return requests.drop(columns="block")


def rate_candidates(
    client: LLMClient, requests: pd.DataFrame, plan: SamplingPlan
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Candidate-level ratings (user_idx, split, seed, item_idx, llm_score), the request log and seconds."""
    if requests.empty:
        empty = pd.DataFrame(columns=["user_idx", "split", "seed", "item_idx", "llm_score"])
        return empty, pd.DataFrame(columns=["user_idx", "split", "seed", "status", "attempts", "error"]), 0.0
    # Requests of equal list length share a validator; lengths differ only when a user has fewer candidates.
    logs, seconds = [], 0.0
    for length, group in requests.groupby(requests["item_list"].map(len), sort=True):
        batch = generate_structured(
            client,
            [json.loads(m) for m in group["messages_json"]],
            compatibility_validator(int(length)),
            plan.with_schema(compatibility_json_schema(int(length))),
            description="compatibility ratings (attempt {attempt})",
        )
        logs.append(batch.to_table(group.index.tolist()).set_index("key"))
        seconds += batch.wall_seconds
    log = pd.concat(logs).reindex(requests.index)
    log = requests[["user_idx", "split", "seed", "item_list"]].join(log)
    ok = log[log["status"] == "ok"]
    ratings = pd.DataFrame(
        {
            "user_idx": np.repeat(ok["user_idx"].to_numpy(), ok["item_list"].map(len).to_numpy()),
            "split": np.repeat(ok["split"].to_numpy(), ok["item_list"].map(len).to_numpy()),
            "seed": np.repeat(ok["seed"].to_numpy(), ok["item_list"].map(len).to_numpy()),
            "item_idx": np.concatenate([np.asarray(v, dtype=np.int64) for v in ok["item_list"]])
            if len(ok)
            else np.empty(0, dtype=np.int64),
            "llm_score": np.concatenate([json.loads(v) for v in ok["value_json"]])
            if len(ok)
            else np.empty(0),
        }
    )
    request_log = log[
        ["user_idx", "split", "seed", "status", "attempts", "error", "prompt_tokens", "completion_tokens"]
    ]
    return ratings, request_log.reset_index(drop=True), seconds


def candidate_descriptions(items: pd.DataFrame, item_traits: pd.DataFrame) -> pd.Series:
    """What the rating prompt says about each item (indexed by item_idx): its title line, then " — " and its
    traits text when the traits were generated."""
    titles = item_lines(items, fields=PROFILE_ITEM_FIELDS)
    traits = pd.Series(ok_texts(item_traits, "item_idx", "traits_text"), dtype="string")
    descriptions = titles.astype("string")
    with_traits = descriptions.index.isin(traits.index)
    descriptions[with_traits] = (
        descriptions[with_traits] + " — " + traits.reindex(descriptions.index[with_traits])
    )
    return descriptions.astype(str)
