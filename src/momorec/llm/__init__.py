"""The LLM layer: one OpenAI-compatible chat client shared by every agent.

Small modules, one job each:

- ``config``: endpoint and call settings, API-key resolution (the key is held in a ``Secret``).
- ``cache``: the SQLite store of every completed call, plus a separate table of failures.
- ``usage``: thread-safe accounting of calls, cache hits, tokens, latencies and failures.
- ``embedded``: the local llama.cpp server with the SmolLM2 GGUF, used when no endpoint is configured.
- ``client``: retries, timeouts, bounded concurrency and caching around ``openai``'s chat completions.
- ``structured``: the sampling plan and the retry loop of every call whose answer must validate.
- ``testing``: a scripted fake OpenAI-compatible HTTP server for tests and benchmarks.
"""

from momorec.llm.cache import LLMCache
from momorec.llm.client import ChatRequest, ChatResult, LLMClient
from momorec.llm.config import CallSettings, EndpointConfig, Secret
from momorec.llm.errors import LLMAuthenticationError, LLMConfigError, LLMEndpointUnreachable, LLMError
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
    "LLMEndpointUnreachable",
    "LLMError",
    "SamplingPlan",
    "Secret",
    "UsageRecorder",
    "generate_structured",
    "merge_usage",
]
