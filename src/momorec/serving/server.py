"""Serve the registered recommender with several workers and error bodies that never leak.

``python -m momorec.serving.server -m "models:/momorec-recommender@champion" --workers 2 --port 5001``

It is MLflow's own scoring server (the app ``mlflow models serve`` runs: the same ``/invocations``,
``/ping``, ``/health``, ``/version`` and request forms), run by uvicorn with ``--workers`` processes, plus:

- ``--torch-threads`` to set torch's threads per worker. The default is torch's own, as with ``mlflow
  models serve``: on 2 shared cores one thread per worker answered a third as many requests at 4 clients
  (a likely cause: MLflow runs each request on a pool thread, not the one the setting was made on);
- a middleware that cleans MLflow's error bodies: MLflow adds the server's traceback (``stack_trace``) to
  some 4xx answers (a body that is not CSV it can read, an unexpected error), and echoes the request in
  others ("Failed to predict data '<the input>'", "Input: <the body>" after a JSON error, the rows after a
  parameter of the wrong type). The status and MLflow's reason are kept; the traceback and the echo go.

The model is fetched once by the launching process; each worker loads it from that local copy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from typing import Any

MODEL_PATH_VARIABLE = "MOMOREC_SERVING_MODEL_PATH"
TORCH_THREADS_VARIABLE = "MOMOREC_SERVING_TORCH_THREADS"
# What MLflow 3 puts before or after its own reason when it echoes the request (scoring_server.invocations,
# _decode_json_input, PyFuncModel's schema and parameter checks).
_ECHOES = (
    re.compile(r"^Failed to predict data '.*?'\. \nError: ", re.S),
    re.compile(r"Failed to enforce schema of data '.*?' with schema", re.S),
    re.compile(r"\nInput: .*\Z", re.S),
)
_ECHO_REPLACEMENTS = ("", "Failed to enforce the model's schema", "")


def clean_error_body(body: bytes) -> bytes:
    """MLflow's JSON error body without ``stack_trace`` and without the echoed request (else unchanged)."""
    try:
        error = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    if not isinstance(error, dict):
        return body
    error.pop("stack_trace", None)
    message = str(error.get("message", ""))
    for pattern, replacement in zip(_ECHOES, _ECHO_REPLACEMENTS, strict=True):
        message = pattern.sub(replacement, message)
    error["message"] = message.strip()
    return json.dumps(error).encode()


def create_app() -> Any:
    """The scoring app for the model at ``$MOMOREC_SERVING_MODEL_PATH`` (a uvicorn factory, one per worker)."""
    import torch
    from fastapi import Request
    from fastapi.responses import Response
    from mlflow.pyfunc import scoring_server

    threads = os.environ.get(TORCH_THREADS_VARIABLE)
    if threads:
        torch.set_num_threads(int(threads))
    model = scoring_server.load_model_with_mlflow_config(os.environ[MODEL_PATH_VARIABLE])
    app = scoring_server.init(model)

    @app.middleware("http")
    async def clean_errors(request: Request, call_next):
        response = await call_next(request)
        if response.status_code < 400 or "json" not in response.headers.get("content-type", ""):
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])
        return Response(
            content=clean_error_body(body), status_code=response.status_code, media_type="application/json"
        )

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-m", "--model-uri", required=True, help='e.g. "models:/momorec-recommender@champion"'
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="torch threads per worker (default: torch's own choice, as mlflow models serve)",
    )
    args = parser.parse_args(argv)
    import uvicorn
    from mlflow.artifacts import download_artifacts

    os.environ[MODEL_PATH_VARIABLE] = download_artifacts(args.model_uri)
    if args.torch_threads:
        os.environ[TORCH_THREADS_VARIABLE] = str(args.torch_threads)
    uvicorn.run(
        "momorec.serving.server:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
