"""Large catalogues: full softmax (``ce``) vs sampled softmax (``sampled_ce``) on Games-size and 100k-item shops.

    nice -n 10 .venv/bin/python benchmarks/bench_large_catalogue.py [--epochs 2] [--negatives 256]
        [--xl-items 100000 --xl-interactions 2000000] [--skip-games] [--skip-xl] [--profile-batches 200]

Workloads, both the built-in shop put through the project's ``data_engineering`` pipeline (Kedro, in a
temporary copy of the project, so the repository's data/ is untouched):

- ``games``: the ``conf/shop_large`` environment (about 50k users, 17k items, 450k interactions after the
  5-core filter, the size of Amazon Video Games). SASRec trains ``--epochs`` epochs with each loss from the
  same initial weights; seconds per epoch, then Recall@10 / NDCG@10 on validation and test (full ranking,
  history masked) after the last epoch.
- ``xl``: a shop of ``--xl-items`` items and about ``--xl-interactions`` interactions (a benchmark size, not
  an environment; the 5-core filter is off so the whole catalogue stays). One epoch of ``sampled_ce`` and
  one full-ranking pass over every user, with the process's peak RSS (target: under 8 GB).

With ``--variants`` (issue 28) every default trained variant of ``conf/base/parameters_recommender.yml`` (and
the two adaptor+codes variants) trains ``--variant-epochs`` epochs on ``games`` with the project's recommender
settings (``loss: auto`` = ``sampled_ce`` there), each in a fresh process (its own peak RSS); seconds per epoch,
× SASRec, validation NDCG@10. ``--baseline-src DIR`` also trains each variant with the code under ``DIR``
(e.g. an export of main's ``src``), right before the current code, so both meet the same machine load. Side
inputs are built once per ``--workdir``: the item text embeddings (the run's encoder), text-only semantic IDs
(residual k-means, the run's settings) and, standing in for the LLM stage, the semantic IDs and motivation
vectors of the shop's ground-truth motivations (``oracle_semantic_ids``): same shapes (L x K codes, 384-d
vectors), so the same cost per step.

With ``--profile-batches N`` the first N batches of a ``ce`` and a ``sampled_ce`` epoch on ``games`` run under
``torch.profiler`` and the operators taking most CPU time are written to the results.
SASRec uses the RecBole anchor's sizes (hidden 64, 2 blocks, 2 heads, dropout 0.5, max length 50, batch 256,
Adam 1e-3) as in bench_recommender.py.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
# BENCH_SRC: the momorec code to import instead of this checkout's (the --baseline-src child processes).
SRC = Path(os.environ.get("BENCH_SRC") or ROOT / "src")
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import write_section  # noqa: E402

from momorec.data.sequences import UserSequences  # noqa: E402
from momorec.evaluation.evaluator import evaluate_split  # noqa: E402
from momorec.evaluation.metrics import ndcg_at_k, recall_at_k  # noqa: E402
from momorec.models.sasrec import SASRec  # noqa: E402
from momorec.models.trainer import TrainingConfig, fit, model_score_fn  # noqa: E402

ANCHOR = {"hidden_size": 64, "n_blocks": 2, "n_heads": 2, "max_length": 50, "dropout": 0.5}


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def shop_sequences(
    workdir: Path, env: str, shop_overrides: dict | None, params: dict | None
) -> UserSequences:
    """Run data_engineering on the built-in shop of ``env`` (settings overridden) in a copy of the project.

    A copy already holding the pipeline's outputs (``--workdir`` of an earlier run) is reused as it is.
    """
    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = workdir / env
    primary = project / "data" / "03_primary"
    if (primary / "interactions.parquet").exists():
        print(f"{env}: reusing {primary}", flush=True)
        return _load(primary)
    if project.exists():  # an earlier run stopped before data_engineering finished: start it over
        print(f"{env}: removing the unfinished {project}", flush=True)
        shutil.rmtree(project)
    shutil.copytree(ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    (project / "src").mkdir()
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    environment = project / "conf" / env
    environment.mkdir(exist_ok=True)
    if shop_overrides is not None:
        base = yaml.safe_load((ROOT / "conf" / "base" / "globals.yml").read_text())["builtin_shop"]
        (environment / "globals.yml").write_text(yaml.safe_dump({"builtin_shop": base | shop_overrides}))
    cwd = Path.cwd()
    os.chdir(project)  # kedro-mlflow's sqlite store is relative to the working directory
    try:
        bootstrap_project(project)
        configure_project("momorec")
        with KedroSession.create(project_path=project, env=env, runtime_params=params or {}) as session:
            started = time.perf_counter()
            session.run(pipeline_name="data_engineering")
            print(f"{env}: data_engineering {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        os.chdir(cwd)
    return _load(primary)


def _load(primary: Path) -> UserSequences:
    interactions = pd.read_parquet(primary / "interactions.parquet")
    items = pd.read_parquet(primary / "items.parquet")
    return UserSequences.from_interactions(interactions, n_items=len(items))


class BatchClock:
    """``on_batch`` callback: process CPU seconds at every batch, for CPU seconds per epoch.

    On a machine shared with other work, wall time measures the contention as much as the model; the CPU
    time of this process (all its threads) does not. Per epoch: the span from its first to its last batch,
    scaled by n / (n - 1) for the last batch's own work (validation is outside the span).
    """

    def __init__(self, batches_per_epoch: int) -> None:
        self.per_epoch, self.stamps = batches_per_epoch, []

    def __call__(self, *_) -> None:
        self.stamps.append(time.process_time())

    def cpu_seconds_per_epoch(self) -> list[float]:
        n = self.per_epoch
        epochs = [self.stamps[i : i + n] for i in range(0, len(self.stamps), n)]
        return [(e[-1] - e[0]) * len(e) / max(len(e) - 1, 1) for e in epochs]


def batches_per_epoch(data: UserSequences, batch_size: int = 256) -> int:
    return -(-len(data.training_windows(ANCHOR["max_length"])[0]) // batch_size)


def config(loss: str, epochs: int, negatives: int, sampling: str) -> TrainingConfig:
    return TrainingConfig(
        epochs=epochs,
        patience=epochs,
        batch_size=256,
        learning_rate=1e-3,
        loss=loss,
        sampled_ce={"negatives": negatives, "sampling": sampling},
        eval_every=1,  # validation NDCG/Recall@10 after every epoch (not in the epoch's time)
    )


def accuracy(model: SASRec, data: UserSequences, split: str) -> dict[str, float]:
    ranks = evaluate_split(model_score_fn(model), data, split, model.max_length, True, 2048).ranks
    return {
        f"{split}_recall@10": float(recall_at_k(ranks, 10).mean()),
        f"{split}_ndcg@10": float(ndcg_at_k(ranks, 10).mean()),
    }


def describe(data: UserSequences) -> dict:
    return {
        "users": data.n_users,
        "items": data.n_items,
        "interactions": int(
            len(data.train_items) + (data.valid_items >= 0).sum() + (data.test_items >= 0).sum()
        ),
        "train_transitions": int(np.maximum(data.train_lengths - 1, 0).sum()),
    }


def compare_losses(data: UserSequences, args, name: str = "games") -> list[dict]:
    torch.manual_seed(0)
    initial = SASRec(data.n_items, **ANCHOR)
    rows = []
    for loss in args.losses:
        model = copy.deepcopy(initial)
        clock = BatchClock(batches_per_epoch(data))
        epochs = (args.sampled_epochs or args.epochs) if loss == "sampled_ce" else args.epochs
        result = fit(
            model,
            data,
            config(loss, epochs, args.negatives, args.sampling),
            on_batch=clock,
            on_epoch=lambda record, loss=loss: print(loss, record, flush=True),
        )
        seconds = [r["train_seconds"] for r in result.history]
        cpu = clock.cpu_seconds_per_epoch()
        started = time.perf_counter()
        test = accuracy(model, data, "test")
        ranking_s = time.perf_counter() - started
        row = {
            "workload": name,
            **describe(data),
            "loss": loss + (f" ({args.negatives}, {args.sampling})" if loss == "sampled_ce" else ""),
            "epochs": len(seconds),
            "best_epoch": result.best_epoch + 1,
            "epoch_cpu_s": round(float(np.mean(cpu)), 1),
            "epoch_wall_s": " / ".join(f"{s:.0f}" for s in seconds),
            # Validation after every epoch; test with the best validation epoch's weights (fit restores them).
            "valid_recall@10 per epoch": " / ".join(f"{r['valid_recall_at_10']:.4f}" for r in result.history),
            "valid_ndcg@10 (best)": round(result.best_valid_ndcg_at_10, 4),
            **{k: round(v, 4) for k, v in test.items()},
            "full_ranking_s": round(ranking_s, 1),
            "peak_rss_gib": round(peak_rss_gib(), 2),
        }
        print(row, flush=True)
        rows.append(row)
    return rows


def xl_run(data: UserSequences, args) -> dict:
    torch.manual_seed(0)
    model = SASRec(data.n_items, **ANCHOR)
    clock = BatchClock(batches_per_epoch(data))
    result = fit(model, data, config("sampled_ce", 1, args.negatives, args.sampling), on_batch=clock)
    started = time.perf_counter()
    test = accuracy(model, data, "test")
    row = {
        "workload": "xl",
        **describe(data),
        "loss": f"sampled_ce ({args.negatives}, {args.sampling})",
        "epochs": 1,
        "epoch_cpu_s": round(clock.cpu_seconds_per_epoch()[0], 1),
        "epoch_wall_s": f"{result.history[0]['train_seconds']:.0f}",
        "valid_recall@10": round(result.history[-1]["valid_recall_at_10"], 4),
        "valid_ndcg@10": round(result.history[-1]["valid_ndcg_at_10"], 4),
        **{k: round(v, 4) for k, v in test.items()},
        "full_ranking_s": round(time.perf_counter() - started, 1),
        "peak_rss_gib": round(peak_rss_gib(), 2),
    }
    print(row, flush=True)
    return row


def profile(data: UserSequences, args) -> str:
    """Top operators (self CPU time) over the first batches of one epoch, per loss."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    sections = []
    for loss in ("ce", "sampled_ce"):
        torch.manual_seed(0)
        model = SASRec(data.n_items, **ANCHOR)
        started = time.perf_counter()
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof, contextlib.suppress(Enough):
            fit(
                model,
                data,
                config(loss, 1, args.negatives, args.sampling),
                on_batch=StopAfter(1, args.profile_batches),
            )
        wall = time.perf_counter() - started
        table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)
        sections.append(
            f"Profile, `{loss}`, first {args.profile_batches} batches of 256 sequences ({wall:.1f} s wall, "
            f"under the profiler):\n\n```\n{table}\n```"
        )
        print(sections[-1], flush=True)
    return "\n\n".join(sections)


