import pytest

from momorec.agents.parsing import ParseError, is_generic, parse_motivation, parse_verdict


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"motivation": "preparing a first aquarium"}', "preparing a first aquarium"),
        ('Sure! {"motivation": "hosting a summer barbecue."} Hope this helps', "hosting a summer barbecue"),
        ('```json\n{"Motivation": "training for a marathon"}\n```', "training for a marathon"),
        ('{"motivation": "setting up a home office", "reason": "desk', "setting up a home office"),
        ("The customer likes coffee.\nPurpose: brewing espresso at home", "brewing espresso at home"),
    ],
)
def test_parse_motivation_accepts_strict_and_recoverable_forms(text, expected):
    assert parse_motivation(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "The customer wanted to make coffee.",
        '{"reason": "no motivation field"}',
        '{"motivation": "<phrase>"}',
        '{"motivation": "   "}',
        '{"motivation": "one two three four five six seven eight nine ten eleven twelve thirteen"}',
        '{"motivation": "The customer purchased a pair of grinders, which is a high-end',
    ],
)
def test_parse_motivation_rejects_missing_placeholder_long_or_truncated(text):
    with pytest.raises(ParseError):
        parse_motivation(text, max_words=12)


def test_generic_motivations_are_detected_with_filler_words_but_specific_ones_pass():
    blocklist = ["meet needs", "convenience", "daily necessities"]
    assert is_generic("to meet their daily needs", blocklist)
    assert is_generic("Convenience", blocklist)
    assert is_generic("for the customer's convenience", blocklist)
    assert not is_generic("convenience while camping in the mountains", blocklist)
    assert not is_generic("brewing espresso at home", blocklist)
    assert not is_generic("meet needs", [])


def test_parse_verdict_is_strict():
    assert parse_verdict('{"winner": "B", "relevance": "b", "depth": "tie"}') == {
        "winner": "B",
        "relevance": "B",
        "depth": "tie",
    }
    # Winner missing but both criteria agree: that is the verdict.
    assert parse_verdict('{"relevance": "A", "depth": "A"}')["winner"] == "A"
    for bad in ['{"relevance": "A", "depth": "B"}', '{"winner": "C"}', "A is better", ""]:
        with pytest.raises(ParseError):
            parse_verdict(bad)


def test_verdict_with_a_nested_object_and_chatter_parses():
    answer = 'Verdict: {"relevance": "A", "depth": "B", "winner": "A", "notes": {"why": "x"}} done'
    assert parse_verdict(answer)["winner"] == "A"
