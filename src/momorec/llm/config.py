"""Endpoint and call settings, and where the API key comes from.

The key is resolved from (in order) the Kedro credentials registered by ``momorec.llm.hooks``
(``conf/local/credentials.yml``, read under every environment: ``llm: {api_key: ...}`` or
``llm: {<model name>: {api_key: ...}}``), the environment variable named by ``api_key_env`` and finally, for
OpenAI's own endpoints only, ``OPENAI_API_KEY``. It is wrapped in ``Secret`` so that no repr, log line or
``describe()`` can show it. A remote endpoint needs a key unless its ``require_api_key`` is false (a local
vLLM, Ollama or llama.cpp server): a missing one is an error that says where keys go, never a call without it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlparse

from momorec.llm.errors import LLMConfigError
from momorec.llm.rate_limit import RateLimits, positive_setting
from momorec.llm.redaction import register_secret

# Local servers (vLLM, Ollama, llama.cpp) accept any key; the openai client insists on a non-empty one.
PLACEHOLDER_KEY = "not-needed"
DEFAULT_KEY_ENV = "MOMOREC_LLM_API_KEY"
# Where keys go; every missing-key and refused-key message says it.
WHERE_KEYS_GO = (
    "conf/local/credentials.yml (llm: {api_key: ...}, or one per model: llm: {<model name>: {api_key: ...}}; "
    f"read under every --env) or the environment variable {DEFAULT_KEY_ENV}"
)
# Ways to send a JSON schema that constrains decoding (see ``EndpointConfig.response_format``).
STRUCTURED_OUTPUT_STYLES = ("auto", "json_schema", "json_object_schema", "json_object")

_registered_credentials: dict[str, Any] = {}
_registry_lock = threading.Lock()


class Secret:
    """A string that never shows itself: repr/str give ``'***'``; ``reveal()`` returns the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)  # from now on ``redact`` replaces it in every stored or logged text

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
    for value in _credential_values(credentials or {}):
        register_secret(value)


