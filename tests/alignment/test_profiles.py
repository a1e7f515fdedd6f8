"""Profiles come from the training prefix only: the leakage guard and byte-identical prompts/profiles."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from momorec.alignment.profiles import (
    PROFILE_ITEM_FIELDS,
    check_training_prefix,
    generate_profiles,
    item_lines,
    profile_prompts,
)
from momorec.alignment.schemas import PROFILE_SCHEMA
from momorec.llm.structured import SamplingPlan
from tests.alignment.tiny_data import schema_responder, train_part


def _change_held_out_items(interactions: pd.DataFrame, n_items: int) -> pd.DataFrame:
    """The same log with every validation and test item replaced by another item."""
    changed = interactions.copy()
    held_out = changed["split"].isin(["valid", "test"])
    changed.loc[held_out, "item_idx"] = (changed.loc[held_out, "item_idx"] + 7) % n_items
    assert not changed["item_idx"].equals(interactions["item_idx"])
    return changed


def test_prompts_and_profiles_do_not_change_when_only_held_out_items_change(
    interactions, items, fake_server, client_for
):
    users = np.arange(12)
    changed = _change_held_out_items(interactions, len(items))
    prompts = profile_prompts(train_part(interactions), items, users)
    prompts_changed = profile_prompts(train_part(changed), items, users)
    assert prompts["messages_json"].tolist() == prompts_changed["messages_json"].tolist()  # byte-identical

    server = fake_server(schema_responder)
    with client_for(server) as client:
        profiles, _ = generate_profiles(client, prompts, SamplingPlan())
        profiles_changed, _ = generate_profiles(client, prompts_changed, SamplingPlan())
    assert profiles.equals(profiles_changed)
    assert (profiles["status"] == "ok").all()
    sent = server.requests[-1]["response_format"]  # the client's fake endpoint is not embedded: json_schema
    assert json.loads(json.dumps(sent["json_schema"]["schema"])) == json.loads(
        PROFILE_SCHEMA.to_json_schema()
    )


def test_an_unconstrained_plan_sends_json_mode_without_a_schema(
    train_interactions, items, fake_server, client_for
):
    server = fake_server(schema_responder)
    with client_for(server) as client:
        generate_profiles(
            client, profile_prompts(train_interactions, items, [0]), SamplingPlan(constrained=False)
        )
    assert server.requests[-1]["response_format"] == {"type": "json_object"}


def test_held_out_items_never_appear_in_a_prompt_unless_bought_before(interactions, items):
    """A user's validation/test item title is only in the prompt if the same item is in the training prefix."""
    train = train_part(interactions)
    prompts = profile_prompts(train, items, np.arange(12)).set_index("user_idx")
    lines = item_lines(items, fields=PROFILE_ITEM_FIELDS)
    for row in interactions[interactions["split"] != "train"].itertuples():
        bought_before = row.item_idx in set(train.loc[train["user_idx"] == row.user_idx, "item_idx"])
        prompt = json.loads(prompts.loc[row.user_idx, "messages_json"])[-1]["content"]
        assert (f"- {lines[row.item_idx]}\n" in prompt + "\n") == bought_before


def test_prompt_lists_the_prefix_in_order_and_caps_its_length(items):
    train = pd.DataFrame({"user_idx": [5] * 4, "item_idx": [3, 1, 2, 0], "position": [0, 1, 2, 3]})
    content = json.loads(profile_prompts(train, items, [5], max_history_items=3)["messages_json"][0])[-1][
        "content"
    ]
    lines = item_lines(items, fields=PROFILE_ITEM_FIELDS)
    assert f"- {lines[1]}\n- {lines[2]}\n- {lines[0]}\n" in content
    assert lines[3] not in content


def test_a_user_without_training_items_gets_an_explicit_empty_history(items, train_interactions):
    prompts = profile_prompts(train_interactions, items, [999])
    assert prompts["n_train_items"].tolist() == [0]
    assert "(no purchases yet)" in prompts["messages_json"][0]


def test_the_guard_refuses_held_out_rows(interactions, items):
    with pytest.raises(ValueError, match=r"split\(s\) \['test', 'valid'\]"):
        profile_prompts(interactions, items, [0])


def test_the_guard_refuses_a_table_that_is_not_a_prefix(train_interactions):
    gapped = train_interactions[train_interactions["position"] != 0]
    with pytest.raises(ValueError, match="not 0..n-1"):
        check_training_prefix(gapped)


def test_unknown_items_and_missing_columns_are_clear_errors(items, train_interactions):
    with pytest.raises(ValueError, match="missing column"):
        check_training_prefix(train_interactions.drop(columns="position"))
    with pytest.raises(ValueError, match="not in items"):
        profile_prompts(train_interactions, items[items["item_idx"] > 3], np.arange(12))


@pytest.mark.llm
@pytest.mark.slow
def test_the_embedded_model_writes_schema_valid_profiles_when_decoding_is_constrained(
    train_interactions, items
):
    """SmolLM2-135M rarely writes a valid profile unconstrained; the schema makes the structure reliable."""
    from momorec.llm import CallSettings, EndpointConfig, LLMClient
    from momorec.llm.embedded import EMBEDDED_MODEL_ALIAS, find_embedded_gguf

    try:
        find_embedded_gguf()
    except Exception as error:
        pytest.skip(f"embedded model not installed: {error}")
    client = LLMClient(
        EndpointConfig(name="smollm2", model=EMBEDDED_MODEL_ALIAS),
        CallSettings(concurrency=1, timeout_s=120, show_progress=False),
    )
    with client:
        profiles, _ = generate_profiles(
            client,
            profile_prompts(train_interactions, items, [0, 1]),
            SamplingPlan(max_attempts=2, max_tokens=200),
        )
    assert (profiles["status"] == "ok").all(), profiles["error"].tolist()
    for text in profiles["profile_json"]:
        clean = json.loads(text)
        assert 1 <= len(clean["primary_motivations"]) <= 3
