"""An alignment LLM stage's client and sampling plan, from ``params:alignment``, its usage record, and the
schema-validated generation the profile and trait stages share.

The client, the SQLite cache (the ``llm_cache`` dataset) and the embedded server are the LLM layer's
(``momorec.llm.session``); a node reads ``alignment.llm`` once (:func:`stage_llm`) and hands the typed
settings here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from momorec.alignment.prompts import STAGE_SALTS
from momorec.alignment.schemas import StructuredSchema, validated_or_problems
from momorec.llm import LLMCache, LLMClient, UsageRecorder
from momorec.llm.session import announce_endpoints
from momorec.llm.session import build_client as build_layer_client
from momorec.llm.settings import LLMSettings, alignment_llm_settings
from momorec.llm.structured import SamplingPlan, generate_structured

logger = logging.getLogger(__name__)


StageLLM = tuple[str, LLMSettings]
"""The model name and the typed settings of ``alignment.llm``."""


def stage_llm(params: Mapping[str, Any]) -> StageLLM:
    """``params:alignment.llm`` read once: {name, endpoint: {model, base_url, ...}, client, embedded}."""
    return alignment_llm_settings(params["llm"])


def build_client(llm: StageLLM, stage: str, cache: LLMCache | None) -> LLMClient:
    """A client for the alignment model; use it as a context manager so the embedded server (if started)
    stops when the node is done."""
    name, settings = llm
    announce_endpoints(stage, settings, [name])
    return build_layer_client(name, settings, cache, UsageRecorder(stage=stage))


def stage_plan(params: Mapping[str, Any], stage: str) -> SamplingPlan:
    """The sampling plan of ``stage`` (profiles, traits, compatibility) with the stage's prompt salt."""
    return SamplingPlan.from_params(params[stage], salt=STAGE_SALTS[stage], path=f"alignment.{stage}")


def generate_schema_objects(
    client: LLMClient,
    messages_json: Sequence[str],
    keys: Sequence[Any],
    schema: StructuredSchema,
    plan: SamplingPlan,
    what: str,
) -> tuple[pd.DataFrame, float]:
    """One ``schema`` object per prompt (validated, retried, failures recorded), and the wall seconds.

    The table has a row per key (``momorec.llm.structured.RESULT_COLUMNS``) and ``text``: the object written
    as prompt text by ``schema.to_text``, "" where the request failed. ``what`` names the requests in logs.
    """
    batch = generate_structured(
        client,
        [json.loads(m) for m in messages_json],
        lambda text: validated_or_problems(schema, text),
        plan.with_schema(schema.to_json_schema()),
        description=f"{what} (attempt {{attempt}})",
    )
    table = batch.to_table(list(keys))
    table["text"] = [
        schema.to_text(json.loads(value)) if status == "ok" else ""
        for status, value in zip(table["status"], table["value_json"], strict=True)
    ]
    return table, batch.wall_seconds


def run_llm_stage(
    stage: str,
    llm: StageLLM,
    cache: LLMCache | None,
    generate: Callable[[LLMClient], tuple[Any, ...]],
) -> tuple[Any, dict[str, Any]]:
    """Run ``generate(client)`` on a client for ``stage``; its outputs and the stage's usage record.

    ``generate`` returns its outputs followed by the wall seconds; the last output is the per-request table
    (status, prompt_tokens, completion_tokens) whose tokens count every request, cache hits included.
    """
    with build_client(llm, f"alignment_{stage}", cache) as client:
        *outputs, seconds = generate(client)
        usage = {**client.usage.as_dict(), "wall_seconds": float(seconds), **_request_tokens(outputs[-1])}
    requests = outputs[-1]
    failed = int((requests["status"] != "ok").sum()) if len(requests) else 0
    logger.info("alignment %s: %d ok, %d failed after retries", stage, len(requests) - failed, failed)
    return (outputs[0] if len(outputs) == 1 else tuple(outputs)), usage


def _request_tokens(requests: pd.DataFrame) -> dict[str, int]:
    return {
        "request_prompt_tokens": int(requests["prompt_tokens"].sum()) if len(requests) else 0,
        "request_completion_tokens": int(requests["completion_tokens"].sum()) if len(requests) else 0,
    }
