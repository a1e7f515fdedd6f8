"""Clients for the models of a stage's typed settings, opened and closed together around one node's calls.

A node's calls are one LLM stage: when its clients are closed without an error, the stage's failure budget
is checked (``momorec.llm.failure_budget``), so a stage whose calls mostly failed stops the run. Opening a
stage's clients logs, and records as MLflow parameters when a run is active, which model at which endpoint
(base URL without secrets) the stage uses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace

from momorec.llm.cache import LLMCache
from momorec.llm.client import LLMClient
from momorec.llm.embedded import EmbeddedPool
from momorec.llm.failure_budget import check_failure_budget
from momorec.llm.settings import LLMSettings
from momorec.llm.usage import UsageRecorder

logger = logging.getLogger(__name__)


def build_client(
    model_name: str,
    llm: LLMSettings,
    cache: LLMCache | None,
    usage: UsageRecorder,
    check_budget_on_exit: bool = True,
    logprobs: bool = False,
) -> LLMClient:
    """One client for ``llm.endpoints[model_name]``; the embedded server (if any) starts on its first cache miss.

    Leaving the client's ``with`` block without an error checks ``usage`` against the failure budget
    (``client.max_failed_fraction``) unless ``check_budget_on_exit`` is off. ``logprobs``: the embedded
    servers must answer token log-probabilities (remote endpoints are not affected).
    """
    endpoint = llm.endpoint(model_name)
    endpoint.check_api_key()  # before any server starts or request is made
    settings = llm.client
    embedded = None
    if endpoint.is_embedded:
        embedded = EmbeddedPool.create(
            endpoint.model,
            n_servers=llm.embedded.servers,
            n_threads=llm.embedded.n_threads,
            n_ctx=llm.embedded.n_ctx,
            startup_timeout_s=llm.embedded.startup_timeout_s,
            disable_extra_buffers=llm.embedded.disable_extra_buffers,
            logprobs=logprobs,
        )
        # Each llama.cpp server answers one request at a time: one request in flight per server.
        settings = replace(settings, concurrency=len(embedded))
    return LLMClient(endpoint, settings, cache, usage, embedded, check_budget_on_exit)


def announce_endpoints(stage: str, llm: LLMSettings, model_names: Sequence[str]) -> None:
    """Log which model at which endpoint ``stage`` calls, and log it as MLflow parameters in an active run
    (``llm.<stage>.<model name>.model`` / ``.base_url``; never a key, user, password or query string)."""
    described = llm.describe(model_names)
    for name, endpoint in described.items():
        logger.info(
            "LLM stage %s: model %r is %s at %s", stage, name, endpoint["model"], endpoint["base_url"]
        )
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.log_params(
            {f"llm.{stage}.{name}.{key}": value for name, e in described.items() for key, value in e.items()}
        )


@contextmanager
def open_clients(
    model_names: Sequence[str],
    llm: LLMSettings,
    cache: LLMCache | None,
    usage: UsageRecorder,
    logprobs: bool = False,
) -> Iterator[dict[str, LLMClient]]:
    """Clients by model name sharing one usage recorder; every embedded server is stopped on exit, also on error.

    After a clean exit the shared ``usage`` is checked once against the failure budget. ``logprobs``: see
    :func:`build_client`.
    """
    llm.check_api_keys(model_names)
    announce_endpoints(usage.stage, llm, model_names)
    with ExitStack() as stack:
        clients = {
            name: stack.enter_context(
                build_client(name, llm, cache, usage, check_budget_on_exit=False, logprobs=logprobs)
            )
            for name in dict.fromkeys(model_names)
        }
        yield clients
    check_failure_budget(usage.as_dict(), llm.client.max_failed_fraction)
