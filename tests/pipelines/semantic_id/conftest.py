"""Persisted-looking spreading outputs for 40 items in 5 motivation clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

N_ITEMS, N_CLUSTERS, DIM = 40, 5, 16


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def items() -> pd.DataFrame:
    return pd.DataFrame(
        {"item_idx": np.arange(N_ITEMS, dtype=np.int32), "item_id": [f"B{i:04d}" for i in range(N_ITEMS)]}
    )


@pytest.fixture
def motivation_clusters() -> pd.DataFrame:
    # Two motivations per cluster, the first one representative.
    return pd.DataFrame(
        {
            "motivation": [f"motivation {c}{suffix}" for c in range(N_CLUSTERS) for suffix in ("", " again")],
            "cluster_id": np.repeat(np.arange(N_CLUSTERS), 2),
            "is_representative": np.tile([True, False], N_CLUSTERS),
            "support": 3,
        }
    )


@pytest.fixture
def motivation_embeddings() -> np.ndarray:
    return _unit(np.random.default_rng(1).standard_normal((2 * N_CLUSTERS, DIM)))


@pytest.fixture
def item_text_embeddings() -> np.ndarray:
    return _unit(np.random.default_rng(2).standard_normal((N_ITEMS, DIM)))


@pytest.fixture
def assignment() -> pd.DataFrame:
    cluster = np.arange(N_ITEMS) % N_CLUSTERS
    source = np.where(np.arange(N_ITEMS) < 15, "generated", "spread")
    cluster[-2:] = -1
    source[-2:] = "none"
    return pd.DataFrame(
        {
            "item_idx": np.arange(N_ITEMS, dtype=np.int32),
            "cluster_id": cluster,
            "motivation": [None if c < 0 else f"motivation {c}" for c in cluster],
            "source": source,
            "confidence": np.where(source == "generated", 1.0, 0.67),
        }
    )


@pytest.fixture
def sid_params() -> dict:
    return {
        "n_layers": 3,
        "n_codes": 4,
        "niter": 10,
        "seed": 42,
        "max_points_per_centroid": 256,
        "show_progress": False,
    }


@pytest.fixture
def item_true_motivations() -> pd.DataFrame:
    """The shop's ground truth for the first 30 items (three motivations); the last 10 items have none."""
    texts = ["drill holes in walls", "paint a room", "water the garden plants"]
    motivation = np.arange(30) % 3
    return pd.DataFrame(
        {
            "item_id": [f"B{i:04d}" for i in range(30)],
            "motivation_id": motivation,
            "motivation": [texts[m] for m in motivation],
        }
    )
