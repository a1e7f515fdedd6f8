"""Strict parsers for the agents' answers, and the filter of motivations too generic to be useful.

Nothing here repairs content: a summary either yields a clean short phrase or a ``ParseError`` (the caller
retries and eventually records a failure).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_MOTIVATION_FIELD = re.compile(r'"motivation"\s*:\s*"([^"\n]+)"', re.I)
_PURPOSE_LINE = re.compile(r"^\s*(?:motivation|purpose)\s*:\s*(.+)$", re.I | re.M)
_WORD = re.compile(r"[a-z0-9]+")
_PLACEHOLDERS = {"phrase", "short phrase", "motivation", "label", "purpose", "none", "n a", "unknown"}
# Words that never make a motivation specific: generic-ness is judged on the remaining words.
_FILLER = {
    "a", "an", "the", "to", "of", "for", "and", "or", "in", "on", "with", "their", "his", "her", "my", "your",
    "our", "its", "customer", "customers", "user", "users", "person", "people", "someone", "s", "daily",
    "everyday", "basic", "general", "personal", "various", "own", "being", "be", "is", "are",
}  # fmt: skip


class ParseError(ValueError):
    """The answer does not contain what was asked for, in the asked format."""


# Longest word a constrained phrase may hold (a bound keeps a runaway token stream from filling the answer).
MAX_WORD_CHARS = 24


def phrase_pattern(max_words: int) -> str:
    """A regular expression for one constrained phrase: 1 to ``max_words`` words, the first starting with a
    letter (no placeholders such as ``...``), no quotes, brackets or line breaks."""
    first = f"[A-Za-z][A-Za-z0-9'&/.+-]{{0,{MAX_WORD_CHARS - 1}}}"
    word = f"[A-Za-z0-9][A-Za-z0-9'&/.+-]{{0,{MAX_WORD_CHARS - 1}}}"
    return f"^{first}( {word}){{0,{max_words - 1}}}$"


def summary_json_schema(max_words: int) -> str:
    """JSON schema of a summary, ``{"motivation": <phrase of at most max_words words>}``, for constrained
    decoding (``parse_motivation`` still checks the answer: a server may ignore the schema)."""
    schema = {
        "type": "object",
        "properties": {"motivation": {"type": "string", "pattern": phrase_pattern(max_words)}},
        "required": ["motivation"],
        "additionalProperties": False,
    }
    return json.dumps(schema)


def verdict_json_schema() -> str:
    """JSON schema of a judge's verdict: winner, relevance and depth, each A, B or tie."""
    choice = {"type": "string", "enum": ["A", "B", "tie"]}
    criteria = ("winner", "relevance", "depth")
    schema = {
        "type": "object",
        "properties": dict.fromkeys(criteria, choice),
        "required": list(criteria),
        "additionalProperties": False,
    }
    return json.dumps(schema)


def iter_json_objects(text: str) -> Iterable[dict[str, Any]]:
    """Every JSON object in ``text``, in order; code fences and chatter around them are allowed.

    Scans with ``json.JSONDecoder.raw_decode`` from each ``{``, so nested objects parse whole.
    """
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            yield value
        start = text.find("{", end)


def clean_phrase(phrase: str) -> str:
    phrase = re.sub(r"\s+", " ", phrase).strip().strip("\"'`*.,;: ")
    return phrase


def parse_motivation(text: str | None, max_words: int = 12) -> str:
    """The motivation phrase of a summary answer, or ``ParseError``.

    Accepted forms, in order: a JSON object with a string field ``motivation``; such an object embedded in
    other text; a ``"motivation": "..."`` fragment of truncated JSON; a ``Motivation:``/``Purpose:`` line.
    The phrase must have 1..``max_words`` words and not be a placeholder.
    """
    if not text or not text.strip():
        raise ParseError("empty answer")
    phrase: str | None = None
    for obj in iter_json_objects(text):
        lowered = {str(k).lower(): v for k, v in obj.items()}
        if isinstance(lowered.get("motivation"), str):
            phrase = lowered["motivation"]
            break
    if phrase is None:
        match = _MOTIVATION_FIELD.search(text) or _PURPOSE_LINE.search(text)
        if match:
            phrase = match.group(1)
    if phrase is None:
        raise ParseError(f"no motivation field in {text[:120]!r}")
    phrase = clean_phrase(phrase)
    words = _WORD.findall(phrase.lower())
    if not words:
        raise ParseError(f"empty motivation in {text[:120]!r}")
    if " ".join(words) in _PLACEHOLDERS or "<" in phrase:
        raise ParseError(f"placeholder instead of a motivation: {phrase!r}")
    if len(phrase.split()) > max_words:
        raise ParseError(f"motivation longer than {max_words} words: {phrase!r}")
    return phrase


def is_generic(motivation: str, blocklist: Iterable[str]) -> bool:
    """True when the motivation says nothing beyond a blocklisted phrase (plus filler words).

    ``"to meet their daily needs"`` is generic for the blocklist entry ``"meet needs"``;
    ``"convenience while camping"`` is not generic for ``"convenience"``.
    """
    content = {w for w in _WORD.findall(motivation.lower()) if w not in _FILLER}
    if not content:
        return True
    for phrase in blocklist:
        phrase_words = {w for w in _WORD.findall(str(phrase).lower()) if w not in _FILLER}
        if phrase_words and content <= phrase_words:
            return True
    return False


VERDICTS = {"a": "A", "b": "B", "tie": "tie"}


def parse_verdict(text: str | None) -> dict[str, str]:
    """``{"relevance", "depth", "winner"}`` each in {A, B, tie} from a judge's JSON answer, or ``ParseError``.

    ``winner`` is required; when it is missing but relevance and depth agree, their common value is used.
    """
    if not text or not text.strip():
        raise ParseError("empty verdict")
    for obj in iter_json_objects(text):
        lowered = {str(k).lower(): str(v).strip().strip(".").lower() for k, v in obj.items()}
        verdict = {
            criterion: VERDICTS.get(lowered.get(criterion, ""), "") for criterion in ("relevance", "depth")
        }
        winner = VERDICTS.get(lowered.get("winner", ""), "")
        if not winner and verdict["relevance"] and verdict["relevance"] == verdict["depth"]:
            winner = verdict["relevance"]
        if winner:
            return {**verdict, "winner": winner}
    raise ParseError(f"no valid verdict in {text[:120]!r}")
