"""Kedro hooks of the LLM layer: credentials and log redaction; the leak canary's switch for paid endpoints.

Kedro passes credentials to datasets only; the LLM clients are built inside nodes, so this hook registers
the credentials' ``llm`` entry (e.g. ``llm: {api_key: ...}``; ``conf/local/credentials.yml`` is read under
every environment, ``momorec.config_loader``) once the context exists. It also
adds the redaction filter (``momorec.llm.redaction``) to every handler of the root logger, which Kedro has
configured by then, so no log line shows a configured key or a credential-shaped value.
Without the hook, keys still come from the environment (``MOMOREC_LLM_API_KEY``; ``OPENAI_API_KEY`` for OpenAI only).
Enable it in ``settings.py``: ``HOOKS = (..., LLMCredentialsHook())``.

``LeakCanarySwitchHook`` stops a run that includes the leak canary's LLM nodes before anything runs when
``leak_canary.enabled`` says the canary must not call the configured models: ``auto`` (the default) lets it
call the embedded model only, since on a paid endpoint the canary repeats the motivation stage's calls on
other pairs (the dry run's estimate lists that share); ``true`` always, ``false`` never. The error says how to
run without the canary (``kedro run --pipeline without_leak_canary``) or how to allow it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl
from kedro.io.core import DatasetNotFoundError

from momorec.llm.config import register_credentials
from momorec.llm.errors import LLMConfigError
from momorec.llm.redaction import install_log_redaction

logger = logging.getLogger(__name__)


class LLMCredentialsHook:
    @hook_impl
    def after_context_created(self, context) -> None:
        install_log_redaction()
        try:
            credentials = context.config_loader["credentials"]
        except (KeyError, MissingConfigException):  # no credentials file in any environment
            credentials = {}
        section = credentials.get("llm") or {}
        register_credentials(section)
        if section:
            logger.info(
                "LLM credentials registered for: %s", ", ".join(sorted(section))
            )  # names only, no values


CANARY_NAMESPACE = "leak_canary"
CANARY_SWITCH = ("auto", True, False)


def remote_motivation_models(motivation: Mapping[str, Any]) -> list[str]:
    """The models the motivation agents and the LLM judge would call at a remote endpoint (a base_url)."""
    used = set(motivation["agents"]["models"]) | {str(motivation["judge"]["model"])}
    models = motivation["models"]
    return sorted(name for name in used if name in models and models[name].get("base_url"))


def leak_canary_refusal(switch: Any, motivation: Mapping[str, Any]) -> str | None:
    """Why the canary must not call the models (``None``: it may) under ``leak_canary.enabled = switch``."""
    if switch not in CANARY_SWITCH:
        raise LLMConfigError(f"leak_canary.enabled must be auto, true or false, got {switch!r}")
    if switch is True:
        return None
    if switch is False:
        return "leak_canary.enabled is false"
    remote = remote_motivation_models(motivation)
    if not remote:
        return None
    return (
        f"leak_canary.enabled is auto and the motivation stage calls remote models ({', '.join(remote)}): the "
        "canary would repeat its calls on the pairs of full sequences, at the endpoint's price (the dry run, "
        "--params motivation.dry_run=true, lists that share in llm_estimate.json)"
    )


class LeakCanarySwitchHook:
    # tryfirst: stop before kedro-mlflow's own before_pipeline_run opens a run that nothing would close.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        canary_llm_nodes = [
            node.name
            for node in pipeline.nodes
            if node.namespace == CANARY_NAMESPACE and "llm_cache" in node.inputs
        ]
        if not canary_llm_nodes:
            return
        try:
            switch = catalog.load("params:leak_canary").get("enabled", "auto")
        except DatasetNotFoundError:  # no leak_canary parameters in this configuration: the default
            switch = "auto"
        refusal = leak_canary_refusal(switch, catalog.load("params:motivation"))
        if refusal is not None:
            raise LLMConfigError(
                f"This run includes the leak canary's LLM nodes ({', '.join(canary_llm_nodes)}), but {refusal}. "
                "Run without the canary (kedro run --pipeline without_leak_canary: every stage of the default "
                "run but the canary and its recommender variant), or allow it: --params leak_canary.enabled=true."
            )
