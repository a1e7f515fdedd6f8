"""Throughput of the LLM layer: the embedded model on this machine, and concurrency scaling of the client.

    .venv/bin/python benchmarks/bench_llm.py [--pairs 12] [--requests 160] [--skip-embedded]
        [--data-root data] [--analysis two_step direct] [--spread]

1. Embedded model: one agent (``goal_analyst``, the shipped sampling parameters) in each ``--analysis`` mode
   (``two_step``: generation + summary; ``direct``: one constrained call per pair) on the ``--pairs`` most
   supported co-purchase pairs of ``--data-root`` (``data``: the built-in shop after a
   ``kedro run --pipeline data_engineering``; ``data/scientific`` for Amazon Scientific; a fixed list of
   sample pairs otherwise), cold cache, through the same client and embedded server pool as ``kedro run``.
   Reports pairs per minute, seconds per call, completion tokens per second and the servers' CPU seconds per
   pair (barely affected by other processes, unlike wall time). The machine is shared, so the load average
   is printed with the result.
2. Concurrency scaling: ``--requests`` distinct requests against the fake OpenAI-compatible server with
   100 ms simulated latency, through the real client (HTTP, cache writes), with 1, 4 and 16 workers.
   Efficiency = throughput / (workers x single-worker throughput); the target is >= 0.7. Also reported
   against the latency bound (workers / 100 ms), which charges the client's per-request overhead too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_section  # noqa: E402

from momorec.agents.analysis import ANALYSIS_MODES, AnalysisSettings, run_analysis_agent  # noqa: E402
from momorec.agents.pairs import pair_texts, select_pairs  # noqa: E402
from momorec.agents.prompts import GENERATION_PROMPTS, ItemText  # noqa: E402
from momorec.agents.stage import titles_cut  # noqa: E402
from momorec.llm import CallSettings, ChatRequest, EndpointConfig, LLMCache, LLMClient, UsageRecorder  # noqa: E402
from momorec.llm.embedded import EmbeddedPool  # noqa: E402

LATENCY_S = 0.1
SAMPLE_PAIRS = [
    (
        ItemText("Manual burr coffee grinder, ceramic", "Coffee"),
        ItemText("Stovetop espresso maker, 6 cups", "Coffee"),
    ),
    (ItemText("Trail running shoes, size 42", "Running"), ItemText("Hydration vest, 5 L", "Running")),
    (ItemText("Kettle charcoal grill, 57 cm", "Garden"), ItemText("Stainless grill tongs, 40 cm", "Kitchen")),
    (ItemText("Aquarium filter, 80 L", "Pets > Fish"), ItemText("Water test kit, freshwater", "Pets > Fish")),
]


def shop_pairs(
    n: int, data_root: str = "data", spread: bool = False
) -> tuple[list[tuple[ItemText, ItemText]], str]:
    pairs_path, items_path = (
        ROOT / data_root / "04_feature/copurchase_pairs.parquet",
        ROOT / data_root / "03_primary/items.parquet",
    )
    if not (pairs_path.exists() and items_path.exists()):
        return (SAMPLE_PAIRS * (n // len(SAMPLE_PAIRS) + 1))[:n], f"sample pairs (no {data_root}/ found)"
    # The pairs the motivation stage asks about first: the most supported, titles cut as in the run.
    copurchase = pd.read_parquet(pairs_path)
    selected = select_pairs(copurchase, pd.read_parquet(items_path), len(copurchase) if spread else n)
    which = f"the {n} most supported pairs"
    if spread:  # evenly through the support order: the later pairs' titles differ (docs/results.md)
        selected = selected.iloc[np.unique(np.linspace(0, len(selected) - 1, n).round().astype(int))]
        which = f"{len(selected)} pairs evenly spread over all {len(copurchase)} (by support rank)"
    return pair_texts(titles_cut(selected, params_max_title_tokens())), (
        f"{which} of {data_root}/04_feature/copurchase_pairs.parquet"
    )


def params_max_title_tokens() -> int | None:
    return yaml.safe_load((ROOT / "conf/base/parameters_motivation.yml").read_text())["motivation"][
        "max_title_tokens"
    ]


def bench_embedded(n_pairs: int, params: dict, data_root: str = "data", spread: bool = False) -> dict:
    pairs, source = shop_pairs(n_pairs, data_root, spread)
    n_pairs = len(pairs)
    settings = AnalysisSettings.from_params(params)  # the run's sampling, checks, constraints and mode
    model = params["models"]["smollm2"]["model"]
    usage = UsageRecorder("bench")
    with tempfile.TemporaryDirectory() as folder:
        embedded = params["embedded"]
        pool = EmbeddedPool.create(
            model, n_servers=embedded.get("servers"), n_threads=embedded.get("n_threads")
        )
        started = time.perf_counter()
        pool.start()
        startup = time.perf_counter() - started
        client = LLMClient(
            EndpointConfig(name="smollm2", model=model),  # embedded: one lane per server of the pool
            CallSettings(timeout_s=300, show_progress=False),
            LLMCache(Path(folder) / "cache.sqlite"),
            usage,
            embedded_server=pool,
        )
        load_before = os.getloadavg()[0]
        processes = [psutil.Process(server._process.pid) for server in pool.servers]
        cpu_before = sum(sum(process.cpu_times()[:2]) for process in processes)
        started = time.perf_counter()
        with client:
            outcomes = run_analysis_agent(client, GENERATION_PROMPTS["goal_analyst"], pairs, settings)
            # CPU seconds the model used: unlike wall time, barely affected by other processes on the machine.
            server_cpu = sum(sum(process.cpu_times()[:2]) for process in processes) - cpu_before
        elapsed = time.perf_counter() - started
    numbers = usage.as_dict()
    return {
        "source": source,
        "pairs": n_pairs,
        "analysis": settings.mode,
        "servers_x_threads": f"{len(pool)} x {pool.servers[0].n_threads}",
        "server_start_s": round(startup, 2),
        "seconds": round(elapsed, 1),
        "pairs_per_minute": round(60 * n_pairs / elapsed, 1),
        "calls": numbers["calls"],
        "seconds_per_call": round(elapsed / max(numbers["calls"], 1), 2),
        "completion_tokens_per_s": round(numbers["completion_tokens"] / elapsed, 1),
        "server_cpu_s_per_call": round(server_cpu / max(numbers["calls"], 1), 2),
        "server_cpu_s_per_pair": round(server_cpu / n_pairs, 2),
        "prompt_tokens_per_call": round(numbers["prompt_tokens"] / max(numbers["calls"], 1)),
        "completion_tokens_per_call": round(numbers["completion_tokens"] / max(numbers["calls"], 1)),
        "ok_pairs": sum(o.status == "ok" for o in outcomes),
        "load_avg_before_after": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
    }


def bench_concurrency(n_requests: int, workers: list[int]) -> pd.DataFrame:
    rows = []
    for n_workers in workers:
        # The server runs in its own process, as a remote endpoint would: it does not share the client's GIL.
        server = subprocess.Popen(
            [sys.executable, "-m", "momorec.llm.testing", str(LATENCY_S)], stdout=subprocess.PIPE, text=True
        )
        try:
            base_url = server.stdout.readline().strip()
            with tempfile.TemporaryDirectory() as folder:
                client = LLMClient(
                    EndpointConfig(name="fake", model="fake-model", base_url=base_url),
                    CallSettings(concurrency=n_workers, show_progress=False),
                    LLMCache(Path(folder) / "cache.sqlite"),
                )
                requests = [
                    ChatRequest.from_messages(
                        [{"role": "user", "content": f"bench {n_workers} {i}"}], max_tokens=8
                    )
                    for i in range(n_requests)
                ]
                started = time.perf_counter()
                results = client.complete_many(requests)
                elapsed = time.perf_counter() - started
                client.close()
            with urllib.request.urlopen(base_url + "/stats") as response:
                stats = json.load(response)
        finally:
            server.terminate()
            server.wait()
        assert all(r.ok for r in results) and stats["n_requests"] == n_requests
        rows.append({"workers": n_workers, "requests": n_requests, "seconds": round(elapsed, 3),
                     "requests_per_s": round(n_requests / elapsed, 2), "max_in_flight": stats["max_in_flight"]})  # fmt: skip
    table = pd.DataFrame(rows)
    single = table.loc[table["workers"] == 1, "requests_per_s"].iloc[0]
    table["efficiency_vs_linear"] = (table["requests_per_s"] / (table["workers"] * single)).round(3)
    # Against the latency bound (workers / 100 ms), which also charges the client's own per-request overhead.
    table["efficiency_vs_ideal"] = (table["requests_per_s"] / (table["workers"] / LATENCY_S)).round(3)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--requests", type=int, default=160)
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--data-root", default="data")
    parser.add_argument("--spread", action="store_true", help="pairs evenly spread over the support order")
    parser.add_argument("--analysis", nargs="+", default=["two_step", "direct"], choices=list(ANALYSIS_MODES))
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "conf/base/parameters_motivation.yml").read_text())["motivation"]

    scaling = bench_concurrency(args.requests, [1, 4, 16])
    notes = [
        "Concurrency: fake OpenAI-compatible server (separate process, keep-alive HTTP) with 100 ms latency per "
        "request, real `openai` client, SQLite cache writes included; target efficiency >= 0.7 x linear."
    ]
    table = scaling.assign(benchmark="client concurrency (fake server, 100 ms)")
    command = "benchmarks/bench_llm.py"
    if not args.skip_embedded:
        command += f" --pairs {args.pairs} --data-root {args.data_root} --analysis {' '.join(args.analysis)}"
        command += " --spread" if args.spread else ""
        for mode in args.analysis:
            embedded = bench_embedded(args.pairs, {**params, "analysis": mode}, args.data_root, args.spread)
            print(embedded)
            notes.append(
                f"Embedded model, `analysis: {mode}`: SmolLM2-135M-Instruct Q4_1 via llama.cpp servers "
                f"({embedded['servers_x_threads']} threads), one agent (goal_analyst) on {embedded['source']}, "
                f"cold cache: {embedded['pairs']} pairs in {embedded['seconds']} s = "
                f"**{embedded['pairs_per_minute']} pairs/min** ({embedded['calls']} calls, "
                f"{embedded['seconds_per_call']} s/call, {embedded['prompt_tokens_per_call']} prompt and "
                f"{embedded['completion_tokens_per_call']} completion tokens per call, "
                f"{embedded['completion_tokens_per_s']} completion tokens/s, "
                f"**{embedded['server_cpu_s_per_pair']} server CPU-seconds per pair**, server start "
                f"{embedded['server_start_s']} s, {embedded['ok_pairs']} pairs with an ok motivation). Load average "
                f"before/after: {embedded['load_avg_before_after']} (the machine is shared)."
            )
    write_section("llm", command, table, "\n\n".join(notes))


if __name__ == "__main__":
    main()
