"""Item text embedding through the cache: items/s cold, warm and after 1 % new items, vs the bare encoder.

    nice -n 10 .venv/bin/python benchmarks/bench_text_embedding_cache.py [--items data/03_primary/items.parquet]
        [--n-items 4000] [--threads 2]

The item texts are the run's (``spreading.encoder`` settings of ``conf/base``: fields, separator, model,
batch size). Four passes, in one process, each timed on its own:

- ``encoder`` — the baseline: ``EncoderBundle.encode`` over every text, one process, no cache;
- ``cold`` — ``embed_item_texts`` with an empty cache file (encodes everything, then stores it);
- ``warm`` — the same again (reads everything);
- ``grown 1 %`` — a catalogue with 1 % more items (new texts), on the warm cache.

Every pass's vectors are checked against the baseline's (the cache must not change them).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import write_section  # noqa: E402

from momorec.embeddings.cache import EmbeddingCache  # noqa: E402
from momorec.embeddings.encoder import EncoderBundle, item_texts_by_idx  # noqa: E402
from momorec.pipelines.spreading.nodes import embed_item_texts  # noqa: E402


def grown_items(items: pd.DataFrame, fraction: float) -> pd.DataFrame:
    """``items`` plus ``fraction`` more items whose titles are new (a catalogue that grew)."""
    extra = items.sample(max(1, round(fraction * len(items))), random_state=0).copy()
    extra["item_idx"] = np.arange(len(items), len(items) + len(extra))
    extra["title"] = extra["title"].astype(str) + " (new edition)"
    return pd.concat([items, extra], ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=Path, default=ROOT / "data" / "03_primary" / "items.parquet")
    parser.add_argument("--n-items", type=int, default=None, help="the first n items only (default: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    params = yaml.safe_load((ROOT / "conf" / "base" / "parameters_spreading.yml").read_text())
    encoder_params = params["spreading"]["encoder"] | {"show_progress_bar": False}
    items = pd.read_parquet(args.items).sort_values("item_idx").reset_index(drop=True)
    if args.n_items:
        items = items.head(args.n_items)
    grown = grown_items(items, 0.01)
    encoder = EncoderBundle(base_model=encoder_params["model"], tuned=False)
    encoder.get_model()  # loading the model is not part of any pass
    load_before = os.getloadavg()
    texts = item_texts_by_idx(items, encoder_params["text_fields"], encoder_params["text_separator"])
    rows = []

    def timed(name: str, run, n: int, reference: np.ndarray) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        vectors = run()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        # Within float noise: a text repeated in the catalogue is read back as its first occurrence's vector,
        # which the encoder may have computed in another batch.
        assert np.allclose(vectors[: len(reference)], reference, atol=1e-6), f"{name}: vectors differ"
        rows.append(
            {
                "pass": name,
                "items": n,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "items_per_s (wall)": round(n / wall, 1),
                "items_per_cpu_s": round(n / max(cpu, 1e-9), 1),
            }
        )
        print(rows[-1], flush=True)

    ordered = texts.sort_index().tolist()
    baseline = encoder.encode(ordered, int(encoder_params["batch_size"]))
    timed(
        "encoder (no cache)",
        lambda: encoder.encode(ordered, int(encoder_params["batch_size"])),
        len(items),
        baseline,
    )
    with tempfile.TemporaryDirectory() as scratch:
        cache = EmbeddingCache(Path(scratch) / "cache.sqlite")
        timed("cold", lambda: embed_item_texts(items, encoder, encoder_params, cache), len(items), baseline)
        timed("warm", lambda: embed_item_texts(items, encoder, encoder_params, cache), len(items), baseline)
        timed(
            "grown 1 % (warm)",
            lambda: embed_item_texts(grown, encoder, encoder_params, cache),
            len(grown),
            baseline,
        )
        size_mib = (Path(scratch) / "cache.sqlite").stat().st_size / 2**20
    for row in rows:  # per CPU second: on a shared machine wall time measures the other work too
        row["× encoder (cpu)"] = round(row["items_per_cpu_s"] / rows[0]["items_per_cpu_s"], 1)
    command = " ".join(["python benchmarks/bench_text_embedding_cache.py", *sys.argv[1:]])
    write_section(
        "text_embedding_cache" + (f"-{args.tag}" if args.tag else ""),
        "benchmarks/bench_text_embedding_cache.py",
        pd.DataFrame(rows),
        f"Command: `{command}` ({args.items.name}, encoder `{encoder.cache_identity()}`, batch size "
        f"{encoder_params['batch_size']}, {args.threads} torch threads). Load average (1, 5, 15 min) before: "
        f"{', '.join(f'{x:.1f}' for x in load_before)}; after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        f" on {os.cpu_count()} cores (above the cores: other work shared them, wall times are upper bounds; `items_per_cpu_s` counts this "
        f"process's CPU time, all its threads). "
        f"The encoder pass ran once untimed first (warm-up). Every pass returned the encoder's vectors (within 1e-6). "
        f"Cache file after the passes: {size_mib:.1f} MiB.",
    )


if __name__ == "__main__":
    main()
