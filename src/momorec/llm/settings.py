"""An LLM stage's endpoints, call settings and embedded-server settings, read from the parameters once.

A node parses its parameters into :class:`LLMSettings` (``motivation.models/client/embedded`` or
``alignment.llm``) and hands the typed settings down to ``momorec.llm.session``; nothing below the node reads
the parameter dict again. Every error names the full key (``motivation.client.timeout_s``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from momorec.llm.config import CallSettings, EndpointConfig
from momorec.llm.errors import LLMConfigError
from momorec.llm.params import require_mapping, typed_fields


@dataclass(frozen=True)
class EmbeddedSettings:
    """The embedded llama.cpp pool (used only by models with ``base_url: null``)."""

    servers: int | None = None
    n_threads: int | None = None
    n_ctx: int = 2048
    startup_timeout_s: float = 60.0
    disable_extra_buffers: bool = True

    @classmethod
    def from_params(cls, params: Any, path: str) -> EmbeddedSettings:
        settings = cls(**typed_fields(cls, params, path))
        for name in ("servers", "n_threads", "n_ctx"):
            value = getattr(settings, name)
            if value is not None and value < 1:
                raise LLMConfigError(f"{path}.{name}: must be >= 1 or null, got {value}")
        return settings


@dataclass(frozen=True)
class LLMSettings:
    """The models one stage may call (by name), how calls are made, and the embedded pool's shape."""

    endpoints: Mapping[str, EndpointConfig]
    client: CallSettings = field(default_factory=CallSettings)
    embedded: EmbeddedSettings = field(default_factory=EmbeddedSettings)
    # Where the models are configured, for error messages (``motivation.models``).
    models_key: str = "motivation.models"

    @classmethod
    def from_params(
        cls, models: Any, client: Any, embedded: Any, path: str, models_key: str | None = None
    ) -> LLMSettings:
        """From ``models`` (name -> endpoint settings), ``client`` and ``embedded`` under ``path``."""
        models_key = models_key or f"{path}.models"
        models = require_mapping(models, models_key)
        if not models:
            raise LLMConfigError(f"{models_key}: no model is configured")
        return cls(
            endpoints={
                str(name): EndpointConfig.from_params(str(name), entry, f"{models_key}.{name}")
                for name, entry in models.items()
            },
            client=CallSettings.from_params(require_mapping(client, f"{path}.client"), f"{path}.client"),
            embedded=EmbeddedSettings.from_params(embedded, f"{path}.embedded"),
            models_key=models_key,
        )

    def endpoint(self, name: str) -> EndpointConfig:
        if name not in self.endpoints:
            raise LLMConfigError(
                f"model {name!r} is not defined under {self.models_key} ({sorted(self.endpoints)})"
            )
        return self.endpoints[name]

    def check_api_keys(self, names: Iterable[str]) -> None:
        """Raise for the first of ``names`` whose endpoint needs a key and has none (the message says where
        keys go)."""
        for name in dict.fromkeys(names):
            self.endpoint(name).check_api_key()

    def describe(self, names: Iterable[str]) -> dict[str, dict[str, str]]:
        """Model and base URL (no secrets) of each of ``names``: what logs and MLflow may show."""
        return {
            name: {"model": self.endpoint(name).model, "base_url": self.endpoint(name).public_base_url}
            for name in dict.fromkeys(names)
        }


def alignment_llm_settings(llm_params: Mapping[str, Any]) -> tuple[str, LLMSettings]:
    """The model name and settings of ``params:alignment.llm`` = {name, endpoint, client, embedded}."""
    llm_params = require_mapping(llm_params, "alignment.llm")
    unknown = set(llm_params) - {"name", "endpoint", "client", "embedded"}
    if unknown:
        raise LLMConfigError(f"alignment.llm: unknown keys {sorted(unknown)}")
    if "endpoint" not in llm_params:
        raise LLMConfigError("alignment.llm.endpoint is required ({model, base_url})")
    name = str(llm_params.get("name") or "alignment")
    endpoint = EndpointConfig.from_params(name, llm_params["endpoint"], "alignment.llm.endpoint")
    settings = LLMSettings(
        endpoints={name: endpoint},
        client=CallSettings.from_params(
            require_mapping(llm_params.get("client"), "alignment.llm.client"), "alignment.llm.client"
        ),
        embedded=EmbeddedSettings.from_params(llm_params.get("embedded"), "alignment.llm.embedded"),
        models_key="alignment.llm",
    )
    return name, settings