def zipf_sequences(n_items: int, n_interactions: int, seed: int = 0) -> UserSequences:
    """A Zipf-popularity log (exponent 1.1, ~8 items per user, no repeats), leave-one-out: seconds to build."""
    rng = np.random.default_rng(seed)
    n_users = n_interactions // 8
    lengths = np.clip(rng.poisson(4, n_users) + 5, 5, 200)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.1
    users = np.repeat(np.arange(n_users), lengths)
    drawn = rng.choice(n_items, size=len(users), p=popularity / popularity.sum())
    frame = pd.DataFrame({"user_idx": users, "item_idx": drawn}).drop_duplicates()
    frame["position"] = frame.groupby("user_idx").cumcount()
    from_end = frame.groupby("user_idx")["position"].transform("max") - frame["position"]
    frame["split"] = np.where(from_end == 0, "test", np.where(from_end == 1, "valid", "train"))
    return UserSequences.from_interactions(frame, n_items=n_items)


def first_users(data: UserSequences, n: int) -> UserSequences:
    """The first ``n`` users (a slice of the CSR arrays), for a partial ranking pass."""
    n = min(n, data.n_users)
    return UserSequences(
        user_idx=data.user_idx[:n],
        train_offsets=data.train_offsets[: n + 1],
        train_items=data.train_items[: data.train_offsets[n]],
        valid_items=data.valid_items[:n],
        test_items=data.test_items[:n],
        n_items=data.n_items,
    )


