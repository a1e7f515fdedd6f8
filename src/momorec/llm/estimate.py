"""What an LLM stage will cost before it runs: calls, tokens and dollars, without sending a request.

A stage lists the requests it would send (``PlannedCall``: a part of the stage, the model, the request);
``estimate_parts`` looks each one up in the LLM cache (a cached answer costs nothing, as in a real run),
counts the prompt tokens of the others and prices them with the model's configured prices:

- **Calls** are the requests the cache cannot answer. Requests whose text depends on an earlier answer (a
  summary quotes the generation) are exact when that answer is cached, and otherwise counted once, with the
  earlier answer's length taken as its ``max_tokens``. Retries of unparseable answers are not foreseen: the
  real run makes a few more calls when the model answers badly (about 4 % with the embedded 135M model).
- **Prompt tokens**: the embedded model's own tokenizer on its own chat template (the GGUF's vocabulary is
  read, no server is started); any other model at 4 characters per token plus 4 tokens per message and 3
  for the reply's start (OpenAI's chat format; ``momorec.llm.tokens``).
- **Completion tokens**: each call's ``max_tokens``, an upper bound (answers are often shorter).
- **Cost**: ``price_per_million_prompt_tokens`` and ``price_per_million_completion_tokens`` of the model's
  entry; the embedded model costs 0; a remote model without prices has ``cost_usd`` null (unknown).

The result has the fields of ``llm_usage.json`` (``requests``, ``calls``, ``cache_hits``,
``prompt_tokens``, ``completion_tokens``, ``cost_usd``), per part and in total, so estimate and outcome
compare line by line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from momorec.llm.cache import LLMCache
from momorec.llm.client import ChatRequest, embedded_identity
from momorec.llm.config import EndpointConfig
from momorec.llm.errors import LLMConfigError, LLMDryRun
from momorec.llm.tokens import approximate_tokens

logger = logging.getLogger(__name__)

FIELDS = ("requests", "calls", "cache_hits", "prompt_tokens", "completion_tokens", "cost_usd")
# OpenAI's chat format: about 4 tokens around each message and 3 that start the reply.
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3
TOKEN_RULES = {
    "embedded": "the embedded model's tokenizer on its chat template (exact prompt; completion = max_tokens)",
    "approximate": "4 characters per token + 4 per message + 3 per reply (completion = max_tokens)",
}


@dataclass(frozen=True)
class PlannedCall:
    """One request a stage will send: ``part`` of the stage, ``model`` (its name in the configuration).

    ``identity`` says which work it is independently of answers not known yet (e.g. the generation's cache
    key for a summary): two stages sharing the cache share a call when their identities match.
    ``unknown_prompt_tokens`` counts prompt text that will only be known at run time (an earlier answer
    quoted in this prompt); ``cached`` is set when the request is known and answered by the cache.
    """

    part: str
    model: str
    request: ChatRequest
    identity: str
    unknown_prompt_tokens: int = 0
    cached: bool = False


class CacheView:
    """Read-only lookups of planned requests in the LLM cache, keyed as the clients key them."""

    def __init__(self, cache: LLMCache | None, endpoints: Mapping[str, EndpointConfig]) -> None:
        self.cache = cache
        self.endpoints = dict(endpoints)
        # An embedded endpoint is keyed by its model file, never its port (``LLMClient.cache_identity``).
        self._identities = {
            name: endpoint.cache_identity(embedded_identity(None))
            for name, endpoint in self.endpoints.items()
        }

    def key(self, model: str, request: ChatRequest) -> str:
        return request.cache_key(self.endpoints[model].model, self._identities[model])

    def answer(self, model: str, request: ChatRequest) -> str | None:
        """The cached answer's text, ``None`` when the real run would have to ask."""
        if self.cache is None:
            return None
        hit = self.cache.get(self.key(model, request))
        return None if hit is None else hit.text


