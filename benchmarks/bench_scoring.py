"""Batch-scoring throughput and single-request latency of the served recommender.

Workload: synthetic logs (Zipf item popularity, lengths 1 + Poisson(9)) at the default shop's size (3,100
users, 1,250 items) and larger; an untrained SASRec and MoMoREC (6 x 64 semantic-ID table) of the default
shop's architecture (hidden 32, 2 blocks, max length 20) -- throughput does not depend on the weights.
Batch = :func:`momorec.serving.batch.score_users` (histories from the interaction table, chunked full
ranking with ``torch.topk``, history masked, the long output table); latency = one
:func:`momorec.serving.requests.answer_requests` call with one history (what the pyfunc model runs per
HTTP request, without the HTTP server). Wall and process CPU seconds, best of ``--repeats``.

    .venv/bin/python benchmarks/bench_scoring.py [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_section  # noqa: E402

from momorec.models.momorec import MoMoREC  # noqa: E402
from momorec.models.sasrec import SASRec  # noqa: E402
from momorec.serving.batch import score_users, user_histories  # noqa: E402
from momorec.serving.recommender import Recommender  # noqa: E402
from momorec.serving.requests import answer_requests  # noqa: E402

ARCHITECTURE = {"hidden_size": 32, "n_blocks": 2, "n_heads": 2, "max_length": 20, "dropout": 0.3}


def synthetic_log(n_users: int, n_items: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    lengths = 1 + rng.poisson(9, size=n_users)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.1
    items = rng.choice(n_items, size=int(lengths.sum()), p=popularity / popularity.sum())
    user = np.repeat(np.arange(n_users), lengths)
    position = np.arange(len(user)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    interactions = pd.DataFrame({"user_idx": user, "item_idx": items, "position": position})
    users = pd.DataFrame({"user_idx": np.arange(n_users), "user_id": [f"U{u}" for u in range(n_users)]})
    table = pd.DataFrame(
        {
            "item_idx": np.arange(n_items),
            "item_id": [f"B{i:09d}" for i in range(n_items)],
            "title": [f"product {i}" for i in range(n_items)],
            "train_count": np.bincount(items, minlength=n_items),
        }
    )
    return interactions, users, table


def network(kind: str, n_items: int):
    torch.manual_seed(0)
    if kind == "sasrec":
        return SASRec(n_items, **ARCHITECTURE)
    codes = np.random.default_rng(0).integers(0, 64, size=(n_items, 6))
    return MoMoREC(n_items, codes, code_embedding_size=16, **ARCHITECTURE)


def timed(function, repeats: int) -> tuple[float, float, object]:
    best_wall, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--chunk-size", type=int, default=2048)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for n_users, n_items in [(3_100, 1_250), (50_000, 1_250), (50_000, 20_000)]:
        interactions, users, items = synthetic_log(n_users, n_items)
        for kind in ("sasrec", "momorec"):
            recommender = Recommender(network(kind, n_items), items, kind)

            def batch(recommender=recommender, interactions=interactions, users=users):
                user_ids, histories = user_histories(interactions, users)
                return score_users(recommender, user_ids, histories, args.k, args.chunk_size)

            wall, cpu, recommendations = timed(batch, args.repeats)
            assert len(recommendations) == n_users * args.k
            history = pd.DataFrame({"history": [items["item_id"].iloc[:8].tolist()], "k": [args.k]})
            latency, latency_cpu, _ = timed(lambda r=recommender, h=history: answer_requests(r, h), 20)
            rows.append(
                {
                    "users": n_users,
                    "items": n_items,
                    "model": kind,
                    "batch wall s": round(wall, 2),
                    "batch CPU s": round(cpu, 2),
                    "users/s (wall)": int(n_users / wall),
                    "request ms (wall)": round(latency * 1000, 1),
                    "request ms (CPU)": round(latency_cpu * 1000, 1),
                }
            )
            print(rows[-1], flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    notes = (
        f"k = {args.k}, chunk {args.chunk_size} users, {args.threads} torch threads, best of {args.repeats} "
        f"(requests: best of 20). Load average at the end: {load} -- on a shared machine wall times are "
        "upper bounds; CPU seconds count this process's work across its threads."
    )
    write_section("scoring", "benchmarks/bench_scoring.py", pd.DataFrame(rows), notes)


if __name__ == "__main__":
    main()
