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

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from momorec.llm.cache import LLMCache


class LLMCacheDataset(AbstractDataset[None, LLMCache]):
    """Loads an ``LLMCache`` on a local SQLite file (created, with its tables, when absent).

    Args:
        filepath: Path of the SQLite file.
        metadata: Free-form metadata, ignored by Kedro.
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> LLMCache:
        return LLMCache(self._filepath)

    def save(self, data: None) -> None:
        raise DatasetError(
            f"{self._filepath} is written call by call by the LLM client; it cannot be saved as a whole."
        )

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
