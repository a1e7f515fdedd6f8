"""The project's ``LLMClient`` for an alignment node, built by the LLM layer from ``params:alignment.llm``.

The client, the SQLite cache (the ``llm_cache`` dataset) and the embedded server are the LLM layer's
(``momorec.llm.session.build_client``); this module only maps the alignment parameters onto it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from momorec.llm import LLMCache, LLMClient, UsageRecorder
from momorec.llm.session import build_client as build_layer_client


def build_client(llm_params: Mapping[str, Any], stage: str, cache: LLMCache | None) -> LLMClient:
    """A client for ``llm_params`` = {name, endpoint: {model, base_url, ...}, client: {...}, embedded: {...}}.

    Use it as a context manager so the embedded server (if started) stops when the node is done.
    """
    if "endpoint" not in llm_params:
        raise ValueError("alignment.llm: missing key 'endpoint' ({model, base_url})")
    name = str(llm_params.get("name", "alignment"))
    return build_layer_client(
        name,
        {name: llm_params["endpoint"]},
        dict(llm_params.get("client") or {}),
        dict(llm_params.get("embedded") or {}),
        cache,
        UsageRecorder(stage=stage),
    )
