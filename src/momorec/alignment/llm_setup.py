"""Build the project's ``LLMClient`` for an alignment node from ``params:alignment.llm``.

The client, its SQLite cache and the embedded server are those of the LLM layer; this module only reads
the parameters (same keys as ``motivation.models.<name>`` and ``motivation.client``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from momorec.llm import CallSettings, EndpointConfig, LLMCache, LLMClient, UsageRecorder


def build_client(llm_params: Mapping[str, Any], stage: str) -> LLMClient:
    """A client for ``llm_params`` = {name, endpoint: {model, base_url, ...}, client: {...}, cache_path}.

    Use it as a context manager so the embedded server (if started) stops when the node is done.
    """
    for key in ("endpoint", "cache_path"):
        if key not in llm_params:
            raise ValueError(f"alignment.llm: missing key {key!r}")
    endpoint = EndpointConfig.from_params(str(llm_params.get("name", "alignment")), llm_params["endpoint"])
    settings = CallSettings.from_params(dict(llm_params.get("client") or {}))
    cache = LLMCache(llm_params["cache_path"]) if llm_params["cache_path"] else None
    return LLMClient(endpoint, settings, cache=cache, usage=UsageRecorder(stage=stage))
