"""Real model servers for tests: `mlflow models serve` or `python -m momorec.serving.server` on a free port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(kind: str, model_uri: str, port: int, workers: int = 1) -> list[str]:
    """``mlflow models serve`` (kind "mlflow") or the project's launcher (kind "momorec")."""
    if kind == "mlflow":
        return [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]  # fmt: skip
    return [sys.executable, "-m", "momorec.serving.server", "-m", model_uri, "--port", str(port),
            "--workers", str(workers)]  # fmt: skip


@contextmanager
def running_server(
    kind: str, tracking_uri: str, model_uri: str, log: Path, workers: int = 1
) -> Iterator[str]:
    """Start a server on a free port, wait for ``/ping`` (90 s), yield its base URL, stop it and its workers."""
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
        # As in an activated virtual environment: `mlflow models serve` runs the environment's `uvicorn`.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    with open(log, "w") as output:
        process = subprocess.Popen(
            serve_command(kind, model_uri, port, workers),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: uvicorn's workers are stopped with it
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"{kind} server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"{kind} server not up after 90 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def post(url: str, body: dict | bytes | str, content_type: str = "application/json") -> tuple[int, bytes]:
    """POST ``body`` (a dict is sent as JSON); (status, body) for any status, errors included."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    data = data.encode() if isinstance(data, str) else data
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