class Enough(Exception):
    pass


class StopAfter(BatchClock):
    """A :class:`BatchClock` that ends training after ``limit`` batches."""

    def __init__(self, batches_per_epoch: int, limit: int) -> None:
        super().__init__(batches_per_epoch)
        self.limit = limit

    def __call__(self, *args) -> None:
        super().__call__(*args)
        if len(self.stamps) > self.limit:
            raise Enough


def sampled_batches(name: str, data: UserSequences, losses: list[str], args) -> list[dict]:
    """CPU seconds per batch over ``--sample-batches`` batches per loss, times batches per epoch.

    For a machine too busy to train whole epochs: the per-batch cost does not change within an epoch (same
    batch size, shuffled windows). The first batch is left out (allocations); ``--rank-chunks`` chunks of
    2,048 users are then ranked against every item for the peak memory of full ranking (bounded per chunk)
    and its CPU seconds per chunk.
    """
    rows = []
    per_epoch = batches_per_epoch(data)
    for loss in losses:
        torch.manual_seed(0)
        model = SASRec(data.n_items, **ANCHOR)
        clock = StopAfter(per_epoch, args.sample_batches + 1)
        with contextlib.suppress(Enough):
            fit(model, data, config(loss, 1, args.negatives, args.sampling), on_batch=clock)
        per_batch = float(np.mean(np.diff(clock.stamps)))
        started = time.process_time()
        subset = first_users(data, args.rank_chunks * 2048)
        evaluate_split(model_score_fn(model), subset, "test", model.max_length, True, 2048)
        per_chunk = (time.process_time() - started) / args.rank_chunks
        rows.append(
            {
                "workload": name,
                **describe(data),
                "loss": loss + (f" ({args.negatives}, {args.sampling})" if loss == "sampled_ce" else ""),
                "batches_timed": args.sample_batches,
                "cpu_s_per_batch": round(per_batch, 3),
                "batches_per_epoch": per_epoch,
                "epoch_cpu_s (estimate)": round(per_batch * per_epoch, 1),
                "ranking_cpu_s_per_2048_users": round(per_chunk, 2),
                "full_ranking_cpu_s (estimate)": round(per_chunk * data.n_users / 2048, 1),
                "peak_rss_gib": round(peak_rss_gib(), 2),
            }
        )
        print(rows[-1], flush=True)
    return rows


