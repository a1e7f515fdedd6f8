"""Kedro hook that hands the ``llm`` section of the credentials to the LLM layer and redacts log output.

Kedro passes credentials to datasets only; the LLM clients are built inside nodes, so this hook registers
the credentials' ``llm`` entry (e.g. ``llm: {api_key: ...}``; ``conf/local/credentials.yml`` is read under
every environment, ``momorec.config_loader``) once the context exists. It also
adds the redaction filter (``momorec.llm.redaction``) to every handler of the root logger, which Kedro has
configured by then, so no log line shows a configured key or a credential-shaped value.
Without the hook, keys still come from the environment (``MOMOREC_LLM_API_KEY``; ``OPENAI_API_KEY`` for OpenAI only).
Enable it in ``settings.py``: ``HOOKS = (..., LLMCredentialsHook())``.
"""

from __future__ import annotations

import logging

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from momorec.llm.config import register_credentials
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
