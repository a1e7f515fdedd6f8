"""The LLM call cache as a catalog dataset: loading it opens the SQLite store the LLM client writes to.

The cache is not a table a node returns: the client adds one row per completed call while a node runs, so a
run killed halfway keeps its answers. Declaring it in the catalog puts its location in configuration and
shows it in the lineage as an input of every node that calls an LLM. The file carries its schema version;
a file written before answers were keyed by endpoint is migrated when it is loaded (``momorec.llm.cache``)::

    llm_cache:
      type: momorec.io.llm_cache.LLMCacheDataset
      filepath: data/02_intermediate/llm_cache.sqlite
"""

from __future__ import annotations

from momorec.io.sqlite_store import SqliteStoreDataset
from momorec.llm.cache import LLMCache


class LLMCacheDataset(SqliteStoreDataset):
    """Loads an ``LLMCache`` on a local SQLite file (created, with its tables, when absent)."""

    store_class = LLMCache
    grown_by = "the LLM client, call by call"
