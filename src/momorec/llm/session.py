"""Clients for the models named in the parameters, opened and closed together around one node's calls.

A node's calls are one LLM stage: when its clients are closed without an error, the stage's failure budget
is checked (``momorec.llm.failure_budget``), so a stage whose calls mostly failed stops the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

from momorec.llm.cache import LLMCache
from momorec.llm.client import LLMClient
from momorec.llm.config import CallSettings, EndpointConfig
from momorec.llm.embedded import EmbeddedPool
from momorec.llm.errors import LLMConfigError
from momorec.llm.failure_budget import check_failure_budget
from momorec.llm.usage import UsageRecorder


def build_client(
    model_name: str,
    models: Mapping[str, Mapping[str, Any]],
    client_params: Mapping[str, Any],
    embedded_params: Mapping[str, Any],
    cache: LLMCache | None,
    usage: UsageRecorder,
    check_budget_on_exit: bool = True,
    logprobs: bool = False,
) -> LLMClient:
    """One client for ``models[model_name]``; the embedded server (if any) starts on its first cache miss.

    Leaving the client's ``with`` block without an error checks ``usage`` against the failure budget
    (``client.max_failed_fraction``) unless ``check_budget_on_exit`` is off. ``logprobs``: the embedded
    servers must answer token log-probabilities (remote endpoints are not affected).
    """
    if model_name not in models:
        raise LLMConfigError(
            f"model {model_name!r} is not defined under motivation.models ({sorted(models)})"
        )
    endpoint = EndpointConfig.from_params(model_name, models[model_name])
    embedded = None
    if endpoint.is_embedded:
        embedded = EmbeddedPool.create(
            endpoint.model,
            n_servers=embedded_params.get("servers"),
            n_threads=embedded_params.get("n_threads"),
            n_ctx=int(embedded_params.get("n_ctx", 2048)),
            startup_timeout_s=float(embedded_params.get("startup_timeout_s", 60)),
            disable_extra_buffers=bool(embedded_params.get("disable_extra_buffers", True)),
            logprobs=logprobs,
        )
    settings = CallSettings.from_params(client_params)
    if embedded is not None:
        # Each llama.cpp server answers one request at a time: one request in flight per server.
        settings = replace(settings, concurrency=len(embedded))
    return LLMClient(endpoint, settings, cache, usage, embedded, check_budget_on_exit)


@contextmanager
def open_clients(
    model_names: list[str],
    models: Mapping[str, Mapping[str, Any]],
    client_params: Mapping[str, Any],
    embedded_params: Mapping[str, Any],
    cache: LLMCache | None,
    usage: UsageRecorder,
    logprobs: bool = False,
) -> Iterator[dict[str, LLMClient]]:
    """Clients by model name sharing one usage recorder; every embedded server is stopped on exit, also on error.

    After a clean exit the shared ``usage`` is checked once against the failure budget. ``logprobs``: see
    :func:`build_client`.
    """
    settings = CallSettings.from_params(client_params)
    with ExitStack() as stack:
        clients = {}
        for name in dict.fromkeys(model_names):
            clients[name] = stack.enter_context(
                build_client(
                    name,
                    models,
                    client_params,
                    embedded_params,
                    cache,
                    usage,
                    check_budget_on_exit=False,
                    logprobs=logprobs,
                )
            )
        yield clients
    check_failure_budget(usage.as_dict(), settings.max_failed_fraction)
