"""The motivation requests keep their cache keys: a re-run after a refactoring is answered from the cache.

The keys below were computed before the structured-call code moved to ``momorec.llm.structured``; a change
here means every cached agent answer would be asked again. Change them only with ``PROMPT_VERSION``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from momorec.agents.analysis import AnalysisSettings, generation_request, summary_request
from momorec.agents.judge import Comparison, Contender, JudgeSettings, judge_request
from momorec.agents.prompts import GENERATION_PROMPTS, PROMPT_VERSION, ItemText, motivation_salt

PARAMETERS = Path(__file__).resolve().parents[2] / "conf" / "base" / "parameters_motivation.yml"
PAIR = (ItemText("Kettle grill, 57 cm", "Garden > Grills"), ItemText("Grill tongs, stainless", "Kitchen"))


def _params() -> dict:
    """The project's motivation parameters with free decoding, the setting the pinned keys were made with
    (constrained decoding puts the JSON schema into the request, so its keys are new by design)."""
    return {**yaml.safe_load(PARAMETERS.read_text())["motivation"], "constrained": False}


def test_the_prompt_salt_is_unchanged():
    assert PROMPT_VERSION == "motivation-prompts-v1"
    assert motivation_salt({}) == "motivation-prompts-v1/"
    assert motivation_salt({"cache_salt": "x"}) == "motivation-prompts-v1/x"


def test_agent_requests_keep_their_cache_keys():
    settings = AnalysisSettings.from_params(_params())
    generation = generation_request(GENERATION_PROMPTS["goal_analyst"], PAIR, settings)
    assert generation.cache_key("m") == "b43f392732f4941bf58d3023bd35041a61e2dc433fe6fba1abcd0086fa7127f4"
    keys = [summary_request(PAIR, "They grill.", settings, attempt).cache_key("m") for attempt in (0, 1)]
    assert keys == [
        "a932aa5b11c1f46dbc5a887b9f82124fe8d32ba20dbf4d3801b9ffedcf64bcce",
        "e8855db045d14f619bfe816e2f52a95ec3e5ce1986a70358e12c02ca4f9221fe",
    ]


def test_constrained_decoding_is_a_new_summary_request():
    free = AnalysisSettings.from_params(_params())
    constrained = AnalysisSettings.from_params({**_params(), "constrained": True})
    assert summary_request(PAIR, "They grill.", constrained, 0).cache_key("m") != summary_request(
        PAIR, "They grill.", free, 0
    ).cache_key("m")


def test_judge_requests_keep_their_cache_keys_without_log_probabilities():
    # Asking for verdict log-probabilities (the default since issue 16) is a new request; without them the
    # verdict requests keep the keys they always had.
    settings = JudgeSettings.from_params({**_params(), "judge": {**_params()["judge"], "top_logprobs": None}})
    comparison = Comparison(
        PAIR, Contender("x", "hosting a barbecue", "long answer x"), Contender("y", "grilling", "y")
    )
    keys = [
        judge_request(comparison, swapped, settings, attempt).cache_key("m")
        for attempt, swapped in ((0, False), (1, True))
    ]
    assert keys == [
        "f7a3e2d5f3343c19b12eb9c6a7ac85449a7c74855a6eb2ad9799fa55e5c28ea7",
        "264e0d81a53bc6a051fd7784ab62e2f47c5f6949558977b458a63781d97bc760",
    ]


def test_asking_for_log_probabilities_changes_the_judge_key():
    comparison = Comparison(PAIR, Contender("x", "a", "a"), Contender("y", "b", "b"))
    with_logprobs = JudgeSettings.from_params(_params())
    without = JudgeSettings.from_params({**_params(), "judge": {**_params()["judge"], "top_logprobs": None}})
    assert with_logprobs.top_logprobs == 5
    assert judge_request(comparison, False, with_logprobs, 0).cache_key("m") != judge_request(
        comparison, False, without, 0
    ).cache_key("m")
