"""Typed values from a parameter mapping, with errors that name the key (``motivation.summary.max_tokens``).

Every LLM setting is read from the parameters once, at the node, into a frozen dataclass; these helpers are
the one place that checks a value's type, so a wrong setting is reported with its full key and the value
found, before any request is made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from momorec.llm.errors import LLMConfigError

# Field annotations (as written, ``from __future__ import annotations``) and what they accept.
_SCALARS = {"int": int, "float": float, "bool": bool, "str": str}


def typed_value(value: Any, kind: str, key: str) -> Any:
    """``value`` as ``kind`` (``int``, ``float``, ``bool``, ``str``, optionally ``X | None``).

    No silent conversion of a wrong type: ``"false"`` is not a bool, ``2.5`` not an int, ``True`` not a
    number. ``key`` names the setting in the error.
    """
    optional = kind.replace(" ", "").endswith("|None")
    base = kind.replace(" ", "").removesuffix("|None")
    if value is None:
        if optional:
            return None
        raise LLMConfigError(f"{key}: expected {base}, got null")
    if base == "bool":
        if isinstance(value, bool):
            return value
    elif base == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif base == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif base == "str":
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
    else:
        return value  # a type these helpers do not check (tuples, nested settings)
    expected = f"{base} or null" if optional else base
    raise LLMConfigError(f"{key}: expected {expected}, got {value!r}")


def require_mapping(params: Any, key: str) -> Mapping[str, Any]:
    """``params`` when it is a mapping (``None``: empty); an error naming ``key`` otherwise."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise LLMConfigError(f"{key}: expected a mapping of settings, got {params!r}")
    return params


def check_known(params: Mapping[str, Any], known: set[str] | frozenset[str], key: str) -> None:
    unknown = set(params) - set(known)
    if unknown:
        raise LLMConfigError(f"{key}: unknown keys {sorted(unknown)} (known: {sorted(known)})")


def typed_fields(
    cls: type, params: Any, key: str, ignore: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The keys of ``params`` that are fields of the dataclass ``cls``, each checked against its annotation.

    A key that is neither a field nor in ``ignore`` is an error; ``ignore`` lists keys read elsewhere.
    """
    params = require_mapping(params, key)
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    check_known(params, set(fields) | set(ignore), key)
    return {
        name: typed_value(value, str(fields[name].type), f"{key}.{name}")
        for name, value in params.items()
        if name in fields
    }
