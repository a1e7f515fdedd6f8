"""``spreading.encoder``: which sentence encoder embeds the item texts, and which item fields make the text.

Read once and checked before any model loads, so a typo in a field, a cap or an encoder name stops the run
with a message that names the setting and the choices (and, for a packaged encoder that is not installed, the
``pip install`` command).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from momorec.data.raw_log import ITEM_COLUMNS
from momorec.embeddings.encoder import DEFAULT_MODEL, check_encoder_name

# The text columns of the common items table (docs/architecture.md); a data set without one has it empty.
ITEM_TEXT_FIELDS: tuple[str, ...] = tuple(
    column for column, dtype in ITEM_COLUMNS.items() if dtype == "string" and column != "item_id"
)
DEFAULT_TEXT_FIELDS: tuple[str, ...] = ("title", "category", "brand")


@dataclass(frozen=True)
class EncoderSettings:
    """The checked ``spreading.encoder`` block (defaults: MiniLM over title, category and brand)."""

    model: str = DEFAULT_MODEL
    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS
    text_separator: str = " | "
    field_max_chars: Mapping[str, int] = field(default_factory=dict)
    batch_size: int = 64
    show_progress_bar: bool = True

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], path: str = "spreading.encoder", check_model: bool = True
    ) -> EncoderSettings:
        """Parse and check ``params``; ``check_model=False`` skips the encoder's installation check."""
        known = {setting.name for setting in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"{path}: unknown key(s) {unknown}; known keys are {sorted(known)}")
        model = params.get("model", DEFAULT_MODEL)
        if check_model:
            model = check_encoder_name(model)
        text_fields = params.get("text_fields", DEFAULT_TEXT_FIELDS) or ()
        if isinstance(text_fields, str):  # `kedro run --params` cannot pass a list with commas: "title brand"
            text_fields = text_fields.split()
        text_fields = tuple(text_fields)
        _check_text_fields(text_fields, path)
        caps = dict(params.get("field_max_chars") or {})
        _check_caps(caps, path)
        batch_size = params.get("batch_size", 64)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"{path}.batch_size must be a positive integer, got {batch_size!r}")
        separator = params.get("text_separator", " | ")
        if not isinstance(separator, str):
            raise ValueError(f"{path}.text_separator must be a string, got {separator!r}")
        return cls(
            model=str(model),
            text_fields=text_fields,
            text_separator=separator,
            field_max_chars=caps,
            batch_size=batch_size,
            show_progress_bar=bool(params.get("show_progress_bar", True)),
        )


def _check_text_fields(text_fields: tuple[str, ...], path: str) -> None:
    if not text_fields:
        raise ValueError(f"{path}.text_fields is empty: name at least one of {list(ITEM_TEXT_FIELDS)}")
    unknown = [name for name in text_fields if name not in ITEM_TEXT_FIELDS]
    if unknown:
        raise ValueError(
            f"{path}.text_fields: unknown field(s) {unknown}; the items table's text fields are "
            f"{list(ITEM_TEXT_FIELDS)}"
        )
    if len(set(text_fields)) != len(text_fields):
        raise ValueError(f"{path}.text_fields names a field twice: {list(text_fields)}")


def _check_caps(caps: dict[str, Any], path: str) -> None:
    for name, cap in caps.items():
        # A cap may name a field this environment does not embed (base caps description for every env).
        if name not in ITEM_TEXT_FIELDS:
            raise ValueError(
                f"{path}.field_max_chars: {name!r} is not a text field of the items table "
                f"{list(ITEM_TEXT_FIELDS)}"
            )
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise ValueError(f"{path}.field_max_chars.{name} must be a positive integer, got {cap!r}")
