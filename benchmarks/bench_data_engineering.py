"""Time and peak memory of the data_engineering pipeline at 100k and 1M interactions.

    .venv/bin/python benchmarks/bench_data_engineering.py [--sizes 100000 1000000] [--source shop|synthetic]

For each size, a child process (so each size starts with a fresh memory peak) writes an Amazon Reviews 2023
log (reviews + meta, gzipped JSON lines) into a temporary folder, then reads it back with
``read_amazon2023`` and runs every node of the pipeline in order (k=5). Writing the files is not timed.
Time is wall-clock per stage; memory is the process's resident set size (RSS) sampled every 5 ms by a
thread with psutil (peak during the stage) plus the process's lifetime peak (``ru_maxrss``).

The log comes from the built-in shop generator (``momorec.data.shop``) when it is importable, sized by
``n_users`` (``--source shop``, the default); ``--source synthetic`` writes a simpler Zipf-popularity log
made here, for when the shop is unavailable. The source used is printed and written with the results.
Target (issue 2): 1M interactions in under 60 s and under 4 GB peak on 2 cores.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_section  # noqa: E402

from momorec.data.readers import read_amazon2023  # noqa: E402
from momorec.pipelines.data_engineering import nodes  # noqa: E402

PARAMETERS = {
    "drop_items_without_title": False,
    "k_core": 5,
    "long_tail_max_interactions": 5,
    "pair_window": 2,
    "min_support": 2,
    "max_pairs": 5000,
}


class PeakRss:
    """Peak resident memory of this process while the ``with`` block runs (sampled every 5 ms)."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.005)

    def __enter__(self) -> PeakRss:
        self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def write_synthetic_log(folder: Path, n_interactions: int, seed: int = 0) -> tuple[Path, Path]:
    """A simple Amazon-2023-format log: Zipf item popularity, ~10 purchases per user, ms timestamps."""
    rng = np.random.default_rng(seed)
    n_users, n_items = max(n_interactions // 10, 1), max(n_interactions // 20, 10)
    users = rng.integers(0, n_users, n_interactions)
    weights = 1.0 / np.arange(1, n_items + 1) ** 0.9
    items = rng.choice(n_items, size=n_interactions, p=weights / weights.sum())
    timestamps = 1_500_000_000_000 + rng.integers(0, 3 * 365 * 86_400_000, n_interactions)
    ratings = rng.integers(1, 6, n_interactions)
    reviews = pd.DataFrame(
        {
            "rating": ratings.astype(float),
            "title": "Good",
            "text": "Works as described, would buy again.",
            "images": [[]] * n_interactions,
            "asin": pd.Series(items).map("B{:09d}".format),
            "parent_asin": pd.Series(items).map("B{:09d}".format),
            "user_id": pd.Series(users).map("U{:012d}".format),
            "timestamp": timestamps,
            "helpful_vote": 0,
            "verified_purchase": True,
        }
    )
    meta = pd.DataFrame(
        {
            "main_category": "Home",
            "title": pd.Series(np.arange(n_items)).map("Item number {}".format),
            "description": [["A useful thing."]] * n_items,
            "price": rng.uniform(1, 100, n_items).round(2),
            "store": "Acme",
            "categories": [["Home", "Kitchen"]] * n_items,
            "parent_asin": pd.Series(np.arange(n_items)).map("B{:09d}".format),
        }
    )
    reviews_path, meta_path = folder / "Synthetic.jsonl.gz", folder / "meta_Synthetic.jsonl.gz"
    for frame, path in ((reviews, reviews_path), (meta, meta_path)):
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as handle:
            frame.to_json(handle, orient="records", lines=True)
    return reviews_path, meta_path


def write_shop_log(folder: Path, n_interactions: int) -> tuple[Path, Path]:
    """The built-in shop sized to about ``n_interactions`` review lines."""
    from momorec.data import shop

    base = shop.ShopSettings()
    n_users = int(round(n_interactions / base.interactions_per_user))
    n_items = max(int(round(base.n_items * n_users / base.n_users)), 2)
    settings = shop.ShopSettings(n_users=n_users, n_items=n_items)
    shop.ensure_shop(folder, settings)
    return folder / shop.REVIEWS_FILENAME, folder / shop.META_FILENAME


def run_size(n_interactions: int, source: str, queue: mp.Queue) -> None:
    """Child process: build the log, then time every stage; puts one result dict on ``queue``."""
    with tempfile.TemporaryDirectory(prefix="bench_de_") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        writer = write_shop_log if source == "shop" else write_synthetic_log
        reviews_path, meta_path = writer(folder, n_interactions)
        generate_s = time.perf_counter() - start
        sizes_mb = (reviews_path.stat().st_size + meta_path.stat().st_size) / 1e6

        stages: list[dict] = []
        results: dict = {}

        def stage(name: str, func, *args):
            with PeakRss() as rss:
                t0 = time.perf_counter()
                out = func(*args)
                seconds = time.perf_counter() - t0
            stages.append({"stage": name, "seconds": seconds, "peak_rss_mb": rss.peak / 2**20})
            results[name] = out
            return out

        raw = stage("read_amazon2023", read_amazon2023, reviews_path, meta_path)
        vi, vitems, _ = stage("validate_raw_log", nodes.validate_raw_log, raw, PARAMETERS)
        del raw
        kcore = stage("filter_k_core", nodes.filter_k_core, vi, PARAMETERS["k_core"])
        seq, users, items = stage("build_sequences", nodes.build_sequences, kcore, vitems)
        inter = stage("split_leave_one_out", nodes.split_leave_one_out, seq)
        train = stage("select_train_interactions", nodes.select_train_interactions, inter)
        stats = stage(
            "compute_item_stats",
            nodes.compute_item_stats,
            train,
            items,
            PARAMETERS["long_tail_max_interactions"],
        )
        pairs = stage(
            "build_copurchase_pairs",
            nodes.build_copurchase_pairs,
            train,
            PARAMETERS["pair_window"],
            PARAMETERS["min_support"],
            PARAMETERS["max_pairs"],
        )
        statistics = stage(
            "compute_dataset_statistics",
            nodes.compute_dataset_statistics,
            vi,
            inter,
            items,
            stats,
            pairs,
            PARAMETERS,
        )
        queue.put(
            {
                "n_target": n_interactions,
                "raw_interactions": len(vi),
                "statistics": statistics,
                "stages": stages,
                "generate_s": generate_s,
                "files_mb": sizes_mb,
                "lifetime_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--source", choices=["shop", "synthetic"], default="shop")
    args = parser.parse_args()
    source = args.source
    if source == "shop":
        try:
            from momorec.data import shop  # noqa: F401
        except ImportError as error:
            print(f"built-in shop not importable ({error}); using the synthetic log")
            source = "synthetic"

    summary, details = [], []
    load_before = os.getloadavg()[0]
    context = mp.get_context("spawn")
    for size in args.sizes:
        queue = context.Queue()
        child = context.Process(target=run_size, args=(size, source, queue))
        child.start()
        result = queue.get()
        child.join()
        stages = pd.DataFrame(result["stages"])
        total = stages["seconds"].sum()
        statistics = result["statistics"]
        summary.append(
            {
                "target size": f"{size:,}",
                "raw interactions": f"{result['raw_interactions']:,}",
                "after 5-core (users / items / interactions)": f"{statistics['users']:,} / {statistics['items']:,} / "
                f"{statistics['interactions']:,}",
                "input files (MB, gz)": round(result["files_mb"], 1),
                "pipeline s": round(total, 1),
                "of which reading s": round(stages.loc[0, "seconds"], 1),
                "peak RSS MB (stages)": round(stages["peak_rss_mb"].max()),
                "peak RSS MB (process, incl. generation)": round(result["lifetime_peak_rss_mb"]),
                "generation s (not timed)": round(result["generate_s"], 1),
            }
        )
        stages.insert(0, "size", f"{size:,}")
        details.append(stages.round({"seconds": 2, "peak_rss_mb": 0}))
        print(stages.to_string(index=False))

    table = pd.DataFrame(summary)
    load_after = os.getloadavg()[0]
    notes = (
        f"1-minute load average {load_before:.1f} before and {load_after:.1f} after the run on "
        f"{os.cpu_count()} cores (other work shares the machine, so times are upper bounds).\n\n"
        f"Source: {'built-in shop generator (momorec.data.shop)' if source == 'shop' else 'synthetic Zipf log'}, "
        "written as gzipped Amazon Reviews 2023 JSON lines, read back with `read_amazon2023`, then every node "
        "called in order with k_core=5, pair_window=2, min_support=2, max_pairs=5000 (no Kedro runner, no "
        "Parquet writes). Peak RSS is sampled every 5 ms with psutil during each stage; the process column is "
        "`ru_maxrss` over the whole child process, including generating the files. Target: 1M under 60 s and "
        "4 GB.\n\nPer stage:\n\n" + pd.concat(details).to_markdown(index=False)
    )
    write_section("data_engineering", "benchmarks/bench_data_engineering.py", table, notes)
    json.dumps(summary)


if __name__ == "__main__":
    main()
