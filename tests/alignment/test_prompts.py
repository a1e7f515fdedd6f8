"""The alignment requests keep their cache keys: a re-run after a refactoring is answered from the cache.

The keys below were computed before the prompts moved to ``momorec.alignment.prompts`` and the retry loop to
``momorec.llm.structured``; change them only with ``PROMPT_SALT``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from momorec.alignment.compatibility import compatibility_json_schema, compatibility_requests
from momorec.alignment.llm_setup import stage_plan
from momorec.alignment.profiles import profile_prompts
from momorec.alignment.prompts import PROMPT_SALT, STAGE_SALTS
from momorec.alignment.schemas import PROFILE_SCHEMA, TRAIT_SCHEMA
from momorec.alignment.traits import trait_prompts

PARAMETERS = Path(__file__).resolve().parents[2] / "conf" / "base" / "parameters_alignment.yml"
ITEMS = pd.DataFrame(
    {
        "item_idx": [0, 1, 2],
        "title": ["Tent", "Stove", "Mug"],
        "category": ["Out > Tents", "Out", ""],
        "price": [99.0, None, 5.5],
        "brand": ["B", "", "C"],
        "description": ["A tent", "", "mug"],
    }
)


def _keys(stage: str, messages_json: str, schema: str) -> list[str]:
    params = yaml.safe_load(PARAMETERS.read_text())["alignment"]
    plan = stage_plan(params, stage).with_schema(schema)
    return [plan.request(json.loads(messages_json), attempt).cache_key("m") for attempt in (1, 2)]


def test_the_stage_salts_are_unchanged():
    assert PROMPT_SALT == "alignment-v2"
    assert STAGE_SALTS == {
        "profiles": "alignment-v2|profile",
        "traits": "alignment-v2|traits",
        "compatibility": "alignment-v2|compatibility",
    }


def test_profile_and_trait_requests_keep_their_cache_keys():
    train = pd.DataFrame(
        {"user_idx": [0, 0, 1], "item_idx": [0, 1, 2], "position": [0, 1, 0], "split": "train"}
    )
    profile = profile_prompts(train, ITEMS, [0, 1], 10)["messages_json"][0]
    assert _keys("profiles", profile, PROFILE_SCHEMA.to_json_schema()) == [
        "671511d5af3ede9b2bc170e372d5229bc7d71f613eed28f8ccf5567f053db388",
        "da860644c5dba13baf3c92e1f16342c2d903a4fbd0456210522c5b865a13c6a7",
    ]
    traits = trait_prompts(ITEMS, [0], 200)["messages_json"][0]
    assert _keys("traits", traits, TRAIT_SCHEMA.to_json_schema()) == [
        "34d7cab26ab71cea235d92f9ff02d5d38304c53fe57b5e63cdcd701fbd83877e",
        "8fde029b79d804839fc0f24ab30675a727589b3e934fc7079738a29c5717cd70",
    ]


def test_compatibility_requests_keep_their_cache_keys():
    candidates = pd.DataFrame(
        {"user_idx": 0, "split": "valid", "seed": 0, "item_idx": [0, 1, 2], "rank": [0, 1, 2]}
    )
    descriptions = pd.Series(["Tent", "Stove", "Mug"], index=[0, 1, 2])
    request = compatibility_requests(candidates, {0: "likes camping"}, descriptions, [0])["messages_json"][0]
    assert _keys("compatibility", request, compatibility_json_schema(3)) == [
        "7ee148e875026e22a773ec9cdf184c03f193375b4bebdde77035c00f8a091fb2",
        "c11f3e95ee3164a572b0d17d184a6295937bc52eac31dc96b2d9d8b8cd83c850",
    ]
