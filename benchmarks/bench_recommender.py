"""Recommender speed: training epoch time, full-ranking throughput, semantic-ID inference overhead.

Workloads: Amazon 2018 Industrial & Scientific (if ../shared/data or MOMOREC_SHARED_DATA has it) and a
synthetic log of about 1M interactions (Zipf item popularity, no item repeated per user). SASRec uses the
RecBole anchor's settings (hidden 64, 2 blocks, 2 heads, dropout 0.5, max length 50, batch 256, CE over all
items); MoMoREC adds a 6 x 64 semantic-ID table. Inference = one full-ranking test pass over every user
(history masked), including the item-representation pass; the two models' passes alternate and the best of
``--repeats`` is kept, in this process.

    .venv/bin/python benchmarks/bench_recommender.py [--skip-synthetic] [--accuracy-seeds 0]

``--accuracy-seeds N`` also trains SASRec to early stopping on Scientific for N seeds and reports test
metrics masked and unmasked (slow: minutes per seed on 2 cores).

``--content-options`` times the content-backbone options instead (issue 27), on Scientific only, each against
SASRec: temperature-scaled cosine scoring, the tuned hidden size 128, and the text adaptor (a mixture of
whitening experts over frozen 384-d item vectors) with each of them. The adaptor reads random vectors of the
text embeddings' shape: the cost of a step does not depend on their values. Section ``recommender-content-options``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import write_section  # noqa: E402

from momorec.data.sequences import UserSequences  # noqa: E402
from momorec.evaluation.evaluator import evaluate_split  # noqa: E402
from momorec.evaluation.metrics import metric_values  # noqa: E402
from momorec.models.adaptor_fusion import AdaptorFusion  # noqa: E402
from momorec.models.momorec import MoMoREC  # noqa: E402
from momorec.models.sasrec import SASRec  # noqa: E402
from momorec.models.trainer import TrainingConfig, fit, model_score_fn  # noqa: E402

ANCHOR = {"hidden_size": 64, "n_blocks": 2, "n_heads": 2, "max_length": 50, "dropout": 0.5}


def shared_data() -> Path:
    return Path(os.environ.get("MOMOREC_SHARED_DATA", ROOT / "../shared/data")).resolve()


def leave_one_out(sequences: list[np.ndarray]) -> pd.DataFrame:
    lengths = np.array([len(s) for s in sequences])
    position = np.concatenate([np.arange(n) for n in lengths])
    from_end = np.repeat(lengths, lengths) - 1 - position
    return pd.DataFrame(
        {
            "user_idx": np.repeat(np.arange(len(sequences)), lengths),
            "item_idx": np.concatenate(sequences),
            "position": position,
            "split": np.where(from_end == 0, "test", np.where(from_end == 1, "valid", "train")),
        }
    )


def scientific() -> UserSequences | None:
    path = shared_data() / "amazon2018-industrial-scientific" / "Scientific.inter.json"
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    return UserSequences.from_interactions(leave_one_out([np.array(v) for v in raw.values()]))


def synthetic(n_interactions: int = 1_000_000, n_items: int = 20_000, mean_length: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_users = n_interactions // mean_length
    lengths = np.clip(rng.poisson(mean_length - 4, n_users) + 5, 5, 200)  # ~10 % repeats are dropped below
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.1
    drawn = rng.choice(n_items, size=(int(lengths.sum() * 1.3)), p=popularity / popularity.sum())
    # Per user: consecutive draws with repeats dropped (vectorised), cut to the user's length.
    users = np.repeat(np.arange(n_users), lengths)
    frame = pd.DataFrame({"user_idx": users, "item_idx": drawn[: len(users)]}).drop_duplicates()
    frame["position"] = frame.groupby("user_idx").cumcount()
    size = frame.groupby("user_idx")["position"].transform("size")
    frame = frame[size >= 3]
    from_end = frame.groupby("user_idx")["position"].transform("max") - frame["position"]
    frame["split"] = np.where(from_end == 0, "test", np.where(from_end == 1, "valid", "train"))
    frame["user_idx"] = frame["user_idx"].rank(method="dense").astype(np.int64) - 1
    return UserSequences.from_interactions(frame, n_items=n_items)


def random_codes(n_items: int, n_layers: int = 6, n_codes: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_codes, size=(n_items, n_layers))


def epoch_seconds(model: SASRec, data: UserSequences, epochs: int) -> float:
    config = TrainingConfig(epochs=epochs, patience=epochs, eval_every=10_000)
    history = fit(model, data, config).history
    return float(np.mean([r["train_seconds"] for r in history]))


def inference_seconds(model: SASRec, data: UserSequences, repeats: int = 3, chunk_size: int = 2048) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        evaluate_split(model_score_fn(model), data, "test", model.max_length, True, chunk_size)
        best = min(best, time.perf_counter() - started)
    return best


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def bench(name: str, data: UserSequences, epochs: int, repeats: int = 5) -> list[dict]:
    models = {}
    for variant in ("sasrec", "momorec"):
        torch.manual_seed(0)
        if variant == "sasrec":
            models[variant] = SASRec(data.n_items, **ANCHOR)
        else:
            models[variant] = MoMoREC(
                data.n_items, random_codes(data.n_items), code_embedding_size=32, **ANCHOR
            )
    seconds = {variant: epoch_seconds(model, data, epochs) for variant, model in models.items()}
    # Inference passes alternate between the two models so that changing load on a shared machine hits both.
    passes = {variant: float("inf") for variant in models}
    for _ in range(repeats):
        for variant, model in models.items():
            passes[variant] = min(passes[variant], inference_seconds(model, data, repeats=1))
    rows = []
    for variant, model in models.items():
        inference = passes[variant]
        rows.append(
            {
                "workload": name,
                "variant": variant,
                "users": data.n_users,
                "items": data.n_items,
                "interactions": int(
                    len(data.train_items) + (data.valid_items >= 0).sum() + (data.test_items >= 0).sum()
                ),
                "train_transitions": int(np.maximum(data.train_lengths - 1, 0).sum()),
                "parameters": model.n_parameters(),
                "epoch_s": round(seconds[variant], 2),
                "full_ranking_pass_s": round(inference, 3),
                "users_per_s": round(data.n_users / inference),
                "s_per_1000_users": round(inference / data.n_users * 1000, 4),
                "peak_rss_gib": round(peak_rss_gib(), 2),
            }
        )
        print(rows[-1], flush=True)
    return rows


# name -> (model class, settings over the anchor); τ 0.1 is the best temperature of docs/results.md's search.
CONTENT_OPTIONS = {
    "sasrec": ("sasrec", {}),
    "sasrec, cosine τ 0.1": ("sasrec", {"scoring": "cosine", "temperature": 0.1}),
    "sasrec, hidden 128": ("sasrec", {"hidden_size": 128}),
    "adaptor_text": ("adaptor", {}),
    "adaptor_text, cosine τ 0.1": ("adaptor", {"scoring": "cosine", "temperature": 0.1}),
    "adaptor_text, hidden 128": ("adaptor", {"hidden_size": 128}),
}


def bench_content_options(data: UserSequences, epochs: int, repeats: int) -> tuple[pd.DataFrame, str]:
    """Seconds (wall and this process's CPU) per training epoch and per full-ranking pass of each option."""
    text_vectors = np.random.default_rng(0).standard_normal((data.n_items, 384)).astype(np.float32)
    models, rows = {}, []
    for name, (kind, settings) in CONTENT_OPTIONS.items():
        torch.manual_seed(0)
        architecture = ANCHOR | settings
        models[name] = (
            SASRec(data.n_items, **architecture)
            if kind == "sasrec"
            else AdaptorFusion(data.n_items, text_vectors, **architecture)
        )
        # One untimed epoch first: the first epoch of a model pays allocations (and, for the first option,
        # the thread pool's start) that every later epoch does not.
        epoch_seconds(models[name], data, 1)
        cpu_started = time.process_time()
        wall = epoch_seconds(models[name], data, epochs)
        rows.append(
            {
                "option": name,
                "parameters": models[name].n_parameters(),
                "epoch_s": round(wall, 2),
                "epoch_cpu_s": round((time.process_time() - cpu_started) / epochs, 2),
            }
        )
        print(rows[-1], flush=True)
    # Passes alternate between the options, so that changing load on a shared machine hits every one.
    passes = {name: float("inf") for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            passes[name] = min(passes[name], inference_seconds(model, data, repeats=1))
    table = pd.DataFrame(rows)
    table["full_ranking_pass_s"] = [round(passes[name], 3) for name in table["option"]]
    table["× sasrec epoch"] = (table["epoch_s"] / table.loc[0, "epoch_s"]).round(2)
    table["× sasrec pass"] = (table["full_ranking_pass_s"] / table.loc[0, "full_ranking_pass_s"]).round(2)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    note = (
        f"Scientific ({data.n_users} users, {data.n_items} items), anchor sizes otherwise (hidden 64, 2 blocks, "
        f"dropout 0.5, max length 50, batch 256, CE over all items), {epochs} timed epochs per option after one "
        f"untimed one, without validation, {torch.get_num_threads()} torch threads; the pass is one full-ranking test pass over every "
        f"user with history masked, item-representation pass included, best of {repeats}, options alternating. "
        f"Load average after the passes: {load} (1, 5, 15 min) on {os.cpu_count()} cores."
    )
    return table, note


def accuracy(data: UserSequences, seeds: int) -> pd.DataFrame:
    rows = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        model = SASRec(data.n_items, **ANCHOR)
        result = fit(model, data, TrainingConfig(epochs=200, patience=10, seed=seed, mask_history=False))
        for masked in (False, True):
            ranks = evaluate_split(model_score_fn(model), data, "test", 50, masked, 2048).ranks
            values = metric_values(ranks)
            rows.append(
                {
                    "seed": seed,
                    "masked": masked,
                    "epochs": len(result.history),
                    "best_epoch": result.best_epoch,
                }
                | {f"{m}@{k}": v for (m, k), v in values.items()}
            )
        print(rows[-2:], flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per workload (Scientific)")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--repeats", type=int, default=5, help="alternating timed inference passes per model")
    parser.add_argument("--accuracy-seeds", type=int, default=0)
    parser.add_argument("--content-options", action="store_true", help="time the content-backbone options")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.content_options:
        data = scientific()
        if data is None:
            raise SystemExit("--content-options needs Scientific (../shared/data or MOMOREC_SHARED_DATA)")
        table, note = bench_content_options(data, args.epochs, args.repeats)
        write_section(
            "recommender-content-options", "benchmarks/bench_recommender.py --content-options", table, note
        )
        return
    rows, notes = [], []
    data = scientific()
    if data is None:
        notes.append("Scientific data not found: skipped.")
    else:
        rows += bench("scientific", data, args.epochs, args.repeats)
    if not args.skip_synthetic:
        rows += bench("synthetic_1M", synthetic(), 1, max(1, args.repeats // 2))
    table = pd.DataFrame(rows)
    for workload, group in table.groupby("workload", sort=False):
        base = group.set_index("variant")["full_ranking_pass_s"]
        notes.append(
            f"{workload}: MoMoREC inference overhead over SASRec {100 * (base['momorec'] / base['sasrec'] - 1):+.1f} % "
            "(target <= +10 %; paper +7.9 %)."
        )
    notes.append(
        "RecBole 1.2.1 SASRec anchor on Scientific (docs/design.md): 65.9 s/epoch, 7.5-9.3 s per full-ranking "
        "pass, 2.0 GB. Epoch = one pass over every training transition; a shared 2-core machine: timings vary "
        "with other load (set OMP_WAIT_POLICY=PASSIVE when other processes compete for the cores)."
    )
    if data is not None and args.accuracy_seeds:
        scores = accuracy(data, args.accuracy_seeds)
        summary = scores.groupby("masked").agg(["mean", "std"]).round(4)
        notes.append("SASRec test accuracy on Scientific (mean, std over seeds):\n\n" + summary.to_markdown())
    write_section("recommender", "benchmarks/bench_recommender.py", table, "\n\n".join(notes))


if __name__ == "__main__":
    main()
