"""Fake OpenAI-compatible endpoints on 127.0.0.1, for tests and benchmarks: real HTTP, real sockets.

``FakeChatServer`` speaks enough of ``POST /v1/chat/completions`` and ``GET /v1/models`` for the real
``openai`` client. By default it answers like a well-behaved model (free text for generation prompts, JSON
for summaries and verdicts); a queue of ``Action``s overrides the next answers (HTTP errors, delays,
malformed bodies, an error body that echoes the request's headers), ``default_action`` answers every
request the queue does not, a fixed ``latency_s`` simulates a remote model, ``expected_key`` makes it answer
401 to any other key, and ``n_ctx`` makes it refuse prompts over that many tokens the way llama.cpp's server
does. It counts requests and the largest number in flight at once. With ``rate_limit`` it serves at most
that many requests in any sliding window of ``rate_window_s`` seconds (a per-minute quota when 60) and answers
the others HTTP 429 with a ``Retry-After`` (``retry_after``: whole seconds, an HTTP date, or none), as hosted
APIs do; ``served_times`` and ``rate_limited_times`` say when. With ``token_logprobs`` it also returns
token log-probabilities to requests that ask for them (``logprobs: true``), like llama.cpp's server and OpenAI.

``BlackHoleServer`` accepts connections and never answers: a hung server or a stuck proxy.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Action:
    """How to answer one request: an HTTP status, a delay, and optionally a fixed message or raw body."""

    status: int = 200
    delay_s: float = 0.0
    content: str | None = None
    raw_body: bytes | None = None
    # Answer ``status`` with an error body that repeats the request's headers, as some proxies do.
    echo_headers: bool = False
    # Extra response headers, e.g. (("Retry-After", "2"),) with status 429.
    headers: tuple[tuple[str, str], ...] = ()


def llama_cpp_context_overflow(n_prompt_tokens: int, n_ctx: int) -> bytes:
    """The body llama.cpp's server answers (HTTP 400) to a prompt over its context size."""
    error = {
        "code": 400,
        "message": f"request ({n_prompt_tokens} tokens) exceeds the available context size ({n_ctx} tokens), "
        "try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": n_prompt_tokens,
        "n_ctx": n_ctx,
    }
    return json.dumps({"error": error}).encode()


def approximate_prompt_tokens(body: dict[str, Any]) -> int:
    """Tokens of a request's messages at about 4 characters per token (English text with a BPE vocabulary)."""
    return sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4


def default_reply(body: dict[str, Any]) -> str:
    """A plausible deterministic answer for the project's prompts (judge, summary or generation)."""
    prompt = body["messages"][-1]["content"]
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:6]
    if '"winner"' in prompt:
        return json.dumps({"winner": "A", "relevance": "A", "depth": "tie"})
    if '"motivation"' in prompt:
        products = prompt.split("\n", 1)[0].removeprefix("Products:").strip()
        first_word = (products.split() or ["gear"])[0].lower()
        return json.dumps({"motivation": f"equipping a {first_word} project {digest}"})
    return f"Both products serve one project ({digest}): the customer is equipping it step by step."


