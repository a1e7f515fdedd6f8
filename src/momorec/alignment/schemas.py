"""The fixed JSON schemas of user motivation profiles and item traits, with parsing and validation.

A schema is a list of fields, each either a *list of short phrases* (bounded count and word length) or a
*choice* among allowed values. Validation only normalises form (surrounding whitespace, letter case of
choices, blank or repeated phrases dropped). Required fields must be present; an *optional* field that is
absent means "the answer says nothing about it" and becomes an empty list (or ``unknown`` for a choice),
which adds no content. A wrong type, a value outside the allowed set, a placeholder phrase ("...") or a
phrase or list that is too long is never repaired: the answer is rejected with the reasons, so the caller
can retry or record a failure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from momorec.agents.parsing import iter_json_objects, phrase_pattern

PHRASE = "phrases"
CHOICE = "choice"


@dataclass(frozen=True)
class FieldSpec:
    """One field: ``kind`` is ``phrases`` (list of short strings) or ``choice`` (one of ``allowed``)."""

    name: str
    kind: str
    description: str
    min_items: int = 0
    max_items: int = 3
    max_words: int = 12
    allowed: tuple[str, ...] = ()
    required: bool = True

    def __post_init__(self) -> None:
        if self.kind not in (PHRASE, CHOICE):
            raise ValueError(f"field {self.name}: kind must be {PHRASE!r} or {CHOICE!r}, got {self.kind!r}")
        if self.kind == CHOICE and not self.allowed:
            raise ValueError(f"field {self.name}: a choice field needs allowed values")
        if not self.required and (
            self.min_items > 0 or (self.kind == CHOICE and "unknown" not in self.allowed)
        ):
            raise ValueError(f"field {self.name}: an optional field needs an empty value (min 0 / 'unknown')")

    def empty_value(self) -> Any:
        """What an absent optional field means: nothing said (an empty list, or ``unknown``)."""
        return "unknown" if self.kind == CHOICE else []


@dataclass(frozen=True)
class StructuredSchema:
    """A named, ordered set of fields; ``validate`` returns the clean object or the list of problems."""

    name: str
    fields: tuple[FieldSpec, ...]
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)

    def describe_for_prompt(self) -> str:
        """The schema as a compact instruction: one line per key with its type and limits."""
        lines = []
        for spec in self.fields:
            if spec.kind == CHOICE:
                lines.append(f'- "{spec.name}": one of {", ".join(spec.allowed)} ({spec.description})')
            else:
                lines.append(
                    f'- "{spec.name}": list of {spec.min_items} to {spec.max_items} phrases of at most '
                    f"{spec.max_words} words ({spec.description})"
                )
        return "\n".join(lines)

    def to_json_schema(self) -> str:
        """The schema as JSON-schema text (keys in field order), for servers that constrain decoding to it.

        Every key is listed as required so a constrained answer is complete (an optional field can still be
        an empty list or ``unknown``), and keys keep the field order so a model writes the main field first.
        Each phrase must match ``phrase_pattern``: words of letters and digits separated by single spaces,
        starting with a letter, at most ``max_words`` of them. That is stricter than ``validate``, which also
        accepts punctuation from servers that do not constrain decoding.
        """
        properties: dict[str, Any] = {}
        for spec in self.fields:
            if spec.kind == CHOICE:
                properties[spec.name] = {"type": "string", "enum": list(spec.allowed)}
            else:
                properties[spec.name] = {
                    "type": "array",
                    "items": {"type": "string", "pattern": phrase_pattern(spec.max_words)},
                    "minItems": spec.min_items,
                    "maxItems": spec.max_items,
                }
        schema = {
            "type": "object",
            "properties": properties,
            "required": list(self.field_names),
            "additionalProperties": False,
        }
        return json.dumps(schema)

    def validate(self, value: Any) -> tuple[dict[str, Any] | None, list[str]]:
        """``(clean, [])`` when ``value`` fits the schema, ``(None, problems)`` otherwise.

        Keys outside the schema are ignored (dropped from the clean object).
        """
        if not isinstance(value, Mapping):
            return None, [f"{self.name}: expected a JSON object, got {type(value).__name__}"]
        clean: dict[str, Any] = {}
        problems: list[str] = []
        for spec in self.fields:
            if spec.name not in value:
                if spec.required:
                    problems.append(f"{self.name}.{spec.name}: missing")
                else:
                    clean[spec.name] = spec.empty_value()
                continue
            checked, field_problems = _validate_field(spec, value[spec.name], self.name)
            problems.extend(field_problems)
            if not field_problems:
                clean[spec.name] = checked
        return (clean, []) if not problems else (None, problems)

    def to_text(self, clean: Mapping[str, Any]) -> str:
        """One readable line per non-empty field, the text that is embedded and shown to the LLM."""
        parts = []
        for spec in self.fields:
            value = clean.get(spec.name)
            if not value or value == "unknown":
                continue
            label = self.labels.get(spec.name, spec.name.replace("_", " "))
            shown = "; ".join(value) if isinstance(value, list) else str(value)
            parts.append(f"{label}: {shown}")
        return ". ".join(parts)


def _validate_field(spec: FieldSpec, raw: Any, schema_name: str) -> tuple[Any, list[str]]:
    where = f"{schema_name}.{spec.name}"
    if spec.kind == CHOICE:
        if not isinstance(raw, str):
            return None, [f"{where}: expected a string, got {type(raw).__name__}"]
        choice = raw.strip().lower()
        if choice not in spec.allowed:
            return None, [f"{where}: {raw!r} is not one of {list(spec.allowed)}"]
        return choice, []
    if not isinstance(raw, list):
        return None, [f"{where}: expected a list of strings, got {type(raw).__name__}"]
    phrases: list[str] = []
    problems: list[str] = []
    for position, item in enumerate(raw):
        if not isinstance(item, str):
            problems.append(f"{where}[{position}]: expected a string, got {type(item).__name__}")
            continue
        phrase = " ".join(item.split())
        if not phrase or phrase.lower() in (p.lower() for p in phrases):
            continue
        if not any(character.isalnum() for character in phrase):
            problems.append(f"{where}[{position}]: placeholder {phrase!r}, not a phrase")
            continue
        if len(phrase.split()) > spec.max_words:
            problems.append(f"{where}[{position}]: {len(phrase.split())} words, at most {spec.max_words}")
            continue
        phrases.append(phrase)
    if not problems and not spec.min_items <= len(phrases) <= spec.max_items:
        problems.append(f"{where}: {len(phrases)} phrases, expected {spec.min_items} to {spec.max_items}")
    return phrases, problems


def parse_json_object(text: str | None) -> tuple[Any, str | None]:
    """The first JSON object in ``text`` (code fences and chatter around it allowed), or a problem.

    Returns ``(value, None)`` on success and ``(None, problem)`` when there is no decodable object.
    """
    if text is None or not text.strip():
        return None, "empty answer"
    for value in iter_json_objects(text):
        return value, None
    return None, f"no JSON object in the answer: {text[:120]!r}"


PRICE_SENSITIVITY = ("low", "medium", "high", "unknown")
PRICE_TIERS = ("budget", "mid", "premium", "unknown")

PROFILE_SCHEMA = StructuredSchema(
    name="profile",
    fields=(
        FieldSpec("primary_motivations", PHRASE, "why this shopper buys", min_items=1, max_items=3),
        FieldSpec("functional_needs", PHRASE, "practical jobs the purchases do", max_items=4, required=False),
        FieldSpec(
            "aesthetic_signals",
            PHRASE,
            "look, style or feel the shopper prefers",
            max_items=3,
            required=False,
        ),
        FieldSpec(
            "social_signals",
            PHRASE,
            "gifting, status, sharing or community cues",
            max_items=3,
            required=False,
        ),
        FieldSpec(
            "price_sensitivity",
            CHOICE,
            "how much price seems to matter",
            allowed=PRICE_SENSITIVITY,
            required=False,
        ),
    ),
    labels={
        "primary_motivations": "Motivations",
        "functional_needs": "Needs",
        "aesthetic_signals": "Style",
        "social_signals": "Social",
        "price_sensitivity": "Price sensitivity",
    },
)

TRAIT_SCHEMA = StructuredSchema(
    name="traits",
    fields=(
        FieldSpec("core_functions", PHRASE, "what the item does for its owner", min_items=1, max_items=4),
        FieldSpec("motivations_served", PHRASE, "reasons someone would buy it", min_items=1, max_items=3),
        FieldSpec("aesthetic_traits", PHRASE, "look, style or feel", max_items=3, required=False),
        FieldSpec("social_traits", PHRASE, "gift, status or shared-use value", max_items=3, required=False),
        FieldSpec("price_tier", CHOICE, "apparent price level", allowed=PRICE_TIERS, required=False),
    ),
    labels={
        "core_functions": "Functions",
        "motivations_served": "Bought for",
        "aesthetic_traits": "Style",
        "social_traits": "Social",
        "price_tier": "Price tier",
    },
)


def schema_example(schema: StructuredSchema) -> str:
    """A JSON skeleton with the schema's keys (placeholders, not content) for the prompt."""
    skeleton: dict[str, Any] = {}
    for spec in schema.fields:
        skeleton[spec.name] = spec.allowed[0] if spec.kind == CHOICE else ["..."]
    return json.dumps(skeleton)


def validated_or_problems(schema: StructuredSchema, text: str | None) -> tuple[dict | None, list[str]]:
    """Parse then validate one answer: the clean object, or every reason it was rejected."""
    value, problem = parse_json_object(text)
    if problem is not None:
        return None, [problem]
    return schema.validate(value)


def texts_of(schema: StructuredSchema, objects: Sequence[Mapping[str, Any]]) -> list[str]:
    return [schema.to_text(obj) for obj in objects]
