"""The chat client every agent uses: cache first, then the endpoint with timeouts and retries.

Transient errors (connection refused/reset, timeouts, HTTP 408/5xx, a malformed or empty body) are retried
with exponential backoff within the request's deadline (``CallSettings.deadline_s``); authentication errors
(401/403) and an unknown model (404) stop the run at once with an error that names the endpoint; a prompt
over the context window (``context_overflow``) and other 4xx answers are failures of that request. A request
that still fails after its retries is recorded in the cache's failure table and returned as a failed
``ChatResult`` (never an invented answer), so a later run retries it. Three guards keep failures loud:
nothing answering at all raises ``LLMEndpointUnreachable``; ``circuit_breaker_failures`` endpoint-side
failures in a row raise ``LLMEndpointFailing``; and leaving the client's ``with`` block checks the stage's
failure budget (``momorec.llm.failure_budget``). Every error text is redacted (``momorec.llm.redaction``)
before it is stored, returned or raised.

HTTP 429 (rate limited) is none of these: the model's rate limiter (``momorec.llm.rate_limit``) pauses every
worker for the answer's ``Retry-After`` and lowers the request rate; the request is sent again without
spending a retry, and the circuit breaker does not count it. The same limiter keeps the client within the
model's configured requests and tokens per minute and requests in flight.

Answers are cached by request and endpoint identity (``EndpointConfig.cache_identity``): another base URL
or model file never gets the answers of the old one, while the embedded server's per-run port does not
matter.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

import openai
from tqdm.auto import tqdm

from momorec.llm.cache import CachedCompletion, LLMCache, request_key
from momorec.llm.config import CallSettings, EndpointConfig
from momorec.llm.embedded import SMOLLM2_FILE, EmbeddedPool, EmbeddedServer
from momorec.llm.errors import (
    RESUME_HINT,
    LLMAuthenticationError,
    LLMConfigError,
    LLMEndpointUnreachable,
    LLMRateLimited,
)
from momorec.llm.failure_budget import CircuitBreaker, check_failure_budget
from momorec.llm.rate_limit import LimitWaitExceeded, RateLimiter, retry_after_seconds, shared_limiter
from momorec.llm.redaction import redact
from momorec.llm.tokens import approximate_tokens
from momorec.llm.usage import UsageRecorder

logger = logging.getLogger(__name__)

# How servers word a prompt over the context window: llama.cpp's server (``exceed_context_size_error``,
# "exceeds the available context size"), llama-cpp-python, OpenAI and vLLM ("maximum context length",
# ``context_length_exceeded``).
_CONTEXT_OVERFLOW = re.compile(
    r"exceed_context_size|exceeds? the available context|context[_ ]length[_ ]exceeded|maximum context length"
    r"|exceed(?:s|ed)? (?:the )?context window",
    re.IGNORECASE,
)
_MESSAGE_CHARS = 500  # of an error body kept in a failure (after redaction)


def embedded_identity(server: EmbeddedServer | EmbeddedPool | None) -> str:
    """The embedded endpoint's cache identity: its model file, not its per-run port."""
    gguf = server.gguf_path.name if server is not None and server.gguf_path else SMOLLM2_FILE
    return f"embedded:{gguf}"


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
    # Ask for the log-probabilities of each answer token and of its ``top_logprobs`` likeliest alternatives
    # (``None``: not asked). Endpoints that ignore it answer without them (``ChatResult.token_logprobs`` None).
    top_logprobs: int | None = None

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
        if record["top_logprobs"] is None:
            del record["top_logprobs"]  # likewise for requests that do not ask for log-probabilities
        return {"model": model, **record}

    def cache_key(self, model: str, endpoint: str | None = None) -> str:
        """The request's cache key at ``endpoint`` (a ``cache_identity``); ``None``: the schema-1 key."""
        return request_key(self.as_record(model), endpoint)


@dataclass(frozen=True)
class TokenLogprobs:
    """One answer token and the log-probabilities of its likeliest alternatives (itself included)."""

    token: str
    top: tuple[tuple[str, float], ...]


def _parse_token_logprobs(choice: Any) -> tuple[TokenLogprobs, ...] | None:
    """The per-token top log-probabilities of a chat choice, ``None`` when the endpoint sent none."""
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    return tuple(
        TokenLogprobs(
            str(token.token),
            tuple((str(top.token), float(top.logprob)) for top in (token.top_logprobs or ()))
            or ((str(token.token), float(token.logprob)),),
        )
        for token in content
    )


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
    # Per answer token, when the request asked for them and the endpoint returned them (cached with the answer).
    token_logprobs: tuple[TokenLogprobs, ...] | None = None