def _credential_values(section: Mapping[str, Any]) -> list[str]:
    """Every ``api_key`` in the credentials section, top level and per model."""
    values = [str(section["api_key"])] if section.get("api_key") else []
    for entry in section.values():
        if isinstance(entry, Mapping) and entry.get("api_key"):
            values.append(str(entry["api_key"]))
    return values


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
    # Whether a key must be set. From the parameters (``from_params``) a remote endpoint needs one unless
    # ``require_api_key: false`` (a local server that takes none).
    require_api_key: bool = False
    # How a request's JSON schema reaches the server (``STRUCTURED_OUTPUT_STYLES``); ``auto`` picks
    # ``json_object_schema`` for the embedded llama-cpp-python server and ``json_schema`` otherwise.
    structured_output: str = "auto"
    # What the cache keys answers by instead of the base URL (``cache_identity``): set it when one model
    # moves between URLs (a new port, a proxy) and its cached answers should follow it.
    fingerprint: str | None = None
    # Client-side requests/tokens per minute and requests in flight (``momorec.llm.rate_limit``).
    limits: RateLimits = RateLimits()
    # USD per million prompt / completion tokens, for the dry run's estimate and the usage report
    # (``None``: unknown, no cost is given; 0 for a free local model).
    price_per_million_prompt_tokens: float | None = None
    price_per_million_completion_tokens: float | None = None

    def __post_init__(self) -> None:
        if self.structured_output not in STRUCTURED_OUTPUT_STYLES:
            raise LLMConfigError(
                f"model {self.name!r}: structured_output must be one of {list(STRUCTURED_OUTPUT_STYLES)}, "
                f"got {self.structured_output!r}"
            )

    @property
    def is_embedded(self) -> bool:
        return not self.base_url

    @property
    def public_base_url(self) -> str:
        """The base URL as it may be logged: no user, password, query or fragment (Azure's ``?api-key=``)."""
        if self.is_embedded:
            return "embedded"
        parsed = urlparse(self.base_url.strip())
        host = parsed.hostname or ""
        netloc = f"{host}:{parsed.port}" if parsed.port else host
        return parsed._replace(netloc=netloc, query="", fragment="").geturl()

    def label(self) -> str:
        """How errors name this endpoint: model name, served model and URL (never the key)."""
        return f"model {self.name!r} ({self.model} at {self.base_url or 'the embedded llama.cpp server'})"

    def cache_identity(self, embedded_identity: str) -> str:
        """Which endpoint an answer came from, as part of its cache key.

        The configured ``fingerprint`` if any; else the base URL without a trailing slash and with a
        lower-case scheme and host; for the embedded server ``embedded_identity`` (its model file, never its
        port, which changes per run).
        """
        if self.fingerprint:
            return f"fingerprint:{self.fingerprint}"
        if self.is_embedded:
            return embedded_identity
        parsed = urlparse(self.base_url.strip())
        netloc = parsed.netloc.lower()
        return parsed._replace(scheme=parsed.scheme.lower(), netloc=netloc).geturl().rstrip("/")

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
            "base_url": self.public_base_url,
            "structured_output": self.structured_output,
            "fingerprint": self.fingerprint,
            "api_key_set": self.api_key is not None,
            "limits": self.limits.describe(),
            "price_per_million_prompt_tokens": self.price_per_million_prompt_tokens,
            "price_per_million_completion_tokens": self.price_per_million_completion_tokens,
        }

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """The price of these tokens in USD: 0 for the embedded model without prices, ``None`` when unknown."""
        prompt_price, completion_price = (
            self.price_per_million_prompt_tokens,
            self.price_per_million_completion_tokens,
        )
        if prompt_price is None and completion_price is None and self.is_embedded:
            return 0.0
        if prompt_price is None or completion_price is None:
            return None
        return (prompt_tokens * prompt_price + completion_tokens * completion_price) / 1e6

    def key_for_client(self) -> str:
        """The key to hand to ``openai.OpenAI``; a clear error when the endpoint needs one and none is set."""
        if self.api_key is not None:
            return self.api_key.reveal()
        self.check_api_key()
        return PLACEHOLDER_KEY

    def check_api_key(self) -> None:
        """Raise when this endpoint needs a key and none is set (checked before a run starts, see hooks)."""
        if self.is_embedded or self.api_key is not None:
            return
        if self.require_api_key or _is_openai_platform(self.base_url):
            raise LLMConfigError(
                f"No API key for model {self.name!r} at endpoint {self.public_base_url}: put it in "
                f"{WHERE_KEYS_GO}. A server that takes no key: set require_api_key: false on the model."
            )

    @classmethod
    def from_params(cls, name: str, params: Mapping[str, Any], path: str | None = None) -> EndpointConfig:
        """Build from one entry of ``motivation.models`` (``path`` names it in errors, default
        ``motivation.models.<name>``).

        Keys: model, base_url, api_key_env, require_api_key, structured_output, fingerprint, limits,
        price_per_million_prompt_tokens, price_per_million_completion_tokens.
        """
        path = path or f"motivation.models.{name}"
        if not isinstance(params, Mapping):
            raise LLMConfigError(f"{path}: expected a mapping of settings, got {params!r}")
        if not params.get("model"):
            raise LLMConfigError(f"{path}.model is required")
        known = {"model", "base_url", "api_key_env", "require_api_key", "structured_output", "fingerprint",
                 "limits", *PRICE_KEYS}  # fmt: skip
        unknown = set(params) - known
        if unknown:
            raise LLMConfigError(f"{path}: unknown keys {sorted(unknown)} (known: {sorted(known)})")
        base_url = params.get("base_url") or None
        if base_url is not None and urlparse(str(base_url)).scheme not in ("http", "https"):
            scheme = urlparse(str(base_url)).scheme  # the URL itself is not echoed: it may hold a password
            raise LLMConfigError(f"{path}.base_url: expected an http(s) URL or null, got scheme {scheme!r}")
        if base_url is not None and _carries_credentials(str(base_url)):
            # Parameters are logged to MLflow: a key in the URL would be written there.
            raise LLMConfigError(
                f"{path}.base_url carries a password or key; parameters are logged, keys are not: put it in "
                f"{WHERE_KEYS_GO}"
            )
        require = params.get("require_api_key")
        if require is not None and not isinstance(require, bool):
            raise LLMConfigError(f"{path}.require_api_key: expected true, false or null, got {require!r}")
        require = True if require is None else require  # absent or null: a remote endpoint needs a key
        try:
            return cls(
                name=name,
                model=str(params["model"]),
                base_url=None if base_url is None else str(base_url),
                api_key=None
                if base_url is None
                else resolve_api_key(name, params.get("api_key_env", DEFAULT_KEY_ENV), str(base_url)),
                require_api_key=require,
                structured_output=str(params.get("structured_output", "auto")),
                fingerprint=str(params["fingerprint"]) if params.get("fingerprint") else None,
                limits=RateLimits.from_params(params.get("limits"), f"{path}.limits"),
                **{price: _price(params.get(price), f"{path}.{price}") for price in PRICE_KEYS},
            )
        except LLMConfigError as error:
            raise LLMConfigError(f"{path}: {error}") from None


