"""Endpoint and call settings, and where the API key comes from.

The key is resolved from (in order) the Kedro credentials registered by ``momorec.llm.hooks``
(``conf/local/credentials.yml``: ``llm: {api_key: ...}`` or ``llm: {<model name>: {api_key: ...}}``), the
environment variable named by ``api_key_env`` and finally, for OpenAI's own endpoints only, ``OPENAI_API_KEY``. It is wrapped in ``Secret`` so
that no repr, log line or ``describe()`` can show it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from momorec.llm.errors import LLMConfigError

# Local servers (vLLM, Ollama, llama.cpp) accept any key; the openai client insists on a non-empty one.
PLACEHOLDER_KEY = "not-needed"
DEFAULT_KEY_ENV = "MOMOREC_LLM_API_KEY"
# Ways to send a JSON schema that constrains decoding (see ``EndpointConfig.response_format``).
STRUCTURED_OUTPUT_STYLES = ("auto", "json_schema", "json_object_schema", "json_object")

_registered_credentials: dict[str, Any] = {}
_registry_lock = threading.Lock()


class Secret:
    """A string that never shows itself: repr/str give ``'***'``; ``reveal()`` returns the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict) -> Secret:
        return self

    def __reduce__(self):  # never written to disk by pickling (e.g. a pickled dataset)
        raise TypeError("Secret values cannot be pickled")


def register_credentials(credentials: Mapping[str, Any] | None) -> None:
    """Remember the ``llm`` section of Kedro's credentials for this process (called by the hook)."""
    with _registry_lock:
        _registered_credentials.clear()
        _registered_credentials.update(dict(credentials or {}))


def _registered_key(model_name: str) -> str | None:
    with _registry_lock:
        per_model = _registered_credentials.get(model_name)
        if isinstance(per_model, Mapping) and per_model.get("api_key"):
            return str(per_model["api_key"])
        value = _registered_credentials.get("api_key")
        return str(value) if value else None


def resolve_api_key(
    model_name: str, api_key_env: str | None = DEFAULT_KEY_ENV, base_url: str | None = None
) -> Secret | None:
    """The API key for ``model_name`` from credentials or the environment, or ``None`` when none is set.

    ``OPENAI_API_KEY`` is only used for OpenAI's own endpoints: handing a user's OpenAI key to a local
    server, a shared vLLM or a proxy would leak it.
    """
    for value in (
        _registered_key(model_name),
        os.environ.get(api_key_env) if api_key_env else None,
        os.environ.get("OPENAI_API_KEY") if _is_openai_platform(base_url) else None,
    ):
        if value:
            return Secret(value)
    return None


@dataclass(frozen=True)
class EndpointConfig:
    """One model behind one OpenAI-compatible endpoint; ``base_url=None`` means the embedded server."""

    name: str
    model: str
    base_url: str | None = None
    api_key: Secret | None = field(default=None, repr=False, compare=False)
    require_api_key: bool = False
    # How a request's JSON schema reaches the server (``STRUCTURED_OUTPUT_STYLES``); ``auto`` picks
    # ``json_object_schema`` for the embedded llama-cpp-python server and ``json_schema`` otherwise.
    structured_output: str = "auto"

    def __post_init__(self) -> None:
        if self.structured_output not in STRUCTURED_OUTPUT_STYLES:
            raise LLMConfigError(
                f"model {self.name!r}: structured_output must be one of {list(STRUCTURED_OUTPUT_STYLES)}, "
                f"got {self.structured_output!r}"
            )

    @property
    def is_embedded(self) -> bool:
        return not self.base_url

    def response_format(self, json_mode: bool, json_schema: str | None) -> dict[str, Any] | None:
        """The ``response_format`` argument for a request (``None``: free text).

        ``json_schema`` is the schema as JSON text. OpenAI, vLLM, Ollama and llama.cpp's own server take
        ``{"type": "json_schema", ...}``; llama-cpp-python's server (the embedded one) only reads a schema
        placed inside ``{"type": "json_object", "schema": ...}``; ``json_object`` drops the schema for
        servers that accept neither (the answer is still validated after it arrives).
        """
        style = self.structured_output
        if style == "auto":
            style = "json_object_schema" if self.is_embedded else "json_schema"
        if json_schema is not None and style == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": json.loads(json_schema), "strict": False},
            }
        if json_schema is not None and style == "json_object_schema":
            return {"type": "json_object", "schema": json.loads(json_schema)}
        if json_mode or json_schema is not None:
            return {"type": "json_object"}
        return None

    def describe(self) -> dict[str, Any]:
        """What may be logged: everything but the key (only whether one is set)."""
        return {
            "name": self.name,
            "model": self.model,
            "base_url": self.base_url or "embedded",
            "structured_output": self.structured_output,
            "api_key_set": self.api_key is not None,
        }

    def key_for_client(self) -> str:
        """The key to hand to ``openai.OpenAI``; a clear error when the endpoint needs one and none is set."""
        if self.api_key is not None:
            return self.api_key.reveal()
        if self.require_api_key or _is_openai_platform(self.base_url):
            raise LLMConfigError(
                f"No API key for model {self.name!r} at endpoint {self.base_url}: set it in "
                f"conf/local/credentials.yml (llm: {{api_key: ...}}) or the environment variable "
                f"{DEFAULT_KEY_ENV}."
            )
        return PLACEHOLDER_KEY

    @classmethod
    def from_params(cls, name: str, params: Mapping[str, Any]) -> EndpointConfig:
        """Build from one entry of ``motivation.models``.

        Keys: model, base_url, api_key_env, require_api_key, structured_output.
        """
        if not params.get("model"):
            raise LLMConfigError(f"motivation.models.{name}: 'model' is required")
        unknown = set(params) - {"model", "base_url", "api_key_env", "require_api_key", "structured_output"}
        if unknown:
            raise LLMConfigError(f"motivation.models.{name}: unknown keys {sorted(unknown)}")
        base_url = params.get("base_url") or None
        return cls(
            name=name,
            model=str(params["model"]),
            base_url=base_url,
            api_key=None
            if base_url is None
            else resolve_api_key(name, params.get("api_key_env", DEFAULT_KEY_ENV), base_url),
            require_api_key=bool(params.get("require_api_key", False)),
            structured_output=str(params.get("structured_output", "auto")),
        )


def _is_openai_platform(base_url: str | None) -> bool:
    return bool(base_url) and (urlparse(base_url).hostname or "").endswith("openai.com")


@dataclass(frozen=True)
class CallSettings:
    """How calls are made: parallelism, per-call timeout and the retry schedule for transient errors."""

    concurrency: int = 4
    timeout_s: float = 60.0
    max_retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    show_progress: bool = True

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise LLMConfigError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.timeout_s <= 0:
            raise LLMConfigError(f"timeout_s must be > 0, got {self.timeout_s}")
        if self.max_retries < 0:
            raise LLMConfigError(f"max_retries must be >= 0, got {self.max_retries}")

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CallSettings:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(params) - known
        if unknown:
            raise LLMConfigError(f"motivation.client: unknown keys {sorted(unknown)}")
        return cls(**dict(params))