# The default trained variants (most_popular has nothing to train) and the adaptor+codes pair of issue 28.
DEFAULT_TRAINED = [
    "sasrec",
    "momorec_adaptor",
    "sasrec_adaptor_text",
    "momorec",
    "sid_text_only",
    "sasrec_text_init",
    "momorec_oracle",
    "leak_canary",
]
EXTRA_VARIANTS = ["sasrec_adaptor_text_codes", "momorec_adaptor_codes"]
# What each side-input dataset is in this benchmark (the LLM-made ones are stood in for by ground truth).
SIDE_INPUTS = {
    "item_text_embeddings": ("text.npy", "item text, the run's encoder"),
    "text_item_semantic_ids": ("text_ids.parquet", "text-only IDs"),
    "item_semantic_ids": ("truth_ids.parquet", "stand-in: ground-truth motivation IDs"),
    "leak_canary_item_semantic_ids": ("truth_ids.parquet", "stand-in: ground-truth motivation IDs"),
    "oracle_item_semantic_ids": ("truth_ids.parquet", "ground-truth motivation IDs"),
    "text_motivation_item_vectors": ("text_truth.npy", "text ⊕ stand-in: ground-truth motivation vector"),
}


def _yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / "conf" / "base" / name).read_text())


def build_side_inputs(project: Path) -> Path:
    """The variants' side inputs for the shop in ``project`` (kept in ``project/bench_side_inputs``)."""
    folder = project / "bench_side_inputs"
    while (folder / "building").exists():  # another process of this benchmark is building them
        time.sleep(10)
    if (folder / "text_truth.npy").exists():
        return folder
    from momorec.clustering.semantic_ids import (
        oracle_semantic_ids,
        residual_codes,
        residual_fit_settings,
        true_motivation_item_vectors,
    )
    from momorec.embeddings.encoder import EncoderBundle, item_texts_by_idx
    from momorec.io.builtin_shop import BuiltinShopDataset

    folder.mkdir(exist_ok=True)
    (folder / "building").touch()
    items = pd.read_parquet(project / "data" / "03_primary" / "items.parquet")
    settings = yaml.safe_load((project / "conf" / "shop_large" / "globals.yml").read_text())["builtin_shop"]
    truth = BuiltinShopDataset(str(project / "data" / "01_raw" / "shop"), settings, part="truth").load()
    encoder_params = _yaml("parameters_spreading.yml")["spreading"]["encoder"]
    encoder = EncoderBundle(base_model=encoder_params["model"], tuned=False)
    texts = item_texts_by_idx(items, encoder_params["text_fields"], encoder_params["text_separator"])
    started = time.perf_counter()
    text = encoder.encode(texts.sort_index().tolist(), encoder_params["batch_size"])
    print(f"item text embeddings: {len(text)} items, {time.perf_counter() - started:.0f} s", flush=True)
    fit = residual_fit_settings(_yaml("parameters_semantic_id.yml")["semantic_id"]) | {"show_progress": False}
    n_layers, n_codes = fit.pop("n_layers"), fit.pop("n_codes")
    residual_codes(text, n_layers, n_codes, **fit)[0].to_parquet(folder / "text_ids.parquet")
    oracle_semantic_ids(items, truth, encoder.encode, n_layers, n_codes, **fit).to_parquet(
        folder / "truth_ids.parquet"
    )
    motivation = np.nan_to_num(true_motivation_item_vectors(items, truth, encoder.encode), nan=0.0)
    np.save(folder / "text.npy", text)
    np.save(folder / "text_truth.npy", np.hstack([text, motivation]).astype(np.float32))
    (folder / "building").unlink()
    return folder