class FakeChatServer:
    """Run with ``with FakeChatServer() as server: openai.OpenAI(base_url=server.base_url, ...)``."""

    def __init__(
        self,
        latency_s: float = 0.0,
        expected_key: str | None = None,
        reply: Callable[[dict[str, Any]], str] = default_reply,
        default_action: Action | None = None,
        n_ctx: int | None = None,
        token_logprobs: Callable[[dict[str, Any], str], list[dict[str, Any]] | None] | None = None,
        rate_limit: int | None = None,
        rate_window_s: float = 60.0,
        retry_after: str | None = "seconds",
    ) -> None:
        if retry_after not in ("seconds", "http_date", None):
            raise ValueError(f"retry_after must be 'seconds', 'http_date' or None, got {retry_after!r}")
        self.latency_s = latency_s
        self.expected_key = expected_key
        self.reply = reply
        self.default_action = default_action or Action()
        self.n_ctx = n_ctx
        # (request body, answer) -> OpenAI's ``choices[0].logprobs.content`` list (None: send none).
        self.token_logprobs = token_logprobs
        self.rate_limit = rate_limit
        self.rate_window_s = rate_window_s
        self.retry_after = retry_after
        self.served_times: list[float] = []  # monotonic times of requests served within the rate limit
        self.rate_limited_times: list[float] = []  # ... and of those answered 429
        self.script: deque[Action] = deque()
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def n_requests(self) -> int:
        with self._lock:
            return len(self.requests)

    def queue(self, *actions: Action) -> None:
        with self._lock:
            self.script.extend(actions)

    def start(self) -> FakeChatServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-chat-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeChatServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def max_served_in_window(self, window_s: float | None = None) -> int:
        """The most requests served in any window of ``window_s`` (default ``rate_window_s``) seconds."""
        window = self.rate_window_s if window_s is None else window_s
        with self._lock:
            times = sorted(self.served_times)
        best, first = 0, 0
        for last, moment in enumerate(times):
            while times[first] <= moment - window:
                first += 1
            best = max(best, last - first + 1)
        return best

    def _rate_limited(self) -> Action | None:
        """A 429 when the window's quota is spent (lock held), else ``None`` and the request is counted."""
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        window = [t for t in self.served_times if t > now - self.rate_window_s]
        if len(window) < self.rate_limit:
            self.served_times.append(now)
            return None
        self.rate_limited_times.append(now)
        wait = window[len(window) - self.rate_limit] + self.rate_window_s - now
        headers: tuple[tuple[str, str], ...] = ()
        if self.retry_after == "seconds":
            headers = (("Retry-After", str(max(math.ceil(wait), 1))),)
        elif self.retry_after == "http_date":
            moment = time.time() + wait + 1  # HTTP dates have whole seconds: round up
            headers = (("Retry-After", email.utils.formatdate(moment, usegmt=True)),)
        return Action(status=429, headers=headers)

    def _next_action(self) -> Action:
        with self._lock:
            return self.script.popleft() if self.script else self.default_action

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = (
                "HTTP/1.1"  # keep-alive: one TCP connection per client worker, like a real server
            )

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms each.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(
                self,
                status: int,
                payload: dict[str, Any] | None = None,
                raw: bytes | None = None,
                headers: tuple[tuple[str, str], ...] = (),
            ) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def _authorised(self) -> bool:
                if fake.expected_key is None:
                    return True
                if self.headers.get("Authorization") == f"Bearer {fake.expected_key}":
                    return True
                error = {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
                self._send(401, {"error": error})
                return False

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/stats"):  # for a server run in another process
                    with fake._lock:
                        stats = {"n_requests": len(fake.requests), "max_in_flight": fake.max_in_flight}
                    self._send(200, stats)
                elif self._authorised():
                    self._send(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self._authorised():
                    return
                with fake._lock:
                    fake.requests.append(body)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    limited = fake._rate_limited()
                try:
                    action = limited or fake._next_action()
                    time.sleep(fake.latency_s + action.delay_s)
                    n_tokens = approximate_prompt_tokens(body)
                    if fake.n_ctx is not None and n_tokens > fake.n_ctx:
                        self._send(400, raw=llama_cpp_context_overflow(n_tokens, fake.n_ctx))
                    elif action.echo_headers:
                        # The credentials first, as a proxy that reports "who called" would.
                        headers = sorted(self.headers.items(), key=lambda h: h[0].lower() != "authorization")
                        message = f"scripted HTTP {action.status}; request headers: {dict(headers)}"
                        self._send(action.status, {"error": {"message": message, "type": "server_error"}})
                    elif action.raw_body is not None:
                        self._send(action.status, raw=action.raw_body)
                    elif action.status == 429:
                        error = {
                            "message": "Rate limit reached",
                            "type": "requests",
                            "code": "rate_limit_exceeded",
                        }
                        self._send(429, {"error": error}, headers=action.headers)
                    elif action.status != 200:
                        self._send(
                            action.status,
                            {"error": {"message": f"scripted HTTP {action.status}", "type": "server_error"}},
                            headers=action.headers,
                        )
                    else:
                        content = action.content if action.content is not None else fake.reply(body)
                        completion = _completion(body, content)
                        if body.get("logprobs") and fake.token_logprobs is not None:
                            tokens = fake.token_logprobs(body, content)
                            completion["choices"][0]["logprobs"] = (
                                None if tokens is None else {"content": tokens}
                            )
                        self._send(200, completion)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

        return Handler


class BlackHoleServer:
    """Accepts TCP connections on 127.0.0.1 and never answers; ``n_connections`` counts them."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._socket.settimeout(0.05)
        self.port = int(self._socket.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="black-hole-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def n_connections(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._socket.accept()
            except (TimeoutError, OSError):
                continue
            self._held.append(connection)  # kept open, never read, never answered

    def __enter__(self) -> BlackHoleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        for connection in self._held:
            connection.close()
        self._socket.close()


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    completion_tokens = len(content.split())
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def main() -> None:
    """``python -m momorec.llm.testing [latency_s]``: serve until killed; prints the base URL first."""
    import sys

    server = FakeChatServer(latency_s=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    print(server.base_url, flush=True)
    server._server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
