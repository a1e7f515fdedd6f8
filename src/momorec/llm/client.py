"""The chat client every agent uses: cache first, then the endpoint with timeouts and retries.

Transient errors (connection refused/reset, timeouts, HTTP 408/429/5xx, a malformed or empty body) are retried with exponential
backoff; authentication errors (401/403) and an unknown model (404) stop the run at once with an error that
names the endpoint; other 4xx answers are recorded as failures of that request. A request that still fails
after its retries is recorded in the cache's failure table and returned as a failed ``ChatResult`` (never an
invented answer), so a later run retries it. When nothing answers at all the run stops with
``LLMEndpointUnreachable``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

import openai
from tqdm.auto import tqdm

from momorec.llm.cache import CachedCompletion, LLMCache
from momorec.llm.config import CallSettings, EndpointConfig
from momorec.llm.embedded import EmbeddedServer
from momorec.llm.errors import LLMAuthenticationError, LLMConfigError, LLMEndpointUnreachable
from momorec.llm.usage import UsageRecorder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatRequest:
    """One chat-completion request; everything that changes the answer is part of its cache key."""

    messages: tuple[tuple[str, str], ...]
    temperature: float = 0.0
    max_tokens: int = 128
    top_p: float = 1.0
    seed: int | None = None
    json_mode: bool = False
    # A JSON schema (canonical JSON text) the answer must follow; the server constrains decoding to it.
    json_schema: str | None = None
    # Bumped when prompts change meaning without changing text layout, so old answers are not reused.
    salt: str = ""

    @classmethod
    def from_messages(cls, messages: Sequence[dict[str, str]], **sampling: Any) -> ChatRequest:
        return cls(messages=tuple((m["role"], m["content"]) for m in messages), **sampling)

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]

    def as_record(self, model: str) -> dict[str, Any]:
        record = asdict(self)
        record["messages"] = self.message_dicts()
        if record["json_schema"] is None:
            del record["json_schema"]  # requests without a schema keep the cache keys they always had
        return {"model": model, **record}

    def cache_key(self, model: str) -> str:
        payload = json.dumps(self.as_record(model), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChatResult:
    """The outcome of one request: ``text`` when ``ok``; ``error_kind``/``error`` otherwise."""

    ok: bool
    text: str | None = None
    cached: bool = False
    error_kind: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0


@dataclass
class _CallFailure:
    kind: str
    message: str
    attempts: int
    transient: bool = field(default=True)


class LLMClient:
    """A cached, retrying, concurrency-bounded chat client for one model at one endpoint.

    With an embedded endpoint (``base_url`` unset) the llama.cpp server is started lazily, on the first
    request the cache cannot answer, and stopped by ``close()`` (use the client as a context manager).
    """

    def __init__(
        self,
        endpoint: EndpointConfig,
        settings: CallSettings | None = None,
        cache: LLMCache | None = None,
        usage: UsageRecorder | None = None,
        embedded_server: EmbeddedServer | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.settings = settings or CallSettings()
        self.cache = cache
        self.usage = usage or UsageRecorder(stage=endpoint.name)
        self._embedded = embedded_server
        if endpoint.is_embedded and self._embedded is None:
            self._embedded = EmbeddedServer(model_alias=endpoint.model)
        self._openai: openai.OpenAI | None = None
        self._openai_lock = threading.Lock()
        self._base_url: str | None = endpoint.base_url

    def __repr__(self) -> str:
        return f"LLMClient(endpoint={self.endpoint.describe()}, settings={self.settings})"

    def describe(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint.describe(), "settings": asdict(self.settings)}

    @property
    def endpoint_label(self) -> str:
        return self._base_url or "the embedded llama.cpp server"

    def _client(self) -> openai.OpenAI:
        with self._openai_lock:
            if self._openai is None:
                api_key = self.endpoint.key_for_client()
                if self.endpoint.is_embedded:
                    self._base_url = self._embedded.start()
                self._openai = openai.OpenAI(
                    base_url=self._base_url, api_key=api_key, max_retries=0, timeout=self.settings.timeout_s
                )
            return self._openai

    def close(self) -> None:
        with self._openai_lock:
            if self._openai is not None:
                self._openai.close()
                self._openai = None
            if self._embedded is not None:
                self._embedded.stop()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------------ one request
    def complete(self, request: ChatRequest) -> ChatResult:
        """Answer one request from the cache or the endpoint; fatal configuration errors raise."""
        key = request.cache_key(self.endpoint.model)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.usage.record_cache_hit()
                return ChatResult(
                    ok=True,
                    text=hit.text,
                    cached=True,
                    prompt_tokens=hit.prompt_tokens,
                    completion_tokens=hit.completion_tokens,
                    latency_s=hit.latency_s,
                )
        outcome = self._call_with_retries(request)
        if isinstance(outcome, _CallFailure):
            if self.cache is not None:
                self.cache.record_failure(key, self.endpoint.model, outcome.kind, outcome.message)
            self.usage.record_failure(outcome.attempts, outcome.kind)
            return ChatResult(ok=False, error_kind=outcome.kind, error=outcome.message)
        completion, attempts = outcome
        if self.cache is not None:
            self.cache.put(key, self.endpoint.model, request.as_record(self.endpoint.model), completion)
        self.usage.record_call(
            attempts, completion.latency_s, completion.prompt_tokens, completion.completion_tokens
        )
        return ChatResult(
            ok=True,
            text=completion.text,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_s=completion.latency_s,
        )

    def _call_with_retries(self, request: ChatRequest) -> tuple[CachedCompletion, int] | _CallFailure:
        client = self._client()
        arguments: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": request.message_dicts(),
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "timeout": self.settings.timeout_s,
        }
        if request.seed is not None:
            arguments["seed"] = request.seed
        response_format = self.endpoint.response_format(request.json_mode, request.json_schema)
        if response_format is not None:
            arguments["response_format"] = response_format
        failure: _CallFailure | None = None
        for attempt in range(1, self.settings.max_retries + 2):
            started = time.perf_counter()
            try:
                response = client.chat.completions.create(**arguments)
            except openai.APITimeoutError as error:
                failure = _CallFailure(
                    "timeout", f"no answer within {self.settings.timeout_s} s: {error}", attempt
                )
            except openai.APIConnectionError as error:
                failure = _CallFailure("connection", f"{type(error).__name__}: {error}", attempt)
            except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
                key_state = "an API key is set" if self.endpoint.api_key is not None else "no API key is set"
                raise LLMAuthenticationError(
                    f"The LLM endpoint {self.endpoint_label} refused the request with HTTP {error.status_code} "
                    f"({key_state} for model {self.endpoint.name!r}); check conf/local/credentials.yml "
                    f"(llm: {{api_key: ...}}) or the MOMOREC_LLM_API_KEY environment variable."
                ) from None
            except openai.NotFoundError as error:
                raise LLMConfigError(
                    f"The LLM endpoint {self.endpoint_label} answered 404 for model {self.endpoint.model!r}: "
                    f"check motivation.models.{self.endpoint.name} ({error.message})"
                ) from None
            except openai.APIStatusError as error:
                transient = error.status_code == 429 or error.status_code >= 500 or error.status_code == 408
                failure = _CallFailure(
                    f"http_{error.status_code}", str(error.message)[:500], attempt, transient
                )
                if not transient:
                    return failure
            except (ValueError, openai.APIResponseValidationError) as error:
                # A body that is not a chat completion (a proxy's error page, a truncated reply): retry.
                failure = _CallFailure(
                    "malformed_response", f"{type(error).__name__}: {error}"[:500], attempt
                )
            else:
                latency = time.perf_counter() - started
                usage = response.usage
                text = response.choices[0].message.content if response.choices else None
                if not text or not text.strip():
                    # Never cached: an empty answer is retried now and on the next run.
                    failure = _CallFailure(
                        "empty_response", "the endpoint returned no message content", attempt
                    )
                    if attempt <= self.settings.max_retries:
                        time.sleep(self._backoff(attempt))
                    continue
                completion = CachedCompletion(
                    text=text,
                    prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                    completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                    latency_s=latency,
                )
                return completion, attempt
            if attempt <= self.settings.max_retries:
                time.sleep(self._backoff(attempt))
        assert failure is not None
        if failure.kind == "connection":
            raise LLMEndpointUnreachable(
                f"Cannot reach the LLM endpoint {self.endpoint_label} (model {self.endpoint.model!r}) after "
                f"{failure.attempts} attempts: {failure.message}. Is the server running and is "
                f"motivation.models.{self.endpoint.name}.base_url right?"
            )
        return failure

    def _backoff(self, attempt: int) -> float:
        # Exponential with a little jitter so concurrent workers do not retry in lockstep.
        delay = min(self.settings.backoff_s * 2 ** (attempt - 1), self.settings.max_backoff_s)
        return delay * (1.0 + 0.25 * random.random())

    # ------------------------------------------------------------------ many requests
    def complete_many(
        self, requests: Sequence[ChatRequest], description: str = "LLM calls"
    ) -> list[ChatResult]:
        """Answer ``requests`` with at most ``settings.concurrency`` in flight; results in input order.

        A fatal error in any worker cancels the queued requests and is raised here.
        """
        results: list[ChatResult | None] = [None] * len(requests)
        if not requests:
            return []
        progress = tqdm(
            total=len(requests), desc=description, unit="call", disable=not self.settings.show_progress
        )
        with ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="llm") as executor:
            futures = {
                executor.submit(self.complete, request): index for index, request in enumerate(requests)
            }
            try:
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION, timeout=1.0)
                    for future in done:
                        results[futures[future]] = future.result()  # re-raises a worker's fatal error
                        progress.update(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            finally:
                progress.close()
        return [result for result in results if result is not None]