class TokenCounter:
    """Prompt tokens of a request for one endpoint (the embedded tokenizer is loaded once, lazily)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._embedded: Any = None  # (llama_cpp.Llama with the vocabulary only, chat formatter)

    @staticmethod
    def rule(endpoint: EndpointConfig) -> str:
        return "embedded" if endpoint.is_embedded else "approximate"

    def prompt_tokens(self, endpoint: EndpointConfig, request: ChatRequest) -> int:
        if endpoint.is_embedded:
            return self._embedded_tokens(request)
        text_tokens = sum(approximate_tokens(content) for _, content in request.messages)
        return text_tokens + TOKENS_PER_MESSAGE * len(request.messages) + TOKENS_PER_REPLY

    def _embedded_tokens(self, request: ChatRequest) -> int:
        vocabulary, formatter = self._embedded_tokenizer()
        prompt = formatter(messages=request.message_dicts()).prompt
        return len(vocabulary.tokenize(prompt.encode(), add_bos=False, special=True))

    def _embedded_tokenizer(self) -> Any:
        with self._lock:
            if self._embedded is None:
                import llama_cpp  # the embedded model's runtime: imported only when an estimate needs it
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                from momorec.llm.embedded import find_embedded_gguf

                vocabulary = llama_cpp.Llama(
                    model_path=str(find_embedded_gguf()), vocab_only=True, verbose=False
                )
                template = vocabulary.metadata["tokenizer.chat_template"]
                formatter = Jinja2ChatFormatter(
                    template, eos_token="<|im_end|>", bos_token="", add_generation_prompt=True
                )
                self._embedded = (vocabulary, formatter)
            return self._embedded


def empty_totals() -> dict[str, Any]:
    return {
        "requests": 0,
        "calls": 0,
        "cache_hits": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
    }


def add_totals(total: dict[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    """``total`` plus ``part`` (a cost stays null once one part's cost is unknown)."""
    for field in FIELDS[:-1]:
        total[field] += int(part.get(field, 0) or 0)
    cost = part.get("cost_usd")
    total["cost_usd"] = (
        None if cost is None or total["cost_usd"] is None else round(total["cost_usd"] + cost, 6)
    )
    return total


def estimate_parts(
    planned: Iterable[PlannedCall],
    endpoints: Mapping[str, EndpointConfig],
    counter: TokenCounter | None = None,
    skip: frozenset[str] = frozenset(),
) -> dict[str, dict[str, Any]]:
    """Per part: requests, calls (not cached), cache hits, tokens and cost of the calls.

    Planned calls whose ``identity`` is in ``skip`` (already made by another stage that shares the cache)
    are left out.
    """
    counter = counter or TokenCounter()
    parts: dict[str, dict[str, Any]] = {}
    for call in planned:
        if call.identity in skip:
            continue
        part = parts.setdefault(call.part, {**empty_totals(), "models": {}})
        part["requests"] += 1
        if call.cached:
            part["cache_hits"] += 1
            continue
        endpoint = endpoints[call.model]
        prompt = counter.prompt_tokens(endpoint, call.request) + call.unknown_prompt_tokens
        completion = call.request.max_tokens
        cost = endpoint.cost_usd(prompt, completion)
        part["calls"] += 1
        part["prompt_tokens"] += prompt
        part["completion_tokens"] += completion
        part["cost_usd"] = None if cost is None or part["cost_usd"] is None else part["cost_usd"] + cost
        part["models"][call.model] = TokenCounter.rule(endpoint)
    for part in parts.values():
        if part["cost_usd"] is not None:
            part["cost_usd"] = round(part["cost_usd"], 6)
    return parts


def summarise(parts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The totals over ``parts``."""
    total = empty_totals()
    for part in parts.values():
        add_totals(total, part)
    return total


def estimate_table(estimate: Mapping[str, Any]) -> str:
    """A short fixed-width table of an estimate (``parts``, ``total``, optional ``leak_canary``)."""
    rows = [(name, part) for name, part in estimate["parts"].items()]
    rows.append(("total", estimate["total"]))
    if estimate.get("leak_canary") is not None:
        rows.append(("leak canary (extra)", estimate["leak_canary"]["total"]))
        rows.append(("total with canary", estimate["total_with_leak_canary"]))
    header = f"{'part':<22}{'requests':>9}{'calls':>8}{'prompt tok':>12}{'compl. tok':>12}{'cost USD':>11}"
    lines = [header, "-" * len(header)]
    for name, row in rows:
        cost = "unknown" if row.get("cost_usd") is None else f"{row['cost_usd']:.4f}"
        lines.append(
            f"{name:<22}{row['requests']:>9}{row['calls']:>8}{row['prompt_tokens']:>12}"
            f"{row['completion_tokens']:>12}{cost:>11}"
        )
    return "\n".join(lines)


def log_estimate(stage: str, estimate: Mapping[str, Any], dataset: str) -> None:
    """Print the table (whole, to stdout: a log handler would wrap its lines) and log the totals."""
    print(f"\nLLM estimate of the {stage} stage ({dataset}):\n{estimate_table(estimate)}\n", flush=True)
    total = estimate["total"]
    logger.info(
        "LLM estimate of the %s stage (%s): %d calls, %d prompt and at most %d completion tokens, cost %s USD",
        stage, dataset, total["calls"], total["prompt_tokens"], total["completion_tokens"], total["cost_usd"],
    )  # fmt: skip
    if total.get("cost_usd") is None:
        logger.warning(
            "No price for a remote model: set price_per_million_prompt_tokens and "
            "price_per_million_completion_tokens under its entry to get cost_usd."
        )


def is_dry_run(stage: str, params: Mapping[str, Any]) -> bool:
    """``<stage>.dry_run``, checked (``--params motivation.dry_run=true``)."""
    value = params.get("dry_run", False)
    if not isinstance(value, bool):
        raise LLMConfigError(f"{stage}.dry_run must be true or false, got {value!r}")
    return value


def stop_if_dry_run(stage: str, params: Mapping[str, Any], estimate: Mapping[str, Any], dataset: str) -> None:
    """End a dry run before the stage's first request, saying where the estimate is and how to run for real.

    Raising (rather than returning empty outputs) keeps every later node from running on answers that were
    never generated, and leaves the previous run's outputs as they were.
    """
    if not is_dry_run(stage, params):
        return
    total = estimate["total"]
    cost = "unknown cost" if total.get("cost_usd") is None else f"{total['cost_usd']:.4f} USD"
    raise LLMDryRun(
        f"Dry run of the {stage} stage: no LLM request was made. Estimate: {total['calls']} calls, "
        f"{total['prompt_tokens']} prompt and at most {total['completion_tokens']} completion tokens, {cost} "
        f"(the {dataset} dataset, 08_reporting/{dataset}.json under the environment's data root). The run stops here on purpose, so no later "
        f"node runs on answers that were never generated; run without {stage}.dry_run=true to make the calls."
    )
