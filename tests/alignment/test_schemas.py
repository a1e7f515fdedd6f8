"""Schema validation of profiles and traits: accepted forms, every rejected form, parsing around the JSON."""

from __future__ import annotations

import json

import pytest

from momorec.alignment.schemas import (
    PROFILE_SCHEMA,
    TRAIT_SCHEMA,
    parse_json_object,
    schema_example,
    validated_or_problems,
)

GOOD_PROFILE = {
    "primary_motivations": ["weekend camping trips", "  Weekend camping   trips "],
    "functional_needs": ["light shelter"],
    "aesthetic_signals": [],
    "social_signals": ["gifts for friends"],
    "price_sensitivity": " Medium ",
}
GOOD_TRAITS = {
    "core_functions": ["keeps food cold"],
    "motivations_served": ["outdoor cooking"],
    "aesthetic_traits": ["rugged look"],
    "social_traits": [],
    "price_tier": "budget",
}


def test_valid_profile_is_normalised_not_changed():
    clean, problems = PROFILE_SCHEMA.validate(GOOD_PROFILE)
    assert problems == []
    assert clean["primary_motivations"] == ["weekend camping trips"]  # whitespace and repeat removed
    assert clean["price_sensitivity"] == "medium"
    assert PROFILE_SCHEMA.to_text(clean) == (
        "Motivations: weekend camping trips. Needs: light shelter. Social: gifts for friends. "
        "Price sensitivity: medium"
    )


def test_extra_keys_are_dropped():
    clean, problems = TRAIT_SCHEMA.validate({**GOOD_TRAITS, "colour": "red"})
    assert problems == [] and "colour" not in clean


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"primary_motivations": []}, "0 phrases, expected 1 to 3"),
        ({"primary_motivations": ["a", "b", "c", "d"]}, "4 phrases, expected 1 to 3"),
        ({"primary_motivations": "camping"}, "expected a list of strings, got str"),
        ({"functional_needs": [3]}, "expected a string, got int"),
        ({"social_signals": [" ".join(["word"] * 13)]}, "13 words, at most 12"),
        ({"price_sensitivity": "very high"}, "is not one of"),
        ({"price_sensitivity": None}, "expected a string, got NoneType"),
    ],
)
def test_malformed_profiles_are_rejected_with_a_reason(change, expected):
    clean, problems = PROFILE_SCHEMA.validate({**GOOD_PROFILE, **change})
    assert clean is None
    assert any(expected in problem for problem in problems), problems


def test_missing_required_keys_are_reported_not_filled():
    partial = {k: v for k, v in GOOD_TRAITS.items() if k != "core_functions"}
    clean, problems = TRAIT_SCHEMA.validate(partial)
    assert clean is None and problems == ["traits.core_functions: missing"]


def test_absent_optional_keys_mean_nothing_said():
    clean, problems = PROFILE_SCHEMA.validate({"primary_motivations": ["home workouts"]})
    assert problems == []
    assert clean == {
        "primary_motivations": ["home workouts"],
        "functional_needs": [],
        "aesthetic_signals": [],
        "social_signals": [],
        "price_sensitivity": "unknown",
    }
    assert PROFILE_SCHEMA.to_text(clean) == "Motivations: home workouts"


def test_placeholders_are_rejected():
    clean, problems = PROFILE_SCHEMA.validate({**GOOD_PROFILE, "functional_needs": ["..."]})
    assert clean is None and "placeholder" in problems[0]


def test_non_object_is_rejected():
    assert PROFILE_SCHEMA.validate(["a"])[1] == ["profile: expected a JSON object, got list"]


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(GOOD_TRAITS),
        "```json\n" + json.dumps(GOOD_TRAITS) + "\n```",
        "Here you go: " + json.dumps(GOOD_TRAITS) + " Hope it helps {",
    ],
)
def test_parsing_finds_the_object_in_chatter(text):
    clean, problems = validated_or_problems(TRAIT_SCHEMA, text)
    assert problems == [] and clean["price_tier"] == "budget"


@pytest.mark.parametrize("text", [None, "", "no json here", '{"core_functions": [', "{not json}"])
def test_unparseable_answers_give_a_problem(text):
    value, problem = parse_json_object(text)
    assert value is None and problem


def test_prompt_description_names_every_key():
    description = PROFILE_SCHEMA.describe_for_prompt()
    for name in PROFILE_SCHEMA.field_names:
        assert f'"{name}"' in description
    assert set(json.loads(schema_example(TRAIT_SCHEMA))) == set(TRAIT_SCHEMA.field_names)


@pytest.mark.parametrize(("schema", "good"), [(PROFILE_SCHEMA, GOOD_PROFILE), (TRAIT_SCHEMA, GOOD_TRAITS)])
def test_the_json_schema_for_constrained_decoding_matches_the_validator(schema, good):
    jsonschema = pytest.importorskip("jsonschema")
    spec = json.loads(schema.to_json_schema())
    assert spec["required"] == list(schema.field_names)  # a constrained answer carries every key
    good = schema.validate(good)[0]
    jsonschema.validate(good, spec)  # what the validator accepts (normalised), the schema accepts
    first = schema.fields[0]  # a required list with min_items >= 1
    for bad in (
        {**good, first.name: []},  # too few phrases
        {**good, first.name: [f"phrase {i}" for i in range(first.max_items + 1)]},  # too many phrases
        {**good, "extra": ["x"]},  # a key outside the schema
        {key: value for key, value in good.items() if key != first.name},  # a missing key
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, spec)
        assert (
            schema.validate(bad)[1] or "extra" in bad
        )  # the validator rejects the same (extras are dropped)
    choice = next(spec_ for spec_ in schema.fields if spec_.allowed)
    assert spec["properties"][choice.name]["enum"] == list(choice.allowed)
