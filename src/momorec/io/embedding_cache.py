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

from momorec.embeddings.cache import EmbeddingCache
from momorec.io.sqlite_store import SqliteStoreDataset


class EmbeddingCacheDataset(SqliteStoreDataset):
    """Loads an ``EmbeddingCache`` on a local SQLite file (created, with its tables, when absent)."""

    store_class = EmbeddingCache
    grown_by = "the embedding node as it encodes"