def train_one(variant: str, project: Path, epochs: int, threads: int) -> dict:
    """Train ``variant`` ``epochs`` epochs (validation after each) in this process; its row of the table."""
    from momorec.models.variants import build_model, model_kind, variant_inputs

    torch.set_num_threads(threads)
    data = _load(project / "data" / "03_primary")
    folder = project / "bench_side_inputs"
    inputs = []
    for name in variant_inputs(variant):
        path = folder / SIDE_INPUTS[name][0]
        inputs.append(np.load(path) if path.suffix == ".npy" else pd.read_parquet(path))
    params = _yaml("parameters_recommender.yml")["recommender"]
    params["training"] = params["training"] | {"epochs": epochs, "patience": epochs, "eval_every": 1}
    model = build_model(variant, data, params, model_kind(variant).pack(inputs), seed=0)
    clock = BatchClock(
        -(-len(data.training_windows(model.max_length)[0]) // params["training"]["batch_size"])
    )
    result = fit(model, data, TrainingConfig.from_params(params, seed=0), on_batch=clock)
    return {
        "variant": variant,
        "input": "; ".join(SIDE_INPUTS[name][1] for name in variant_inputs(variant)) or "-",
        "loss": result.loss,
        "epochs": len(result.history),
        "epoch_wall_s": round(float(np.mean([r["train_seconds"] for r in result.history])), 1),
        "epoch_cpu_s": round(float(np.mean(clock.cpu_seconds_per_epoch())), 1),
        "valid_ndcg@10": round(result.history[-1]["valid_ndcg_at_10"], 4),
        "valid_recall@10": round(result.history[-1]["valid_recall_at_10"], 4),
        "peak_rss_gib": round(peak_rss_gib(), 2),
    }


def interleaved_steps(project: Path, variants: list[str], steps: int, threads: int) -> list[dict]:
    """CPU ms per ``sampled_ce`` training step of every variant (and SASRec) in this one process.

    The variants train side by side on the same batches, one step each per batch, in an order rotated every
    batch, so a machine shared with other work slows them alike: the ratio to SASRec is then far steadier than
    between epochs timed in separate processes (whose CPU seconds moved by ±15 % under a load of 12).
    """
    from momorec.models.losses import NegativeSampler, SampledSoftmaxSettings
    from momorec.models.trainer import sequence_loss
    from momorec.models.variants import build_model, model_kind, variant_inputs

    torch.set_num_threads(threads)
    data = _load(project / "data" / "03_primary")
    params = _yaml("parameters_recommender.yml")["recommender"]
    settings = TrainingConfig.from_params(params, seed=0)
    folder = project / "bench_side_inputs"
    models, optimizers = {}, {}
    for variant in dict.fromkeys(["sasrec", *variants]):
        inputs = []
        for name in variant_inputs(variant):
            path = folder / SIDE_INPUTS[name][0]
            inputs.append(np.load(path) if path.suffix == ".npy" else pd.read_parquet(path))
        models[variant] = build_model(variant, data, params, model_kind(variant).pack(inputs), seed=0).train()
        optimizers[variant] = torch.optim.Adam(models[variant].parameters(), lr=settings.learning_rate)
    sampler = NegativeSampler(
        data.n_items, SampledSoftmaxSettings.from_mapping(settings.sampled_ce), data.item_train_frequency()
    )
    _, window_inputs, window_targets = data.training_windows(params["model"]["max_length"])
    order = np.random.default_rng(0).permutation(len(window_inputs))
    batches = len(order) // settings.batch_size
    seconds = {variant: [] for variant in models}
    warm_up = 3
    for step in range(steps + warm_up):
        idx = order[(step % batches) * settings.batch_size : (step % batches + 1) * settings.batch_size]
        width = int((window_inputs[idx] > 0).sum(1).max())
        inputs = torch.as_tensor(window_inputs[idx, -width:])
        targets = torch.as_tensor(window_targets[idx, -width:])
        names = list(models)
        for variant in names[step % len(names) :] + names[: step % len(names)]:
            started = time.process_time()
            loss = sequence_loss(models[variant], inputs, targets, "sampled_ce", sampler)
            optimizers[variant].zero_grad(set_to_none=True)
            loss.backward()
            optimizers[variant].step()
            if step >= warm_up:
                seconds[variant].append(time.process_time() - started)
    sasrec = float(np.mean(seconds["sasrec"]))
    return [
        {
            "variant": variant,
            "cpu_ms_per_step": round(1000 * float(np.mean(spent)), 1),
            "× sasrec": round(float(np.mean(spent)) / sasrec, 3),
            "peak_rss_gib": round(peak_rss_gib(), 2),
        }
        for variant, spent in seconds.items()
    ]


def compare_interleaved(project: Path, args) -> pd.DataFrame:
    """:func:`interleaved_steps` in a child process per code version (the baseline's first, when given)."""
    tables = []
    for src, suffix in ([(args.baseline_src, " (before)")] if args.baseline_src else []) + [(None, "")]:
        env = dict(os.environ) | ({"BENCH_SRC": str(src)} if src else {})
        command = [sys.executable, __file__, "--train-steps", str(args.interleaved_steps)]
        command += ["--workdir", str(project.parent), "--threads", str(args.threads)]
        command += ["--variant-list", *args.variant_list]
        finished = subprocess.run(command, env=env, capture_output=True, text=True)
        lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
        if finished.returncode or not lines:
            raise RuntimeError(
                f"interleaved steps ({src or 'current code'}) failed:\n{finished.stderr[-3000:]}"
            )
        table = pd.DataFrame(json.loads(lines[-1].removeprefix("RESULT "))).set_index("variant")
        print(suffix or "after", table.to_dict("index"), flush=True)
        tables.append(table.drop(columns="peak_rss_gib").add_suffix(suffix) if suffix else table)
    return pd.concat(tables[::-1], axis=1).reset_index()


def _train_in_child(variant: str, project: Path, args, src: Path | None) -> dict:
    """:func:`train_one` in a fresh interpreter (importing ``src`` when given), for its own peak RSS."""
    env = dict(os.environ) | ({"BENCH_SRC": str(src)} if src else {})
    command = [sys.executable, __file__, "--train-one", variant, "--workdir", str(project.parent)]
    command += ["--variant-epochs", str(args.variant_epochs), "--threads", str(args.threads)]
    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
    if finished.returncode or not lines:
        raise RuntimeError(f"{variant} ({src or 'current code'}) failed:\n{finished.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def compare_variants(project: Path, args, on_table=None) -> pd.DataFrame:
    """One row per variant: the current code's epoch time, × SASRec, NDCG@10, RSS (and the baseline's).

    ``on_table(table)`` sees the table after every variant (the section is rewritten as results come in).
    """
    from momorec.models.variants import variant_inputs

    rows = []
    for variant in args.variant_list:
        if variant_inputs(variant):
            build_side_inputs(project)
        row = {}
        if args.baseline_src and (args.baseline_variants is None or variant in args.baseline_variants):
            before = _train_in_child(variant, project, args, args.baseline_src)
            print("before", before, flush=True)
            row |= {
                f"{key} (before)": before[key] for key in ("epoch_wall_s", "epoch_cpu_s", "valid_ndcg@10")
            }
            row["peak_rss_gib (before)"] = before["peak_rss_gib"]
        after = _train_in_child(variant, project, args, None)
        print("after", after, flush=True)
        rows.append(after | row)
        table = pd.DataFrame(rows)
        if "sasrec" in set(table["variant"]):
            sasrec = table.set_index("variant").loc["sasrec"]
            for column in [c for c in table.columns if c.startswith("epoch_cpu_s")]:
                table[column.replace("epoch_cpu_s", "× sasrec")] = (table[column] / sasrec[column]).round(2)
        if on_table is not None:
            on_table(table)
    return table


def variants_note(args) -> str:
    return (
        f"{args.variant_epochs} epoch(s) per variant from seed 0, `conf/base/parameters_recommender.yml` "
        "(loss auto = sampled_ce with 1,024 popularity negatives at this catalogue size); validation NDCG@10 "
        "after the last epoch; `× sasrec` = epoch CPU seconds / SASRec's under the same code; peak RSS of "
        "the process that trained the variant (data, model, evaluation included)."
        + (
            f" `(before)`: the same in a process importing `{args.baseline_src}` (main's code), run right "
            "before the current code's, for "
            + (", ".join(args.baseline_variants) if args.baseline_variants else "every variant")
            + "."
            if args.baseline_src
            else ""
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per loss on games (fixed, no stopping)")
    parser.add_argument(
        "--sampled-epochs",
        type=int,
        default=None,
        help="epochs of sampled_ce when it should train longer than ce (default: --epochs)",
    )
    parser.add_argument(
        "--losses",
        nargs="+",
        default=["sampled_ce", "ce"],
        choices=["sampled_ce", "ce"],
        help="losses compared by --epochs runs (e.g. only sampled_ce for another --negatives)",
    )
    parser.add_argument("--negatives", type=int, default=256)
    parser.add_argument("--tag", default="", help="appended to the results section's name")
    parser.add_argument("--sampling", default="popularity", choices=["popularity", "uniform"])
    parser.add_argument("--xl-items", type=int, default=100_000)
    parser.add_argument("--xl-interactions", type=int, default=2_000_000)
    parser.add_argument("--skip-games", action="store_true")
    parser.add_argument("--skip-xl", action="store_true")
    parser.add_argument(
        "--scientific", action="store_true", help="also compare the losses on Scientific (../shared/data)"
    )
    parser.add_argument("--profile-batches", type=int, default=0)
    parser.add_argument(
        "--sample-batches", type=int, default=0, help="time this many batches per loss instead of epochs"
    )
    parser.add_argument("--rank-chunks", type=int, default=3, help="with --sample-batches: chunks ranked")
    parser.add_argument("--xl-source", choices=["shop", "zipf"], default="shop")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep (and reuse) the generated shops here"
    )
    parser.add_argument("--variants", action="store_true", help="time every default variant on games")
    parser.add_argument("--variant-list", nargs="+", default=DEFAULT_TRAINED + EXTRA_VARIANTS)
    parser.add_argument("--variant-epochs", type=int, default=1)
    parser.add_argument("--baseline-src", type=Path, default=None, help="with --variants: code to compare")
    parser.add_argument(
        "--baseline-variants", nargs="+", default=None, help="with --baseline-src: only these (default: all)"
    )
    parser.add_argument(
        "--interleaved-steps",
        type=int,
        default=0,
        help="with --variants: time this many sampled_ce steps of every variant side by side in one process",
    )
    parser.add_argument("--train-one", default=None, help=argparse.SUPPRESS)  # a --variants child process
    parser.add_argument("--train-steps", type=int, default=0, help=argparse.SUPPRESS)  # --interleaved-steps
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.train_one:
        print(
            "RESULT "
            + json.dumps(
                train_one(args.train_one, args.workdir / "shop_large", args.variant_epochs, args.threads)
            )
        )
        return
    if args.train_steps:
        rows = interleaved_steps(
            args.workdir / "shop_large", args.variant_list, args.train_steps, args.threads
        )
        print("RESULT " + json.dumps(rows))
        return
    if args.variants:
        load_before = os.getloadavg()
        folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench_large_"))
        shop_sequences(folder, "shop_large", None, None)
        command = " ".join(["python benchmarks/bench_large_catalogue.py", *sys.argv[1:]])
        if args.interleaved_steps:
            build_side_inputs(folder / "shop_large")
            table = compare_interleaved(folder / "shop_large", args)
            write_section(
                "large_catalogue-steps" + (f"-{args.tag}" if args.tag else ""),
                "benchmarks/bench_large_catalogue.py",
                table,
                f"Command: `{command}`. Load average (1, 5, 15 min) at the start: "
                f"{', '.join(f'{x:.1f}' for x in load_before)}; at the end: "
                f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores. "
                f"{args.interleaved_steps} `sampled_ce` training steps (batch 512, 1,024 popularity negatives, "
                f"`conf/base/parameters_recommender.yml`, {args.threads} thread(s)) of every variant side by "
                "side in one process, one step each per batch in an order rotated every batch, after 3 warm-up "
                "batches; `× sasrec` = mean CPU ms per step / SASRec's in the same process; peak RSS of that "
                "process (every variant's model at once)."
                + (
                    f" `(before)`: the same in a process importing `{args.baseline_src}` (main's code), run "
                    "right before."
                    if args.baseline_src
                    else ""
                ),
            )
            return

        def write(table: pd.DataFrame) -> None:
            write_section(
                "large_catalogue-variants" + (f"-{args.tag}" if args.tag else ""),
                "benchmarks/bench_large_catalogue.py",
                table,
                f"Command: `{command}`. Load average (1, 5, 15 min) at the start: "
                f"{', '.join(f'{x:.1f}' for x in load_before)}; after the last row: "
                f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores (above the "
                "cores: other work shared them; CPU seconds are the fairer comparison). "
                + variants_note(args),
            )

        compare_variants(folder / "shop_large", args, on_table=write)
        return
    load_before = os.getloadavg()
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="bench_large_") as scratch:
        folder = args.workdir or Path(scratch)
        if not args.skip_games:
            games = shop_sequences(folder, "shop_large", None, None)
            if args.profile_batches:
                notes.append(profile(games, args))
            if args.sample_batches:
                rows += sampled_batches("games", games, ["sampled_ce", "ce"], args)
            else:
                rows += compare_losses(games, args)
            del games
        if args.scientific:
            from bench_recommender import scientific

            data = scientific()
            if data is None:
                raise SystemExit("--scientific: Scientific.inter.json not found under ../shared/data")
            rows += compare_losses(data, args, name="scientific")
        if not args.skip_xl:
            if args.xl_source == "zipf":
                xl = zipf_sequences(args.xl_items, args.xl_interactions)
            else:
                shop = {
                    "n_items": args.xl_items,
                    "n_users": int(args.xl_interactions / 8.0),
                    "interactions_per_user": 8.0,
                }
                params = {"data_engineering": {"k_core": 0, "max_pairs": 5000}}
                xl = shop_sequences(folder, "bench_xl", shop, params)
            if args.sample_batches:
                rows += sampled_batches(f"xl ({args.xl_source})", xl, ["sampled_ce"], args)
            else:
                rows.append(xl_run(xl, args))
    table = pd.DataFrame(rows)
    command = " ".join(["python benchmarks/bench_large_catalogue.py", *sys.argv[1:]])
    notes.insert(
        0,
        f"Command: `{command}`. Load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores (a load above the "
        "cores means other work shared them: wall seconds are then upper bounds); `epoch_cpu_s` is this "
        f"process's CPU time per epoch with {args.threads} thread(s). Each loss trains its number of epochs "
        "from the same initial weights with validation after every epoch; test metrics use the best "
        "validation epoch's weights; history masked, full ranking of every item; one seed.",
    )
    workloads = [
        name
        for name, skipped in (
            ("games", args.skip_games),
            ("scientific", not args.scientific),
            ("xl", args.skip_xl),
        )
        if not skipped
    ]
    write_section(
        "-".join(["large_catalogue", *workloads, *([args.tag] if args.tag else [])]),
        "benchmarks/bench_large_catalogue.py",
        table,
        "\n\n".join(notes),
    )


if __name__ == "__main__":
    main()
