"""The requests the alignment stages will send, listed without sending any (for ``momorec.llm.estimate``).

The parts are the three LLM stages: ``profiles`` (one request per evaluated user), ``traits`` (one per
candidate item) and ``compatibility`` (one per rated user, split and seed). Profile and trait requests are
built from the same prompt tables the stages read, so they are exact (and found in the cache when it holds
them). A rating request quotes the user's profile and the candidates' traits: exact when those are cached,
else built with a stand-in text of the stage's ``max_tokens`` words. Every profile and trait is assumed to
succeed (a failed one would drop its user's rating request); retries of malformed answers are not foreseen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from momorec.alignment.compatibility import (
    candidate_descriptions,
    compatibility_json_schema,
    compatibility_requests,
)
from momorec.alignment.llm_setup import stage_plan
from momorec.alignment.schemas import PROFILE_SCHEMA, TRAIT_SCHEMA, StructuredSchema, validated_or_problems
from momorec.llm.cache import LLMCache
from momorec.llm.estimate import (
    TOKEN_RULES,
    CacheView,
    PlannedCall,
    TokenCounter,
    estimate_parts,
    summarise,
)
from momorec.llm.settings import alignment_llm_settings


def _stand_in(max_tokens: int) -> str:
    return ("word " * max(1, max_tokens)).strip()


def _object_calls(
    part: str,
    prompts: pd.DataFrame,
    key_column: str,
    schema: StructuredSchema,
    params: Mapping[str, Any],
    model: str,
    view: CacheView,
) -> tuple[list[PlannedCall], dict[int, str]]:
    """The first-attempt request of each prompt, and the texts of the cached answers that validate."""
    plan = stage_plan(params, part).with_schema(schema.to_json_schema())
    calls, texts = [], {}
    for key, messages in zip(prompts[key_column], prompts["messages_json"], strict=True):
        request = plan.request(json.loads(messages), 1)
        answer = view.answer(model, request)
        calls.append(PlannedCall(part, model, request, view.key(model, request), cached=answer is not None))
        if answer is not None:
            value, problems = validated_or_problems(schema, answer)
            if value is not None and not problems:
                texts[int(key)] = schema.to_text(value)
    return calls, texts


def plan_alignment_calls(
    profile_prompts: pd.DataFrame,
    trait_prompts: pd.DataFrame,
    candidates: pd.DataFrame,
    items: pd.DataFrame,
    users: pd.DataFrame,
    params: Mapping[str, Any],
    model: str,
    view: CacheView,
) -> list[PlannedCall]:
    """Every request of the alignment stages (``items`` with titles cut as the stages cut them)."""
    profile_calls, profiles = _object_calls(
        "profiles", profile_prompts, "user_idx", PROFILE_SCHEMA, params, model, view
    )
    trait_calls, traits = _object_calls(
        "traits", trait_prompts, "item_idx", TRAIT_SCHEMA, params, model, view
    )
    profile_stand_in = _stand_in(int(params["profiles"]["max_tokens"]))
    trait_stand_in = _stand_in(int(params["traits"]["max_tokens"]))
    profile_texts = {int(u): profiles.get(int(u), profile_stand_in) for u in profile_prompts["user_idx"]}
    trait_table = pd.DataFrame(
        {
            "item_idx": trait_prompts["item_idx"].astype("int64"),
            "status": "ok",
            "traits_text": [traits.get(int(i), trait_stand_in) for i in trait_prompts["item_idx"]],
        }
    )
    rated = users.loc[users["llm_rated"], "user_idx"].to_numpy()
    requests = compatibility_requests(
        candidates, profile_texts, candidate_descriptions(items, trait_table), rated
    )
    base_plan = stage_plan(params, "compatibility")
    compatibility_calls = []
    for user, split, seed, item_list, messages in requests[
        ["user_idx", "split", "seed", "item_list", "messages_json"]
    ].itertuples(index=False):
        request = base_plan.with_schema(compatibility_json_schema(len(item_list))).request(
            json.loads(messages), 1
        )
        exact = int(user) in profiles and all(int(i) in traits for i in item_list)
        cached = exact and view.answer(model, request) is not None
        identity = f"compatibility|{user}|{split}|{seed}"
        compatibility_calls.append(PlannedCall("compatibility", model, request, identity, cached=cached))
    return [*profile_calls, *trait_calls, *compatibility_calls]


def alignment_estimate(
    profile_prompts: pd.DataFrame,
    trait_prompts: pd.DataFrame,
    candidates: pd.DataFrame,
    items: pd.DataFrame,
    users: pd.DataFrame,
    params: Mapping[str, Any],
    cache: LLMCache | None,
    counter: TokenCounter | None = None,
) -> dict[str, Any]:
    """The alignment stages' estimate (``momorec.llm.estimate``): per stage and in total."""
    name, settings = alignment_llm_settings(params["llm"])  # the checks the alignment nodes make
    endpoint = settings.endpoint(name)
    view = CacheView(cache, {name: endpoint})
    planned = plan_alignment_calls(
        profile_prompts, trait_prompts, candidates, items, users, params, name, view
    )
    parts = estimate_parts(planned, {name: endpoint}, counter)
    return {
        "stage": "alignment",
        "dry_run": bool(params.get("dry_run", False)),
        "users": len(users),
        "models": {name: endpoint.describe()},
        "token_rules": {name: TOKEN_RULES[TokenCounter.rule(endpoint)]},
        "parts": parts,
        "total": summarise(parts),
    }
