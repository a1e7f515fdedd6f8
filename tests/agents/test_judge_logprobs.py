"""The LLM judge on verdict probabilities against the fake OpenAI server (real client, real HTTP, real cache)."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import pytest

from momorec.agents.arena import agent_leaderboard, judge_comparisons, judgments_table
from momorec.agents.grounding_judge import GroundingSettings
from momorec.agents.judge import Comparison, Contender, JudgeSettings, judge_messages_of, run_judge
from momorec.llm.structured import SamplingPlan

AGENTS = ["good", "plain", "weak"]
MOTIVATIONS = {"good": "hosting a garden barbecue", "plain": "grilling food", "weak": "buying things"}
ELO = {"initial_rating": 1000, "k": 16, "beta": 400}


def _verdict_tokens(p_a: float, p_b: float) -> list[dict[str, Any]]:
    """OpenAI's logprobs.content for '{"winner": "A"}' with P(A) = p_a and P(B) = p_b at the winner slot."""

    def token(text: str, top: dict[str, float]) -> dict[str, Any]:
        alternatives = [{"token": t, "logprob": math.log(p), "bytes": None} for t, p in top.items()]
        return {
            "token": text,
            "logprob": alternatives[0]["logprob"],
            "bytes": None,
            "top_logprobs": alternatives,
        }

    return [
        token('{"', {'{"': 0.9}),
        token("winner", {"winner": 0.95}),
        token('":', {'":': 0.99}),
        token(' "', {' "': 0.97}),
        token("A", {"A": p_a, "B": p_b, "The": 0.05}),
        token('"}', {'"}': 0.9}),
    ]


def _label_a(body: dict[str, Any]) -> str:
    prompt = body["messages"][-1]["content"]
    return prompt.split('Label A: "', 1)[1].split('"', 1)[0]


def always_a_constant(body: dict[str, Any], content: str) -> list[dict[str, Any]]:
    return _verdict_tokens(0.48, 0.12)  # the embedded judge's measured figures, whatever it is shown


def favour_good(body: dict[str, Any], content: str) -> list[dict[str, Any]]:
    # Still answers "A" in both orders (position bias), but P(A) is higher when "good" is label A.
    return _verdict_tokens(0.8, 0.2) if _label_a(body) == MOTIVATIONS["good"] else _verdict_tokens(0.6, 0.4)


def _comparisons(pairs) -> list[Comparison]:
    return [
        Comparison(
            pair, Contender(x, MOTIVATIONS[x], f"{x} reasoning"), Contender(y, MOTIVATIONS[y], f"{y} r")
        )
        for pair in pairs
        for i, x in enumerate(AGENTS)
        for y in AGENTS[i + 1 :]
    ]


def _settings(**changes: Any) -> JudgeSettings:
    return JudgeSettings(sampling=SamplingPlan(temperature=0.0, max_tokens=40, seed=3), **changes)


def _board(judged, comparisons) -> pd.DataFrame:
    rows = [
        {"rank": index // 3, "item_a": index // 3, "item_b": 10 + index // 3, "agent_a": c.first.agent,
         "agent_b": c.second.agent, "verdict_a_shown_first": None, "verdict_a_shown_second": None,
         "score_a": float("nan"), "error": None, "preference_a": float("nan"), "mode": None}
        for index, c in enumerate(comparisons)
    ]  # fmt: skip
    judgments = judgments_table(rows, list(range(len(rows))), judged)
    every = judge_comparisons(judgments, pd.DataFrame(columns=["item_a", "item_b", "agent", "grounding"]),
                              GroundingSettings(), llm_weight=0.5, combined_margin=0.02)  # fmt: skip
    answers = pd.DataFrame({"agent": AGENTS, "status": "ok"})
    return agent_leaderboard(every[every["judge"] == "llm"], answers, AGENTS, ELO)


def test_constant_probabilities_of_an_always_a_judge_give_all_ties(client, fake_server, pairs):
    fake_server.token_logprobs = always_a_constant
    comparisons = _comparisons(pairs)
    judged = run_judge(client, comparisons, _settings())
    assert all(j.verdict_first_as_a == j.verdict_first_as_b == "A" for j in judged)  # biased argmax
    assert all(j.mode == "logprobs" and j.preference_first == 0.5 and j.score_first == 0.5 for j in judged)
    board = _board(judged, comparisons)
    assert board["ties"].tolist() == [4, 4, 4] and (board["wins"] == 0).all()
    assert board["mode"].unique().tolist() == ["logprobs"]
    assert all(
        request["logprobs"] is True and request["top_logprobs"] == 5 for request in fake_server.requests
    )


def test_probabilities_favouring_one_agent_in_both_orders_rank_it_first(client, fake_server, pairs):
    fake_server.token_logprobs = favour_good
    comparisons = _comparisons(pairs)
    judged = run_judge(client, comparisons, _settings())
    by_pair = {(c.first.agent, c.second.agent): j for c, j in zip(comparisons, judged, strict=True)}
    # (0.8 + 0.4) / (0.8 + 0.4 + 0.2 + 0.6) = 0.6: "good" wins although every verdict says "A".
    assert by_pair[("good", "plain")].preference_first == pytest.approx(0.6)
    assert by_pair[("good", "plain")].score_first == 1.0
    assert by_pair[("plain", "weak")].score_first == 0.5  # neither favoured: constant bias, a tie
    board = _board(judged, comparisons)
    assert board["agent"].iloc[0] == "good" and board["wins"].iloc[0] == 4


def test_missing_log_probabilities_fall_back_to_verdicts(client, fake_server, pairs):
    fake_server.token_logprobs = None  # the endpoint ignores logprobs: true
    comparisons = _comparisons(pairs)
    judged = run_judge(client, comparisons, _settings())
    assert all(j.mode == "verdicts" and j.score_first == 0.5 for j in judged)  # "A" in both orders
    assert all(j.probabilities_first_as_a is None for j in judged)
    assert _board(judged, comparisons)["mode"].unique().tolist() == ["verdicts"]
    no_logprobs = run_judge(client, comparisons[:1], _settings(top_logprobs=None))
    assert "logprobs" not in fake_server.requests[-1] and no_logprobs[0].mode == "verdicts"


def test_answers_and_their_probabilities_are_cached_a_rerun_makes_no_calls(client, fake_server, pairs):
    fake_server.token_logprobs = favour_good
    comparisons = _comparisons(pairs)
    first = run_judge(client, comparisons, _settings())
    calls = fake_server.n_requests
    assert calls == 2 * len(comparisons)
    again = run_judge(client, comparisons, _settings())
    assert fake_server.n_requests == calls
    assert [(j.preference_first, j.score_first, j.mode) for j in again] == [
        (j.preference_first, j.score_first, j.mode) for j in first
    ]
    request = _settings().plan().request(judge_messages_of(comparisons[0], False, 300), 1)
    stored = json.loads(client.cache.get_logprobs(request.cache_key("fake-model", client.cache_identity)))
    assert stored[4][0] == "A" and dict(stored[4][1])["A"] == pytest.approx(math.log(0.8))
