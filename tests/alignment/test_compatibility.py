"""LLM compatibility ratings: strict answer format, the call budget, failures left as NaN."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from momorec.alignment.compatibility import compatibility_requests, compatibility_validator, rate_candidates
from momorec.llm.structured import SamplingPlan
from tests.alignment.tiny_data import schema_responder


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('{"scores": [1, 9.5, 0]}', True),
        ('{"scores": [1, 9]}', False),
        ('{"scores": [1, 9, 11]}', False),
        ('{"scores": [1, true, 3]}', False),
        ('{"scores": "1, 2, 3"}', False),
        ('{"ratings": [1, 2, 3]}', False),
        ("1 2 3", False),
    ],
)
def test_validator(text, ok):
    value, problems = compatibility_validator(3)(text)
    assert (value is not None and not problems) == ok


def _candidates() -> pd.DataFrame:
    rows = [(u, s, 0, item, 1.0 - r / 10, r) for u in (0, 1, 2) for s in ("valid", "test") for r, item in
            enumerate([0, 1, 5])]  # fmt: skip
    return pd.DataFrame(rows, columns=["user_idx", "split", "seed", "item_idx", "score", "rank"])


def test_requests_only_for_budgeted_users_with_a_profile(items):
    descriptions = pd.Series(["camping tent", "kitchen pot", "garden hose", "toy car", "camping stove", "kitchen pan"],
                             index=range(6))  # fmt: skip
    profiles = {0: "Motivations: enjoys camping", 2: "Motivations: enjoys kitchen"}
    requests = compatibility_requests(_candidates(), profiles, descriptions, rated_users=[0, 1])
    assert requests["user_idx"].tolist() == [0, 0]  # user 1 has no profile, user 2 is outside the budget
    assert requests["item_list"].tolist() == [[0, 1, 5], [0, 1, 5]]
    content = json.loads(requests["messages_json"][0])[1]["content"]
    assert "1. camping tent\n2. kitchen pot\n3. kitchen pan" in content


def test_ratings_and_failures(fake_server, client_for):
    descriptions = pd.Series(["camping tent", "kitchen pot", "x", "x", "x", "camping stove"], index=range(6))
    profiles = {0: "Motivations: enjoys camping", 1: "Motivations: enjoys garden"}
    requests = compatibility_requests(_candidates(), profiles, descriptions, rated_users=[0, 1])

    def responder(messages, body):
        # User 1's lists always get a malformed answer.
        return "sorry" if "garden" in messages[-1]["content"] else schema_responder(messages, body)

    server = fake_server(responder)
    with client_for(server) as client:
        ratings, log, _ = rate_candidates(client, requests, SamplingPlan(max_attempts=2, max_tokens=40))
    assert log.set_index("user_idx")["status"].to_dict() == {0: "ok", 1: "failed"}
    assert set(ratings["user_idx"]) == {0}
    user0 = ratings[ratings["split"] == "valid"].set_index("item_idx")["llm_score"]
    assert user0.to_dict() == {0: 9.0, 1: 2.0, 5: 9.0}
    schema = server.requests[-1]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["scores"]["minItems"] == schema["properties"]["scores"]["maxItems"] == 3


def test_no_requests_no_calls(fake_server, client_for):
    server = fake_server(schema_responder)
    empty = compatibility_requests(_candidates(), {}, pd.Series(dtype=str), rated_users=[0])
    with client_for(server) as client:
        ratings, log, seconds = rate_candidates(client, empty, SamplingPlan())
    assert ratings.empty and log.empty and seconds == 0.0 and server.requests == []
