"""The one sampling plan and retry loop of structured LLM calls (``momorec.llm.structured``)."""

from __future__ import annotations

import pytest

from momorec.llm.errors import LLMConfigError
from momorec.llm.structured import (
    RESULT_COLUMNS,
    SamplingPlan,
    StructuredBatch,
    StructuredOutcome,
    generate_structured,
)
from momorec.llm.testing import Action

MESSAGES = [{"role": "user", "content": "Name one colour as JSON."}]


def test_plan_retries_change_seed_and_temperature_and_salt_per_attempt():
    plan = SamplingPlan(temperature=0.0, retry_temperature=0.7, seed=5, salt="s", max_tokens=9)
    first, second = plan.request(MESSAGES, 1), plan.request(MESSAGES, 2)
    assert (first.temperature, first.seed, first.salt) == (0.0, 5, "s|attempt=1")
    assert (second.temperature, second.seed, second.salt) == (0.7, 6, "s|attempt=2")
    assert first.max_tokens == 9 and first.json_mode and first.json_schema is None
    assert first.cache_key("m") != second.cache_key("m")


def test_plan_without_retry_temperature_or_attempt_salt_keeps_both():
    plan = SamplingPlan(temperature=0.4, retry_temperature=None, salt="v1", salt_per_attempt=False)
    third = plan.request(MESSAGES, 3)
    assert (third.temperature, third.seed, third.salt) == (0.4, 2, "v1")


def test_plan_from_params_types_known_keys_and_refuses_bad_ones():
    plan = SamplingPlan.from_params(
        {"temperature": 1, "max_tokens": 12.0, "attempts": 9, "json_mode": False},
        salt="x",
        required=("temperature",),
    )
    assert plan == SamplingPlan(temperature=1.0, max_tokens=12, json_mode=False, salt="x")
    assert isinstance(plan.temperature, float) and isinstance(plan.max_tokens, int)
    with pytest.raises(LLMConfigError, match=r"^stage\.summary: missing \['max_tokens'\]"):
        SamplingPlan.from_params(
            {"temperature": 0.1}, required=("temperature", "max_tokens"), path="stage.summary"
        )
    with pytest.raises(LLMConfigError, match="max_attempts"):
        SamplingPlan(max_attempts=0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_tokens": "12"}, r"^stage\.max_tokens: expected int, got '12'"),
        ({"max_tokens": 12.5}, r"^stage\.max_tokens: expected int, got 12\.5"),
        ({"json_mode": 0}, r"^stage\.json_mode: expected bool, got 0"),
        ({"json_mode": "false"}, r"^stage\.json_mode: expected bool, got 'false'"),
        ({"temperature": None}, r"^stage\.temperature: expected float, got null"),
        ({"max_tokens": 0}, r"^stage\.max_tokens: must be >= 1, got 0"),
        ({"top_p": 1.5}, r"^stage\.top_p: must be in \(0, 1\], got 1\.5"),
        ({"max_attempts": 0}, r"^stage\.max_attempts: must be >= 1, got 0"),
        ("not a mapping", r"^stage: expected a mapping of settings"),
    ],
)
def test_a_bad_sampling_setting_names_its_key(settings, message):
    with pytest.raises(LLMConfigError, match=message):
        SamplingPlan.from_params(settings, path="stage")


def test_with_schema_only_when_constrained():
    assert SamplingPlan().with_schema('{"type": "object"}').json_schema == '{"type": "object"}'
    assert SamplingPlan(constrained=False).with_schema('{"type": "object"}').json_schema is None


def test_batch_table_needs_one_key_per_outcome():
    batch = StructuredBatch([StructuredOutcome()], 0.0)
    assert list(batch.to_table(["k"]).columns) == RESULT_COLUMNS
    with pytest.raises(ValueError, match="1 outcomes"):
        batch.to_table(["k", "l"])


def _colour(text):
    if text == '{"colour": "beige"}':
        return "beige", ["too dull"]  # well-formed but rejected: kept for the record, asked again
    if text == '{"colour": "red"}':
        return "red", []
    return None, [f"not a colour: {text!r}"]


def test_rejected_value_is_kept_and_a_later_acceptance_replaces_it(make_client, fake_server):
    fake_server.queue(Action(content='{"colour": "beige"}'), Action(content='{"colour": "red"}'))
    batch = generate_structured(make_client(fake_server.base_url), [MESSAGES], _colour, SamplingPlan())
    outcome = batch.outcomes[0]
    assert outcome.ok and outcome.value == "red" and outcome.attempts == 2 and outcome.problems == []
    assert [r["seed"] for r in fake_server.requests] == [0, 1]


def test_last_attempt_decides_what_is_kept(make_client, fake_server):
    fake_server.queue(Action(content='{"colour": "beige"}'), Action(content="nope"))
    plan = SamplingPlan(max_attempts=2)
    outcome = generate_structured(make_client(fake_server.base_url), [MESSAGES], _colour, plan).outcomes[0]
    assert not outcome.ok and outcome.value is None and outcome.problems == ["not a colour: 'nope'"]
    fake_server.queue(Action(content="nope"), Action(content='{"colour": "beige"}'))
    other = [{"role": "user", "content": "Another colour?"}]
    outcome = generate_structured(make_client(fake_server.base_url), [other], _colour, plan).outcomes[0]
    assert not outcome.ok and outcome.value == "beige" and outcome.problems == ["too dull"]


def test_a_failed_call_is_reported_as_such(make_client, fake_server):
    fake_server.queue(Action(status=400))
    plan = SamplingPlan(max_attempts=1)
    outcome = generate_structured(make_client(fake_server.base_url), [MESSAGES], _colour, plan).outcomes[0]
    assert not outcome.ok and outcome.failed_call is not None
    assert outcome.call_error().startswith("http_400: ")
