"""Throughput of the embedded model with 1 or 2 parallel slots on this machine (calls per minute).

The embedded server is llama-cpp-python's (``llama_cpp.server``): it has no ``n_parallel`` setting and holds
one global lock around every completion, so a single server answers one request at a time whatever the
client sends. Two slots are therefore two server processes on one GGUF, each with half the threads, with one
client worker per server. Compared here on the same requests (generation-sized: ~80 completion tokens):

* ``1 server × N threads`` (the embedded default until 2026-11-30), one request in flight;
* ``2 servers × N/2 threads`` (at least 1), two requests in flight (the default since: ``EmbeddedPool``).

    python benchmarks/bench_llm_slots.py [--requests 24] [--max-tokens 80]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _results import write_section  # noqa: E402

from momorec.llm.embedded import EMBEDDED_MODEL_ALIAS, EmbeddedPool  # noqa: E402

PRODUCTS = [
    ("Digital caliper, 150 mm", "Lab micrometer stand"),
    ("Nitrile gloves, 100 pack", "Safety goggles, anti-fog"),
    ("Soldering iron kit, 60 W", "Lead-free solder wire"),
    ("Borosilicate beakers, 5 pack", "Graduated cylinder, 100 ml"),
    ("Multimeter, auto-ranging", "Test leads with alligator clips"),
    ("pH meter, pocket", "Buffer solution pack"),
]


def chat_request(index: int, max_tokens: int) -> bytes:
    first, second = PRODUCTS[index % len(PRODUCTS)]
    prompt = (
        f"A customer bought '{first}' and '{second}' together. In one or two sentences, why did they buy both? "
        f"(case {index})"
    )
    return json.dumps(
        {
            "model": EMBEDDED_MODEL_ALIAS,
            "messages": [{"role": "user", "content": prompt}],
            "max_tokens": max_tokens,
            "temperature": 0.2,
            "seed": index,
        }
    ).encode()


def post(base_url: str, body: bytes) -> int:
    request = urllib.request.Request(
        f"{base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        answer = json.load(response)
    return int(answer["usage"]["completion_tokens"])


def measure(n_servers: int, threads_per_server: int, n_requests: int, max_tokens: int) -> dict:
    servers = EmbeddedPool.create(n_servers=n_servers, n_threads=threads_per_server)
    try:
        urls = servers.start()  # the servers load side by side, as in a run
        post(urls[0], chat_request(-1, 4))  # warm-up: first call loads caches
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=n_servers) as pool:
            tokens = list(
                pool.map(
                    lambda i: post(urls[i % n_servers], chat_request(i, max_tokens)),
                    range(n_requests),
                )
            )
        seconds = time.perf_counter() - start
    finally:
        servers.stop()
    return {
        "setting": f"{n_servers} server(s) × {threads_per_server} thread(s)",
        "requests": n_requests,
        "seconds": round(seconds, 1),
        "calls_per_min": round(60 * n_requests / seconds, 1),
        "completion_tokens_per_s": round(sum(tokens) / seconds, 1),
        "load_average_before": round(load_before, 1),
        "load_average_after": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=80)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    threads = min(cores, 4)
    rows = []
    # Alternating order (1, 2, 2, 1) so a load change on the shared machine hits both settings alike.
    for n_servers in (1, 2, 2, 1):
        rows.append(measure(n_servers, max(1, threads // n_servers), args.requests, args.max_tokens))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    means = table.groupby("setting")["calls_per_min"].mean()
    notes = (
        f"{cores} cores; SmolLM2-135M Q4_1 through llama-cpp-python's server, {args.requests} distinct chat "
        f"requests of up to {args.max_tokens} completion tokens per measurement, each setting measured twice "
        f"in the order 1, 2, 2, 1. Mean calls/min: "
        + "; ".join(f"{setting}: {value:.1f}" for setting, value in means.items())
        + ". Load average per row: about 1-2 on the idle 2-core machine, higher when other jobs shared the cores."
    )
    write_section(
        "llm-slots",
        f"benchmarks/bench_llm_slots.py --requests {args.requests} --max-tokens {args.max_tokens}",
        table,
        notes,
    )


if __name__ == "__main__":
    main()
