"""The analysis agent and the judge against the fake server (real client, real HTTP)."""

import dataclasses
import json

import pytest

from momorec.agents.analysis import (
    ANALYSIS_DIRECT,
    STATUS_FAILED,
    STATUS_GENERIC,
    STATUS_OK,
    AnalysisSettings,
    run_analysis_agent,
)
from momorec.agents.judge import Comparison, Contender, JudgeSettings, run_judge
from momorec.agents.parsing import parse_motivation, parse_verdict, summary_json_schema, verdict_json_schema
from momorec.agents.prompts import GENERATION_PROMPTS, SUMMARY_EXAMPLE_REPLY, ItemText, direct_messages
from momorec.llm.errors import LLMConfigError
from momorec.llm.structured import SamplingPlan
from momorec.llm.testing import Action


def test_agent_generates_then_summarises_each_pair(client, fake_server, pairs, analysis_settings):
    outcomes = run_analysis_agent(client, GENERATION_PROMPTS["goal_analyst"], pairs, analysis_settings)
    assert [o.status for o in outcomes] == [STATUS_OK, STATUS_OK]
    assert all(o.answer and o.motivation and len(o.motivation.split()) <= 12 for o in outcomes)
    generation, summary = fake_server.requests[0], fake_server.requests[2]
    assert "Kettle grill" in generation["messages"][-1]["content"]
    assert summary["response_format"] == {"type": "json_object"}
    assert summary["temperature"] > generation["temperature"]


def test_unparseable_summary_is_retried_with_another_seed(client, fake_server, pairs, analysis_settings):
    fake_server.queue(Action(content="an answer"), Action(content="I think they like grilling."))
    outcomes = run_analysis_agent(client, GENERATION_PROMPTS["basket_story"], pairs[:1], analysis_settings)
    assert outcomes[0].status == STATUS_OK and outcomes[0].summary_attempts == 2
    seeds = [r["seed"] for r in fake_server.requests if "response_format" in r]
    assert seeds == [11, 12]


def test_summary_failing_every_attempt_is_recorded_not_invented(
    client, fake_server, pairs, analysis_settings
):
    fake_server.queue(
        Action(content="an answer"),
        Action(content="not json"),
        Action(content=SUMMARY_EXAMPLE_REPLY),  # copying the worked example does not count
        Action(content='{"motivation": "' + "word " * 20 + '"}'),
    )
    outcome = run_analysis_agent(client, GENERATION_PROMPTS["basket_story"], pairs[:1], analysis_settings)[0]
    assert outcome.status == STATUS_FAILED and outcome.motivation is None
    assert outcome.answer == "an answer" and "unparseable" in outcome.error


def test_generic_summaries_are_rejected(client, fake_server, pairs, analysis_settings):
    generic = Action(content=json.dumps({"motivation": "to meet their daily needs"}))
    fake_server.queue(Action(content="an answer"), generic, generic, generic)
    outcome = run_analysis_agent(client, GENERATION_PROMPTS["goal_analyst"], pairs[:1], analysis_settings)[0]
    assert outcome.status == STATUS_GENERIC and outcome.motivation == "to meet their daily needs"


def test_failed_generation_is_a_failure_without_summary(client, fake_server, pairs, analysis_settings):
    fake_server.queue(Action(status=400))
    outcome = run_analysis_agent(client, GENERATION_PROMPTS["goal_analyst"], pairs[:1], analysis_settings)[0]
    assert outcome.status == STATUS_FAILED and outcome.answer is None and "http_400" in outcome.error
    assert fake_server.n_requests == 1


def _comparison(pairs):
    return Comparison(
        pairs[0], Contender("x", "hosting a barbecue", "long answer x"), Contender("y", "grilling", "y")
    )


def test_judge_asks_both_orders_and_cancels_position_bias(client, fake_server, pairs):
    settings = JudgeSettings(sampling=SamplingPlan(temperature=0.0, max_tokens=40, seed=3))
    judged = run_judge(client, [_comparison(pairs)], settings)[0]  # the fake judge always answers "A"
    assert (judged.verdict_first_as_a, judged.verdict_first_as_b, judged.score_first) == ("A", "A", 0.5)
    prompts = [r["messages"][-1]["content"] for r in fake_server.requests]
    assert 'Label A: "hosting a barbecue"' in prompts[0] and 'Label B: "hosting a barbecue"' in prompts[1]


def test_judge_scores_consistent_preference_and_drops_unparseable_orders(client, fake_server, pairs):
    settings = JudgeSettings(sampling=SamplingPlan(temperature=0.0, max_tokens=40, seed=3), attempts=2)
    fake_server.queue(Action(content='{"winner": "A"}'), Action(content='{"winner": "B"}'))
    assert run_judge(client, [_comparison(pairs)], settings)[0].score_first == 1.0
    fake_server.queue(*[Action(content="B is better")] * 4)
    judged = run_judge(
        client, [_comparison(pairs)], JudgeSettings(SamplingPlan(0.0, 40, seed=50), attempts=2)
    )[0]
    assert judged.score_first is None and "no valid verdict" in judged.error


def test_judge_retries_sample_instead_of_repeating_a_greedy_answer(client, fake_server, pairs):
    fake_server.queue(Action(content="B is better"), Action(content="B is better"))
    settings = JudgeSettings(sampling=SamplingPlan(temperature=0.0, max_tokens=40, seed=3), attempts=2)
    run_judge(client, [_comparison(pairs)], settings)
    temperatures = [request.get("temperature") for request in fake_server.requests]
    assert (
        temperatures[:2] == [0.0, 0.0] and all(t >= 0.7 for t in temperatures[2:]) and len(temperatures) == 4
    )


