"""The LLM layer: one OpenAI-compatible chat client shared by every agent.

Small modules, one job each:

- ``config``: endpoint and call settings, API-key resolution (the key is held in a ``Secret``).
- ``cache``: the SQLite store of every completed call keyed by request and endpoint, plus a table of failures.
- ``usage``: thread-safe accounting of calls, cache hits, tokens, latencies and failures (by kind and endpoint).
- ``failure_budget``: a stage's tolerated share of failed calls and the endpoint's circuit breaker.
- ``redaction``: the one step that removes keys from every text stored or logged.
- ``tokens``: texts cut to a token budget before they enter a prompt.
- ``embedded``: the local llama.cpp server with the SmolLM2 GGUF, used when no endpoint is configured.
- ``client``: deadlines, retries, bounded concurrency and caching around ``openai``'s chat completions.
- ``rate_limit``: per-model requests/tokens per minute, requests in flight, and the slow-down on HTTP 429.
- ``estimate``: calls, tokens and cost of a stage before it runs (the dry run), from the stage's requests.
- ``structured``: the sampling plan and the retry loop of every call whose answer must validate.
- ``testing``: fake OpenAI-compatible HTTP servers (scripted, black hole) for tests and benchmarks.

Reliability cases and their tests: docs/reliability.md ("LLM endpoints").
"""

from momorec.llm.cache import LLMCache
from momorec.llm.client import ChatRequest, ChatResult, LLMClient
from momorec.llm.config import CallSettings, EndpointConfig, Secret
from momorec.llm.errors import (
    LLMAuthenticationError,
    LLMConfigError,
    LLMDryRun,
    LLMEndpointFailing,
    LLMEndpointUnreachable,
    LLMError,
    LLMFailureBudgetExceeded,
    LLMRateLimited,
)
from momorec.llm.structured import SamplingPlan, generate_structured
from momorec.llm.usage import UsageRecorder, merge_usage

__all__ = [
    "CallSettings",
    "ChatRequest",
    "ChatResult",
    "EndpointConfig",
    "LLMAuthenticationError",
    "LLMCache",
    "LLMClient",
    "LLMConfigError",
    "LLMEndpointFailing",
    "LLMEndpointUnreachable",
    "LLMError",
    "LLMDryRun",
    "LLMFailureBudgetExceeded",
    "LLMRateLimited",
    "SamplingPlan",
    "Secret",
    "UsageRecorder",
    "generate_structured",
    "merge_usage",
]
