"""A store of text embeddings keyed by encoder and exact text, so a run embeds only texts it has not seen.

Re-running the flow, a second environment on the same catalogue, or a catalogue grown by a few items then
encodes only the new or changed texts. A key is the encoder's identity (:meth:`EncoderBundle.cache_identity`:
its name and a revision that changes with its weights) and the SHA-256 of the text; the value is the
float32 vector. Empty texts are never stored: they get zero rows (``encode_texts``).

The file is SQLite (one row per vector, ``INSERT OR IGNORE``), like the LLM call cache. A file that is not
such a store, or holds a vector of the wrong size or with NaN/inf, is an error naming the file: the cache is
never silently rebuilt or skipped, since a wrong vector would flow into every later stage.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    encoder TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (encoder, text_sha256)
) WITHOUT ROWID;
"""
_LOOKUP_BATCH = 900  # under SQLite's default limit of bound parameters per statement


class EmbeddingCacheError(RuntimeError):
    """The cache file cannot be read as an embedding store (corrupt, foreign, or holding bad vectors)."""


def text_key(text: str) -> str:
    """SHA-256 of the exact text (UTF-8): the same text always maps to the same key."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheUse:
    """What one :func:`encode_with_cache` call did: texts found, texts encoded, empty texts (zero rows)."""

    hits: int
    encoded: int
    empty: int


class EmbeddingCache:
    """Vectors by (encoder identity, text SHA-256) in a SQLite file (created with its table when absent)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            # One connection behind a lock: a Kedro runner may load the dataset in another thread.
            self._connection = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            version = int(self._connection.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise EmbeddingCacheError(
                    f"{self.path}: embedding-cache schema version {version} is newer than this code's "
                    f"{SCHEMA_VERSION}; update momorec or point the catalog at another file"
                )
            self._connection.executescript(_SCHEMA)
            columns = {row[1] for row in self._connection.execute("PRAGMA table_info(embeddings)")}
            if columns != {"encoder", "text_sha256", "dim", "vector"}:
                raise EmbeddingCacheError(f"{self.path}: table 'embeddings' has columns {sorted(columns)}")
            self._connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as error:
            raise EmbeddingCacheError(
                f"{self.path} is not a readable embedding cache ({error}); delete it to start a new one"
            ) from error

    def __repr__(self) -> str:
        return f"EmbeddingCache(path={str(self.path)!r})"

    def lookup(self, encoder: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors among ``keys`` for ``encoder`` (absent keys are simply missing)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        try:
            for start in range(0, len(unique), _LOOKUP_BATCH):
                batch = unique[start : start + _LOOKUP_BATCH]
                with self._lock:
                    rows = self._connection.execute(
                        "SELECT text_sha256, dim, vector FROM embeddings WHERE encoder = ? AND text_sha256 IN "
                        f"({', '.join('?' * len(batch))})",
                        (encoder, *batch),
                    ).fetchall()
                for key, dim, blob in rows:
                    found[key] = self._vector(key, dim, blob)
        except sqlite3.DatabaseError as error:
            raise EmbeddingCacheError(f"{self.path}: reading the embedding cache failed ({error})") from error
        return found

    def _vector(self, key: str, dim: int, blob: bytes) -> np.ndarray:
        intact = dim >= 1 and isinstance(blob, bytes) and len(blob) == 4 * dim
        vector = np.frombuffer(blob, dtype=np.float32) if intact else None
        if vector is None or not np.isfinite(vector).all():
            raise EmbeddingCacheError(
                f"{self.path}: the vector of text {key[:12]}… is corrupt ({len(blob)} bytes for {dim} float32 dims, "
                "or NaN/inf); delete the file to start a new cache"
            )
        return vector

    def store(self, encoder: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Add ``vectors`` (one row per key); keys already stored keep their first vector."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(keys):
            raise ValueError(f"store: {len(keys)} keys but vectors of shape {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise ValueError("store: vectors with NaN or inf are not cached")
        rows = [
            (encoder, key, vectors.shape[1], row.tobytes()) for key, row in zip(keys, vectors, strict=True)
        ]
        with self._lock, self._connection:  # one transaction: a killed run leaves either all of them or none
            self._connection.execute("BEGIN")
            self._connection.executemany("INSERT OR IGNORE INTO embeddings VALUES (?, ?, ?, ?)", rows)

    def count(self, encoder: str | None = None) -> int:
        """Vectors stored (for ``encoder`` only when given)."""
        query, parameters = "SELECT COUNT(*) FROM embeddings", ()
        if encoder is not None:
            query, parameters = query + " WHERE encoder = ?", (encoder,)
        with self._lock:
            return int(self._connection.execute(query, parameters).fetchone()[0])

    def close(self) -> None:
        self._connection.close()


def encode_with_cache(
    texts: Sequence[str],
    encode: Callable[[list[str]], np.ndarray],
    cache: EmbeddingCache | None,
    encoder_identity: str | None,
) -> tuple[np.ndarray, CacheUse]:
    """``encode(texts)``, reading the vectors of texts already in ``cache`` and storing the new ones.

    ``encode`` maps a list of texts to an (n, d) array with zero rows for empty texts (``encode_texts``).
    The texts not in the cache go to ``encode`` in one call and in their order (so a cold cache gives
    exactly the vectors of ``encode(texts)``). Without a cache or an identity (an encoder whose weights
    cannot be told apart), everything is encoded.
    """
    texts = ["" if text is None else str(text) for text in texts]
    empty = np.array([not text.strip() for text in texts], dtype=bool)
    if cache is None or encoder_identity is None:
        return encode(texts), CacheUse(hits=0, encoded=int((~empty).sum()), empty=int(empty.sum()))
    keys = [text_key(text) for text in texts]
    found = cache.lookup(encoder_identity, [key for key, blank in zip(keys, empty, strict=True) if not blank])
    missing = np.array(
        [not blank and key not in found for key, blank in zip(keys, empty, strict=True)], dtype=bool
    )
    if missing.any() or not found:
        encoded = encode([text for text, miss in zip(texts, missing, strict=True) if miss])
        dim = encoded.shape[1]
    else:
        encoded, dim = None, len(next(iter(found.values())))
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    hit = ~empty & ~missing
    if hit.any():
        cached = np.stack([found[key] for key, use in zip(keys, hit, strict=True) if use])
        if cached.shape[1] != dim:
            raise EmbeddingCacheError(
                f"{cache.path}: cached vectors of {cached.shape[1]} dims for an encoder giving {dim}"
            )
        vectors[hit] = cached
    if missing.any():
        vectors[missing] = encoded
        cache.store(encoder_identity, [key for key, miss in zip(keys, missing, strict=True) if miss], encoded)
    use = CacheUse(hits=int(hit.sum()), encoded=int(missing.sum()), empty=int(empty.sum()))
    logger.info(
        "text embeddings (%s): %d from the cache, %d encoded, %d empty",
        encoder_identity,
        *use.__dict__.values(),
    )
    return vectors, use
