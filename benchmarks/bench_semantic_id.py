"""Benchmark: residual k-means semantic IDs, 100k × 384, 6 layers × 64 codes; faiss vs scikit-learn KMeans.

Both run the same way: the same layers on the same residuals, the same iterations, one initialisation, the
same training subsample size (faiss keeps at most K × 256 rows per layer; scikit-learn gets a subsample of that
size), then every row is assigned to its nearest centroid.

Run: .venv/bin/python benchmarks/bench_semantic_id.py [--n 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _results import write_section  # noqa: E402

from momorec.clustering.residual_kmeans import (  # noqa: E402
    collision_rate,
    dedup_digits,
    fit_residual_kmeans,
    nearest_codes,
)

DIM, LAYERS, CODES, NITER, SEED, MAX_POINTS = 384, 6, 64, 20, 42, 256


def synthetic_embeddings(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((300, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, 300, size=n)] + 0.7 * rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def sklearn_residual_kmeans(vectors: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(SEED)
    residual = vectors.copy()
    codes = np.zeros((len(vectors), LAYERS), dtype=np.int64)
    for layer in range(LAYERS):
        sample = residual[
            rng.choice(len(residual), size=min(len(residual), CODES * MAX_POINTS), replace=False)
        ]
        model = KMeans(n_clusters=CODES, n_init=1, max_iter=NITER, random_state=SEED + layer, init="random")
        model.fit(sample)
        centroids = model.cluster_centers_.astype(np.float32)
        codes[:, layer] = nearest_codes(residual, centroids)
        residual -= centroids[codes[:, layer]]
    error = float((residual.astype(np.float64) ** 2).sum() / (vectors.astype(np.float64) ** 2).sum())
    return codes, error


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    load_at_start = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    vectors = synthetic_embeddings(args.n)
    rows = []

    faiss_seconds = {}
    for threads in (None, 1):
        start = time.perf_counter()
        result = fit_residual_kmeans(
            vectors,
            LAYERS,
            CODES,
            niter=NITER,
            seed=SEED,
            max_points_per_centroid=MAX_POINTS,
            n_threads=threads,
        )
        digits = dedup_digits(result.codes)
        faiss_seconds[threads] = time.perf_counter() - start
        rows.append(
            {
                "method": f"faiss.Kmeans residual (momorec), {'default' if threads is None else threads} thread(s)",
                "seconds": faiss_seconds[threads],
                "final_relative_reconstruction_error": result.quality["relative_reconstruction_error"].iloc[
                    -1
                ],
                "collision_rate_before_dedup": collision_rate(result.codes),
                "collision_rate_after_dedup": collision_rate(np.column_stack([result.codes, digits])),
                "mean_perplexity": result.quality["perplexity"].mean(),
            }
        )
        print(rows[-1], flush=True)

    start = time.perf_counter()
    codes, error = sklearn_residual_kmeans(vectors)
    sklearn_seconds = time.perf_counter() - start
    rows.append(
        {
            "method": "sklearn KMeans residual (same layers, subsample, iterations)",
            "seconds": sklearn_seconds,
            "final_relative_reconstruction_error": error,
            "collision_rate_before_dedup": collision_rate(codes),
            "collision_rate_after_dedup": None,
            "mean_perplexity": None,
        }
    )
    print(rows[-1], flush=True)
    table = pd.DataFrame(rows).round(4)
    per_layer = result.quality.round(4)
    notes = (
        f"{args.n:,} × {DIM} synthetic unit vectors (300 Gaussian centres), L = {LAYERS}, K = {CODES}, "
        f"{NITER} iterations, seed {SEED}, faiss training subsample K × {MAX_POINTS} rows per layer; "
        f"{os.cpu_count()} cores visible. Target: under 30 s on 2 cores. "
        f"Speed ratio sklearn / faiss (default threads): {sklearn_seconds / faiss_seconds[None]:.2f}×; "
        f"sklearn / faiss (1 thread): {sklearn_seconds / faiss_seconds[1]:.2f}×. Load average at start: "
        f"{load_at_start}.\n\n"
        f"Per-layer quality of the faiss run:\n\n{per_layer.to_markdown(index=False)}\n"
    )
    write_section("semantic_id", "benchmarks/bench_semantic_id.py", table, notes)


if __name__ == "__main__":
    main()