@dataclass
class _CallFailure:
    kind: str
    message: str
    attempts: int
    transient: bool = field(default=True)


class LLMClient:
    """A cached, retrying, concurrency-bounded chat client for one model at one endpoint.

    With an embedded endpoint (``base_url`` unset) the llama.cpp server (or pool of servers) is started
    lazily, on the first request the cache cannot answer, and stopped by ``close()`` (use the client as a
    context manager). With a pool of *n* servers, ``complete_many`` gives each server one worker and sends
    it every *n*-th request, in order, so a server's sequence of requests never depends on timing.
    """

    def __init__(
        self,
        endpoint: EndpointConfig,
        settings: CallSettings | None = None,
        cache: LLMCache | None = None,
        usage: UsageRecorder | None = None,
        embedded_server: EmbeddedServer | EmbeddedPool | None = None,
        check_budget_on_exit: bool = True,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.settings = settings or CallSettings()
        self.cache = cache
        self.usage = usage or UsageRecorder(stage=endpoint.name)
        if isinstance(embedded_server, EmbeddedServer):
            embedded_server = EmbeddedPool([embedded_server])
        self._embedded: EmbeddedPool | None = embedded_server
        if endpoint.is_embedded and self._embedded is None:
            self._embedded = EmbeddedPool([EmbeddedServer(model_alias=endpoint.model)])
        self.cache_identity = endpoint.cache_identity(embedded_identity(self._embedded))
        # Off when several clients share one usage recorder and their owner checks it once (session.py).
        self.check_budget_on_exit = check_budget_on_exit
        self._breaker = CircuitBreaker(self.settings.circuit_breaker_failures, endpoint.label())
        # Requests and tokens per minute, requests in flight and 429 pauses, shared by every client of this
        # model at this endpoint in the process (``momorec.llm.rate_limit``).
        self._limiter = rate_limiter or shared_limiter(self.cache_identity, endpoint.limits, endpoint.label())
        # One OpenAI client per lane: lane k talks to the pool's server k (a remote endpoint has one lane).
        self._openai: list[openai.OpenAI] = []
        self._openai_lock = threading.Lock()
        self._lane = threading.local()

    def __repr__(self) -> str:
        return f"LLMClient(endpoint={self.endpoint.describe()}, settings={self.settings})"

    def describe(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint.describe(), "settings": asdict(self.settings)}

    @property
    def lanes(self) -> int:
        """Workers that each own one server of the embedded pool (1 for a remote endpoint)."""
        return len(self._embedded) if self._embedded is not None else 1

    def _client(self) -> openai.OpenAI:
        """The OpenAI client of the calling thread's lane (starting the embedded servers on first use)."""
        with self._openai_lock:
            if not self._openai:
                api_key = self.endpoint.key_for_client()
                base_urls = self._embedded.start() if self._embedded is not None else [self.endpoint.base_url]
                self._openai = [
                    openai.OpenAI(
                        base_url=url, api_key=api_key, max_retries=0, timeout=self.settings.timeout_s
                    )
                    for url in base_urls
                ]
            return self._openai[getattr(self._lane, "index", 0)]

    def close(self) -> None:
        with self._openai_lock:
            for client in self._openai:
                client.close()
            self._openai = []
            if self._embedded is not None:
                self._embedded.stop()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        self.close()
        if exc_type is None and self.check_budget_on_exit:
            check_failure_budget(self.usage.as_dict(), self.settings.max_failed_fraction)

    # ------------------------------------------------------------------ one request
    def complete(self, request: ChatRequest) -> ChatResult:
        """Answer one request from the cache or the endpoint; fatal errors raise (``momorec.llm.errors``)."""
        key = request.cache_key(self.endpoint.model, self.cache_identity)
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
                    token_logprobs=self._cached_logprobs(request, key),
                )
        self._breaker.check()
        outcome = self._call_with_retries(request)
        if isinstance(outcome, _CallFailure):
            if self.cache is not None:
                self.cache.record_failure(
                    key, self.endpoint.model, outcome.kind, outcome.message, self.cache_identity
                )
            self.usage.record_failure(outcome.attempts, outcome.kind, self.endpoint.label())
            self._breaker.record_failure(outcome.kind, outcome.message)  # raises once the breaker opens
            return ChatResult(ok=False, error_kind=outcome.kind, error=outcome.message)
        completion, attempts, token_logprobs = outcome
        self._breaker.record_success()
        if self.cache is not None:
            self.cache.put(
                key,
                self.endpoint.model,
                request.as_record(self.endpoint.model),
                completion,
                self.cache_identity,
            )
            if token_logprobs is not None:
                self.cache.put_logprobs(key, json.dumps([[t.token, list(t.top)] for t in token_logprobs]))
        self.usage.record_call(
            attempts,
            completion.latency_s,
            completion.prompt_tokens,
            completion.completion_tokens,
            self.endpoint.cost_usd(completion.prompt_tokens, completion.completion_tokens),
        )
        return ChatResult(
            ok=True,
            text=completion.text,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_s=completion.latency_s,
            token_logprobs=token_logprobs,
        )

    def _cached_logprobs(self, request: ChatRequest, key: str) -> tuple[TokenLogprobs, ...] | None:
        if request.top_logprobs is None or self.cache is None:
            return None
        stored = self.cache.get_logprobs(key)
        if stored is None:
            return None
        return tuple(
            TokenLogprobs(token, tuple((alt, float(lp)) for alt, lp in top))
            for token, top in json.loads(stored)
        )

    def _call_with_retries(
        self, request: ChatRequest
    ) -> tuple[CachedCompletion, int, tuple[TokenLogprobs, ...] | None] | _CallFailure:
        arguments = self._arguments(request)  # first: a request the endpoint cannot answer starts nothing
        client = self._client()  # starts an embedded server first: its start-up is not the request's time
        deadline = None if self.settings.deadline_s is None else time.monotonic() + self.settings.deadline_s
        failure: _CallFailure | None = None
        attempt = 0
        while attempt <= self.settings.max_retries:
            attempt += 1
            # Waiting for the rate budget (or a 429 pause) is the client's queue, not the endpoint's time.
            queued = time.monotonic()
            reservation = self._acquire(request)
            if deadline is not None:
                deadline += time.monotonic() - queued
            answered, used_tokens = False, None
            try:
                timeout = self.settings.timeout_s
                if deadline is not None:
                    timeout = min(timeout, deadline - time.monotonic())
                    if timeout <= 0.01 and failure is not None:
                        failure.message += f" (request deadline of {self.settings.deadline_s:g} s reached)"
                        break
                started = time.perf_counter()
                try:
                    response = client.chat.completions.create(**arguments, timeout=timeout)
                except openai.APIStatusError as error:
                    if error.status_code == 429:
                        self._rate_limited(error)
                        attempt -= 1  # a 429 is a pause, not a retry: the request waits its turn again
                        continue
                    failure = self._status_failure(error, attempt)
                    if not failure.transient:
                        return failure
                except openai.APITimeoutError:
                    failure = _CallFailure("timeout", f"no answer within {timeout:.3g} s", attempt)
                except openai.APIConnectionError as error:
                    failure = _CallFailure("connection", redact(f"{type(error).__name__}: {error}"), attempt)
                except (ValueError, openai.APIResponseValidationError) as error:
                    # A body that is not a chat completion (a proxy's error page, a truncated reply): retry.
                    message = redact(f"{type(error).__name__}: {error}")[:_MESSAGE_CHARS]
                    failure = _CallFailure("malformed_response", message, attempt)
                else:
                    answered = True
                    text = response.choices[0].message.content if response.choices else None
                    usage = response.usage
                    prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
                    completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
                    used_tokens = prompt_tokens + completion_tokens
                    if text and text.strip():
                        completion = CachedCompletion(
                            text=text,
                            prompt_tokens=prompt_tokens,
                            completion_tokens=completion_tokens,
                            latency_s=time.perf_counter() - started,
                        )
                        return completion, attempt, _parse_token_logprobs(response.choices[0])
                    # Never cached: an empty answer is retried now and on the next run.
                    failure = _CallFailure(
                        "empty_response", "the endpoint returned no message content", attempt
                    )
            finally:
                self._limiter.release(reservation, used_tokens, answered)
            if attempt <= self.settings.max_retries:
                pause = self._backoff(attempt)
                if deadline is not None and time.monotonic() + pause >= deadline:
                    failure.message += f" (request deadline of {self.settings.deadline_s:g} s reached)"
                    break
                time.sleep(pause)
        assert failure is not None
        if failure.kind == "connection":
            raise LLMEndpointUnreachable(
                f"Cannot reach the LLM endpoint {self.endpoint.label()} after {failure.attempts} attempts: "
                f"{failure.message}. Is the server running and is motivation.models.{self.endpoint.name}.base_url "
                f"right?"
            )
        return failure

    def _arguments(self, request: ChatRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": request.message_dicts(),
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
        }
        if request.seed is not None:
            arguments["seed"] = request.seed
        if request.top_logprobs is not None:
            if self._embedded is not None and not self._embedded.logprobs:
                raise LLMConfigError(
                    "this request asks for log-probabilities, but the embedded servers were started without "
                    "them: open the client with logprobs=True (momorec.llm.session.build_client)"
                )
            arguments["logprobs"] = True
            arguments["top_logprobs"] = request.top_logprobs
        response_format = self.endpoint.response_format(request.json_mode, request.json_schema)
        if response_format is not None:
            arguments["response_format"] = response_format
        return arguments

    def _status_failure(self, error: openai.APIStatusError, attempt: int) -> _CallFailure:
        """Classify an HTTP error answer; authentication and unknown-model errors stop the run."""
        status = error.status_code
        body = redact(error.message)[:_MESSAGE_CHARS]  # openai's message holds the answer's body
        if status in (401, 403):
            key_state = "an API key is set" if self.endpoint.api_key is not None else "no API key is set"
            raise LLMAuthenticationError(
                f"The LLM endpoint {self.endpoint.label()} refused the request with HTTP {status} "
                f"({key_state}); check conf/local/credentials.yml (llm: {{api_key: ...}}) or the "
                f"MOMOREC_LLM_API_KEY environment variable."
            ) from None
        if status == 404:
            raise LLMConfigError(
                f"The LLM endpoint {self.endpoint.label()} answered 404 for model {self.endpoint.model!r}: "
                f"check motivation.models.{self.endpoint.name} ({body})"
            ) from None
        if _CONTEXT_OVERFLOW.search(body):
            message = (
                f"the prompt does not fit the model's context window (HTTP {status}: {body}); shorten the "
                f"inputs (max_title_tokens) or give the server a larger context"
            )
            return _CallFailure("context_overflow", message, attempt, transient=False)
        transient = status >= 500 or status == 408
        return _CallFailure(f"http_{status}", body, attempt, transient)

    def _backoff(self, attempt: int) -> float:
        # Exponential with a little jitter so concurrent workers do not retry in lockstep.
        delay = min(self.settings.backoff_s * 2 ** (attempt - 1), self.settings.max_backoff_s)
        return delay * (1.0 + 0.25 * random.random())

    def _acquire(self, request: ChatRequest) -> list[float] | None:
        """Wait for the model's rate budget; its estimate: the prompt (4 characters a token) + ``max_tokens``."""
        estimate = sum(approximate_tokens(content) for _, content in request.messages) + request.max_tokens
        try:
            return self._limiter.acquire(estimate)
        except LimitWaitExceeded as error:
            raise LLMRateLimited(f"{error} {RESUME_HINT}") from None

    def _rate_limited(self, error: openai.APIStatusError) -> None:
        """A 429: every worker of this model pauses (``Retry-After`` or a backoff) and the rate drops."""
        headers = getattr(getattr(error, "response", None), "headers", None)
        try:
            pause = self._limiter.rate_limited(retry_after_seconds(headers))
        except LimitWaitExceeded as stalled:
            raise LLMRateLimited(f"{stalled} {RESUME_HINT}") from None
        self.usage.record_rate_limited(pause)
        logger.debug("HTTP 429 from %s: pausing %.2f s", self.endpoint.label(), pause)

    # ------------------------------------------------------------------ many requests
    def complete_many(
        self, requests: Sequence[ChatRequest], description: str = "LLM calls"
    ) -> list[ChatResult]:
        """Answer ``requests``; results in input order.

        A remote endpoint gets at most ``settings.concurrency`` requests in flight. An embedded pool of *n*
        servers gets *n*: request *i* goes to server *i* mod *n*, each server's share in input order.
        A fatal error in any worker cancels the queued requests and is raised here at once: requests still
        in flight are abandoned, not awaited (they end within their deadline, in the background), so a
        hanging endpoint costs one deadline, not two.
        """
        results: list[ChatResult | None] = [None] * len(requests)
        if not requests:
            return []
        progress = tqdm(
            total=len(requests), desc=description, unit="call", disable=not self.settings.show_progress
        )
        if self._embedded is not None:
            executors = [
                ThreadPoolExecutor(1, thread_name_prefix=f"llm-lane{lane}", initializer=self._enter_lane,
                                   initargs=(lane,))
                for lane in range(self.lanes)
            ]  # fmt: skip
        else:
            executors = [ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="llm")]
        futures = {
            executors[index % len(executors)].submit(self.complete, request): index
            for index, request in enumerate(requests)
        }
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION, timeout=1.0)
                for future in done:
                    results[futures[future]] = future.result()  # re-raises a worker's fatal error
                    progress.update(1)
        except BaseException:
            for executor in executors:
                executor.shutdown(wait=False, cancel_futures=True)
            raise
        else:
            for executor in executors:
                executor.shutdown(wait=True)
        finally:
            progress.close()
        return [result for result in results if result is not None]

    def _enter_lane(self, lane: int) -> None:
        self._lane.index = lane
