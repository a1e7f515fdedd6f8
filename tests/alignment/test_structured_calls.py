"""Malformed LLM output is retried with a new seed and finally recorded as a failure, never invented."""

from __future__ import annotations

import json

import pytest

from momorec.alignment.schemas import TRAIT_SCHEMA, validated_or_problems
from momorec.llm.errors import LLMFailureBudgetExceeded
from momorec.llm.structured import SamplingPlan, generate_structured
from momorec.llm.testing import Action
from tests.alignment.tiny_data import schema_responder

MESSAGES = [{"role": "system", "content": "You describe products"}, {"role": "user", "content": "Product: x"}]


def validate(text):
    return validated_or_problems(TRAIT_SCHEMA, text)


def test_malformed_then_valid_is_retried_with_a_new_seed(fake_server, client_for):
    def responder(messages, body):
        # The first attempt (seed 0) gets a broken answer, the retry a valid one.
        return (
            "not json at all"
            if body.get("seed") == 0
            else schema_responder(
                [{"content": "You describe products"}, {"content": "Product: camping tent"}], body
            )
        )

    server = fake_server(responder)
    with client_for(server) as client:
        table = generate_structured(client, [MESSAGES], validate, SamplingPlan(max_attempts=3)).to_table(
            ["a"]
        )
    row = table.iloc[0]
    assert row["status"] == "ok" and row["attempts"] == 2 and row["error"] == ""
    assert json.loads(row["value_json"])["core_functions"] == ["camping use"]
    seeds = [request["seed"] for request in server.requests]
    assert seeds == [0, 1]
    assert server.requests[0]["temperature"] == 0.0 and server.requests[1]["temperature"] == 0.7


def test_always_malformed_is_recorded_as_failed(fake_server, client_for):
    server = fake_server(lambda messages, body: '{"core_functions": "camping"}')
    other = [MESSAGES[0], {"role": "user", "content": "Product: y"}]  # distinct requests, distinct cache keys
    with client_for(server) as client:
        table = generate_structured(
            client, [MESSAGES, other], validate, SamplingPlan(max_attempts=3)
        ).to_table([1, 2])
    assert table["status"].tolist() == ["failed", "failed"]
    assert table["attempts"].tolist() == [3, 3]
    assert table["value_json"].tolist() == ["", ""]  # nothing invented
    assert table["error"].str.contains("expected a list of strings").all()
    assert len(server.requests) == 6


def test_a_rerun_is_answered_from_the_cache(fake_server, client_for):
    server = fake_server(schema_responder)
    outputs = []
    for _ in range(2):
        with client_for(server) as client:
            table = generate_structured(client, [MESSAGES], validate, SamplingPlan()).to_table(["a"])
            outputs.append((table, client.usage.as_dict()))
    assert len(server.requests) == 1
    assert outputs[1][1]["calls"] == 0 and outputs[1][1]["cache_hits"] == 1
    assert outputs[0][0].equals(outputs[1][0])


def test_a_failed_call_is_a_failure_not_an_answer(fake_server, client_for):
    # HTTP 400 is not retried by the client: each attempt fails and the task is recorded as failed.
    server = fake_server()
    server.queue(Action(status=400), Action(status=400))
    # Two failed requests of two: leaving the client stops the stage (its failure budget, llm.failure_budget).
    with pytest.raises(LLMFailureBudgetExceeded, match="2 of 2 requests"), client_for(server) as client:
        table = generate_structured(client, [MESSAGES], validate, SamplingPlan(max_attempts=2)).to_table(
            ["a"]
        )
    assert table.loc[0, "status"] == "failed" and table.loc[0, "value_json"] == ""
    assert table.loc[0, "error"].startswith("call failed (http_400)")
    assert len(server.requests) == 2
