from __future__ import annotations

import numpy as np
import pytest


def clustered_unit_vectors(
    n_clusters: int, per_cluster: int, dim: int = 32, noise: float = 0.12, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors scattered around random centres; returns (vectors, true centre index)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim))
    labels = np.repeat(np.arange(n_clusters), per_cluster)
    vectors = (
        centres[labels] / np.sqrt(dim) + noise * rng.standard_normal((len(labels), dim)) / np.sqrt(dim) * 3
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), labels


@pytest.fixture
def clustered() -> tuple[np.ndarray, np.ndarray]:
    return clustered_unit_vectors(n_clusters=40, per_cluster=15)