_KEY_QUERY = re.compile(r"(key|token|secret|password|signature|sig)", re.IGNORECASE)


def _carries_credentials(base_url: str) -> bool:
    """A password in the URL's user part, or a query parameter named like a key (``?api-key=...``)."""
    parsed = urlparse(base_url.strip())
    return bool(parsed.password) or any(_KEY_QUERY.search(name) for name, _ in parse_qsl(parsed.query))


PRICE_KEYS = ("price_per_million_prompt_tokens", "price_per_million_completion_tokens")


def _price(value: Any, key: str) -> float | None:
    """A price in USD per million tokens: a number >= 0 (0: a free local model) or null (unknown)."""
    if value is None or (not isinstance(value, bool) and isinstance(value, (int, float)) and value == 0):
        return None if value is None else 0.0
    return positive_setting(value, key, integer=False)


def _is_openai_platform(base_url: str | None) -> bool:
    return bool(base_url) and (urlparse(base_url).hostname or "").endswith("openai.com")


@dataclass(frozen=True)
class CallSettings:
    """How calls are made: parallelism, timeouts, the retry schedule and how many failures are tolerated.

    ``timeout_s`` bounds one HTTP attempt, ``deadline_s`` one request with all its retries (``None``: only
    the attempts bound it). ``circuit_breaker_failures`` requests in a row that fail on the endpoint's side
    (timeouts, connection errors, HTTP 5xx/408, malformed bodies) stop the stage at once; HTTP 429 slows the
    client down instead (``momorec.llm.rate_limit``).
    ``max_failed_fraction`` is the failure budget of a stage: the share of its requests that may fail
    before the stage raises (checked when the client is closed, see ``momorec.llm.failure_budget``).
    """

    concurrency: int = 4
    timeout_s: float = 60.0
    max_retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    show_progress: bool = True
    deadline_s: float | None = None
    circuit_breaker_failures: int = 3
    max_failed_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise LLMConfigError(f"concurrency: must be >= 1, got {self.concurrency}")
        if self.timeout_s <= 0:
            raise LLMConfigError(f"timeout_s: must be > 0, got {self.timeout_s}")
        if self.max_retries < 0:
            raise LLMConfigError(f"max_retries: must be >= 0, got {self.max_retries}")
        if self.deadline_s is not None and self.deadline_s <= 0:
            raise LLMConfigError(f"deadline_s: must be > 0 or null, got {self.deadline_s}")
        if self.circuit_breaker_failures < 1:
            raise LLMConfigError(
                f"circuit_breaker_failures: must be >= 1, got {self.circuit_breaker_failures}"
            )
        if not 0.0 <= self.max_failed_fraction <= 1.0:
            raise LLMConfigError(f"max_failed_fraction: must be in [0, 1], got {self.max_failed_fraction}")

    @classmethod
    def from_params(cls, params: Mapping[str, Any], path: str = "motivation.client") -> CallSettings:
        """Typed settings from ``params`` (each value checked against its field's type); errors name
        ``path.<key>``."""
        from momorec.llm.params import typed_fields

        try:
            return cls(**typed_fields(cls, params, path))
        except LLMConfigError as error:
            message = str(error)
            raise LLMConfigError(message if message.startswith(path) else f"{path}.{message}") from None
