"""Served recommender under load: requests/s and p50/p99 latency at 1, 2, 4 and 8 clients, and warm
``momorec.recommend`` calls.

Each server configuration is started on a free port from the registered champion (``--model-uri``, store
``--tracking-uri``): ``mlflow models serve --workers W`` (MLflow's own launcher: uvicorn with W worker
processes) and ``python -m momorec.serving.server --workers W`` (the same app and workers, error bodies
cleaned). ``--repackage NAME`` first registers the model's weights again with this checkout's serving code
(a registered model runs the code it was packaged with). Each client is its own process (no shared GIL with
the others) sending one request after another over a kept-alive connection for ``--seconds``: one history of
5 product ids drawn from the catalogue, k = 10. Requests/s counts answered requests (HTTP 200) over the
window; latency is per request, client side. Clients and server share the machine's cores, as they would on
one host.

``recommend``: ``momorec.recommend`` on the project in ``--project`` (its registered champion), first call
(cold: configuration, registry, model load) and ``--calls`` warm calls with one history each.

    nice -n 0 .venv/bin/python benchmarks/bench_serving.py [--seconds 10] [--project .]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(kind: str, workers: int, model_uri: str, tracking_uri: str, log: Path):
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    if kind == "mlflow":
        command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]  # fmt: skip
    else:
        command = [sys.executable, "-m", "momorec.serving.server", "-m", model_uri, "--port", str(port),
                   "--workers", str(workers)]  # fmt: skip
    output = open(log, "w")  # noqa: SIM115 -- the server writes to it until stop_server
    process = subprocess.Popen(
        command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/ping", timeout=2):
                break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server not up after 300 s") from None
            time.sleep(0.5)
    return process, port


def stop_server(process) -> None:
    os.killpg(process.pid, 15)  # the server and its uvicorn workers (their own session, started above)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


def client(port: int, bodies: list[bytes], start_at: float, stop_at: float, queue) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, failures, i = [], 0, 0
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < stop_at:
        body = bodies[i % len(bodies)]
        i += 1
        began = time.perf_counter()
        connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status == 200:
            latencies.append(time.perf_counter() - began)
        else:
            failures += 1
    queue.put((latencies, failures))


def load_level(port: int, n_clients: int, bodies: list[bytes], seconds: float) -> dict:
    context = mp.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 1.0  # every client connected and ready before the window opens
    stop_at = start_at + seconds
    processes = [
        context.Process(target=client, args=(port, bodies[c::n_clients], start_at, stop_at, queue))
        for c in range(n_clients)
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = np.concatenate([np.asarray(r[0]) for r in results]) * 1000
    return {
        "clients": n_clients,
        "requests/s": round(len(latencies) / seconds, 1),
        "p50 ms": round(float(np.percentile(latencies, 50)), 1),
        "p99 ms": round(float(np.percentile(latencies, 99)), 1),
        "errors": sum(r[1] for r in results),
    }


def request_bodies(product_ids: np.ndarray, n: int = 400, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [
        json.dumps({"inputs": [{"history": rng.choice(product_ids, 5).tolist(), "k": 10}]}).encode()
        for _ in range(n)
    ]


def catalogue(model_uri: str, tracking_uri: str) -> np.ndarray:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    model = mlflow.pyfunc.load_model(model_uri)
    return model.unwrap_python_model().recommender.items["item_id"].to_numpy()


def recommend_latency(project: Path, product_ids: np.ndarray, calls: int) -> dict:
    import momorec

    rng = np.random.default_rng(1)
    began = time.perf_counter()
    momorec.recommend(rng.choice(product_ids, 5).tolist(), k=10, project_path=project)
    cold = time.perf_counter() - began
    timings, cpu = [], time.process_time()
    for _ in range(calls):
        history = rng.choice(product_ids, 5).tolist()
        began = time.perf_counter()
        momorec.recommend(history, k=10, project_path=project)
        timings.append(time.perf_counter() - began)
    cpu = (time.process_time() - cpu) / calls
    timings = np.asarray(timings) * 1000
    return {
        "cold ms": round(cold * 1000, 1),
        "warm p50 ms": round(float(np.percentile(timings, 50)), 2),
        "warm p99 ms": round(float(np.percentile(timings, 99)), 2),
        "warm CPU ms": round(cpu * 1000, 2),
    }


def repackage(model_uri: str, tracking_uri: str, name: str) -> str:
    """Register the network and vocabulary of ``model_uri`` again with this checkout's serving code (its
    request checks and answer assembly) under ``name``; returns the new model URI. A registered model carries
    the code it was packaged with, so an older champion would measure older code."""
    import mlflow

    from momorec.serving.packaging import log_recommender_model

    mlflow.set_tracking_uri(tracking_uri)
    source = mlflow.pyfunc.load_model(model_uri)
    recommender = source.unwrap_python_model().recommender
    config = json.loads(
        Path(mlflow.artifacts.download_artifacts(f"{model_uri}/artifacts/config.json")).read_text()
    )
    mlflow.set_experiment("bench_serving")
    with mlflow.start_run(run_name="bench_serving repackage"):
        entry = log_recommender_model(
            recommender.network, recommender.variant, config, recommender.items, name, alias="bench"
        )
    return entry["registry_uri"]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-uri", default="models:/momorec-recommender@champion")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{REPO / 'mlflow.db'}")
    parser.add_argument("--project", type=Path, default=REPO, help="project for momorec.recommend")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument(
        "--servers",
        nargs="+",
        default=["mlflow:1", "mlflow:2", "momorec:2"],
        help="kind:workers, kind mlflow|momorec",
    )
    parser.add_argument("--calls", type=int, default=300, help="warm recommend() calls")
    parser.add_argument("--topic", default="serving")
    parser.add_argument(
        "--repackage",
        metavar="NAME",
        help="first register --model-uri's weights again with this checkout's code under NAME (alias bench)",
    )
    args = parser.parse_args()
    load_before = uptime()
    if args.repackage:
        args.model_uri = repackage(args.model_uri, args.tracking_uri, args.repackage)
    product_ids = catalogue(args.model_uri, args.tracking_uri)
    bodies = request_bodies(product_ids)
    rows = []
    for server in args.servers:
        kind, workers = server.split(":")
        log = Path(f"/tmp/bench_serving_{kind}_{workers}.log")
        process, port = start_server(kind, int(workers), args.model_uri, args.tracking_uri, log)
        try:
            load_level(port, 1, bodies, 2.0)  # warm-up: first requests pay for lazy imports
            for n_clients in args.clients:
                row = {
                    "server": kind,
                    "workers": int(workers),
                    **load_level(port, n_clients, bodies, args.seconds),
                }
                rows.append(row)
                print(row, flush=True)
        finally:
            stop_server(process)
    recommend = {"cold ms": "-", "warm p50 ms": "-", "warm p99 ms": "-", "warm CPU ms": "-"}
    if args.calls:
        recommend = recommend_latency(args.project, product_ids, args.calls)
        print(recommend, flush=True)
    load_after = uptime()
    table = pd.DataFrame(rows)
    ratios = []
    for (kind, workers), group in table.groupby(["server", "workers"], sort=False):
        by_clients = group.set_index("clients")
        if 1 in by_clients.index and 4 in by_clients.index:
            ratio = by_clients.loc[4, "requests/s"] / by_clients.loc[1, "requests/s"]
            p99_2 = by_clients.loc[2, "p99 ms"] if 2 in by_clients.index else float("nan")
            ratios.append(
                f"{kind} x{workers}: 4 clients / 1 client = {ratio:.2f}x, p99 at 2 clients {p99_2} ms"
            )
    recommend_note = (
        f"`momorec.recommend` (one history of 5, k = 10, {args.calls} warm calls, project {args.project.name}): "
        f"cold {recommend['cold ms']} ms, warm p50 {recommend['warm p50 ms']} ms, p99 {recommend['warm p99 ms']} "
        f"ms, {recommend['warm CPU ms']} ms of process CPU per warm call (mean; it counts every thread of this "
        "process) (target: warm < 20 ms).\n\n"
        if args.calls
        else ""
    )
    notes = (
        f"{len(product_ids)} items in the served model ({args.model_uri}); {args.seconds:g} s per level; one "
        "request = one history of 5 product ids, k = 10, JSON `inputs`. Clients are processes on the same "
        f"machine as the server.\n\n{'; '.join(ratios)}. Targets (issue 26): 4 clients >= 1.5x 1 client, "
        f"p99 < 100 ms at 2 clients.\n\n{recommend_note}"
        f"Load before: `{load_before}`; after: "
        f"`{load_after}` (a shared machine: other jobs ran on the same cores)."
    )
    write_section(args.topic, "benchmarks/bench_serving.py", table, notes)


if __name__ == "__main__":
    main()
