"""Clients for the models named in the parameters, opened and closed together around one node's calls."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

from momorec.llm.cache import LLMCache
from momorec.llm.client import LLMClient
from momorec.llm.config import CallSettings, EndpointConfig
from momorec.llm.embedded import EmbeddedServer
from momorec.llm.errors import LLMConfigError
from momorec.llm.usage import UsageRecorder


def build_client(
    model_name: str,
    models: Mapping[str, Mapping[str, Any]],
    client_params: Mapping[str, Any],
    embedded_params: Mapping[str, Any],
    cache: LLMCache | None,
    usage: UsageRecorder,
) -> LLMClient:
    """One client for ``models[model_name]``; the embedded server (if any) starts on its first cache miss."""
    if model_name not in models:
        raise LLMConfigError(
            f"model {model_name!r} is not defined under motivation.models ({sorted(models)})"
        )
    endpoint = EndpointConfig.from_params(model_name, models[model_name])
    embedded = None
    if endpoint.is_embedded:
        embedded = EmbeddedServer(
            model_alias=endpoint.model,
            n_ctx=int(embedded_params.get("n_ctx", 2048)),
            n_threads=embedded_params.get("n_threads"),
            startup_timeout_s=float(embedded_params.get("startup_timeout_s", 60)),
            disable_extra_buffers=bool(embedded_params.get("disable_extra_buffers", True)),
        )
    settings = CallSettings.from_params(client_params)
    if embedded is not None:
        # llama.cpp's server answers one request at a time: queueing more only inflates measured latencies.
        settings = replace(settings, concurrency=1)
    return LLMClient(endpoint, settings, cache, usage, embedded)


@contextmanager
def open_clients(
    model_names: list[str],
    models: Mapping[str, Mapping[str, Any]],
    client_params: Mapping[str, Any],
    embedded_params: Mapping[str, Any],
    cache: LLMCache | None,
    usage: UsageRecorder,
) -> Iterator[dict[str, LLMClient]]:
    """Clients by model name sharing one usage recorder; every embedded server is stopped on exit, also on error."""
    with ExitStack() as stack:
        clients = {}
        for name in dict.fromkeys(model_names):
            clients[name] = stack.enter_context(
                build_client(name, models, client_params, embedded_params, cache, usage)
            )
        yield clients
