"""A tiny deterministic stand-in for a SentenceTransformer: hashed bag of words, unit rows."""

from __future__ import annotations

import zlib

import numpy as np
import pytest


class HashingEncoder:
    """Texts sharing words get similar vectors; no model download, instant."""

    def __init__(self, dim: int = 32) -> None:
        self.dim = dim
        self.calls: list[list[str]] = []

    def get_embedding_dimension(self) -> int:
        return self.dim

    def encode(
        self, texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=True
    ):
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


@pytest.fixture
def hashing_encoder() -> HashingEncoder:
    return HashingEncoder()