def test_constrained_summaries_and_verdicts_send_their_schema(client, fake_server, pairs, analysis_settings):
    constrained = dataclasses.replace(analysis_settings, constrained=True)
    run_analysis_agent(client, GENERATION_PROMPTS["goal_analyst"], pairs[:1], constrained)
    summary = fake_server.requests[1]
    # The fake endpoint is not the embedded server: the schema goes as response_format json_schema.
    assert summary["response_format"]["type"] == "json_schema"
    schema = summary["response_format"]["json_schema"]["schema"]
    assert schema == json.loads(summary_json_schema(analysis_settings.max_words))
    settings = JudgeSettings(sampling=SamplingPlan(temperature=0.0, max_tokens=40, seed=3), constrained=True)
    run_judge(client, [_comparison(pairs)], settings)
    verdict = fake_server.requests[-1]
    assert verdict["response_format"]["json_schema"]["schema"] == json.loads(verdict_json_schema())


def test_summary_and_verdict_schemas_accept_what_the_parsers_accept():
    jsonschema = pytest.importorskip("jsonschema")
    summary = json.loads(summary_json_schema(4))
    jsonschema.validate({"motivation": "hosting a summer barbecue"}, summary)
    assert parse_motivation('{"motivation": "hosting a summer barbecue"}', max_words=4)
    for bad in (
        {"motivation": "hosting a big summer barbecue"},  # five words
        {"motivation": "... barbecue"},  # a placeholder start
        {"motivation": "grilling", "why": "x"},  # a key outside the schema
        {},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, summary)
    verdict = json.loads(verdict_json_schema())
    good = {"winner": "tie", "relevance": "A", "depth": "B"}
    jsonschema.validate(good, verdict)
    assert parse_verdict(json.dumps(good))["winner"] == "tie"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "winner": "C"}, verdict)


def _direct(settings):
    return dataclasses.replace(settings, mode=ANALYSIS_DIRECT, constrained=True)


def test_direct_analysis_makes_one_constrained_call_per_pair(client, fake_server, pairs, analysis_settings):
    outcomes = run_analysis_agent(
        client, GENERATION_PROMPTS["goal_analyst"], pairs, _direct(analysis_settings)
    )
    assert [o.status for o in outcomes] == [STATUS_OK, STATUS_OK]
    assert fake_server.n_requests == len(pairs)
    # The label is the whole answer: there is no separate reasoning to keep.
    assert all(o.motivation and o.answer == o.motivation for o in outcomes)
    first, second = fake_server.requests
    assert first["response_format"]["type"] == "json_schema"  # the fake server is not the embedded one
    # The first attempt samples like the generation, with the summary's length.
    assert (first["seed"], first["temperature"], first["max_tokens"]) == (7, 0.2, 32)
    # The question and the worked example come first, the pair's products last, so consecutive requests
    # share everything up to the product lines (llama.cpp re-reads only those).
    assert first["messages"][:-1] == second["messages"][:-1]
    assert first["messages"][-1]["content"].endswith("2. Grill tongs, stainless (category: Kitchen)")
    assert GENERATION_PROMPTS["goal_analyst"].direct_question in first["messages"][-1]["content"]


def test_direct_analysis_retries_and_records_failures(client, fake_server, pairs, analysis_settings):
    fake_server.queue(
        Action(content="not json"),
        Action(content=SUMMARY_EXAMPLE_REPLY),  # copying the worked example does not count
        Action(content='{"motivation": "' + "word " * 20 + '"}'),
    )
    outcome = run_analysis_agent(
        client, GENERATION_PROMPTS["basket_story"], pairs[:1], _direct(analysis_settings)
    )[0]
    assert outcome.status == STATUS_FAILED and outcome.motivation is None and outcome.answer is None
    assert outcome.summary_attempts == 3 and "unparseable" in outcome.error
    # Retries take the next seeds at the summary's temperature, so a rejected answer can change.
    assert [(r["seed"], r["temperature"]) for r in fake_server.requests] == [(7, 0.2), (8, 0.7), (9, 0.7)]


def test_direct_analysis_rejects_generic_labels(client, fake_server, pairs, analysis_settings):
    generic = Action(content=json.dumps({"motivation": "to meet their daily needs"}))
    fake_server.queue(generic, generic, generic)
    outcome = run_analysis_agent(
        client, GENERATION_PROMPTS["use_context"], pairs[:1], _direct(analysis_settings)
    )[0]
    assert outcome.status == STATUS_GENERIC and outcome.motivation == "to meet their daily needs"


def test_analysis_mode_is_checked():
    with pytest.raises(LLMConfigError, match="motivation.analysis"):
        AnalysisSettings(generation=SamplingPlan(), summary=SamplingPlan(), mode="three_step")


def test_every_prompt_variant_has_a_direct_question():
    for prompt in GENERATION_PROMPTS.values():
        messages = direct_messages(prompt, ItemText("a", ""), ItemText("b", ""), 12)
        assert prompt.direct_question and prompt.direct_question in messages[-1]["content"]
    with pytest.raises(ValueError, match="no direct_question"):
        direct_messages(
            dataclasses.replace(prompt, direct_question=""), ItemText("a", ""), ItemText("b", ""), 12
        )
