"""The text-embedding cache as a catalog dataset: loading it opens the SQLite store the embedding node reads
and grows (``momorec.embeddings.cache``).

Like the LLM call cache, it is not a table a node returns: the node adds the vectors it had to compute, so a
re-run or a grown catalogue encodes only new texts. Declaring it puts its location in configuration and
shows it in the lineage::

    text_embedding_cache:
      type: momorec.io.embedding_cache.EmbeddingCacheDataset
      filepath: data/02_intermediate/text_embedding_cache.sqlite
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from momorec.embeddings.cache import EmbeddingCache


class EmbeddingCacheDataset(AbstractDataset[None, EmbeddingCache]):
    """Loads an ``EmbeddingCache`` on a local SQLite file (created, with its table, when absent).

    Args:
        filepath: Path of the SQLite file.
        metadata: Free-form metadata, ignored by Kedro.
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> EmbeddingCache:
        return EmbeddingCache(self._filepath)

    def save(self, data: None) -> None:
        raise DatasetError(
            f"{self._filepath} is grown by the embedding node as it encodes; it cannot be saved as a whole."
        )

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
