"""A catalog dataset for a SQLite store that nodes grow as they work (the LLM call cache, the text-embedding
cache): loading it opens the store; it is never saved as a whole.

Declaring such a store puts its location in configuration and shows it in the lineage as an input of every
node that reads and grows it. Each store names its own class and what grows it in a small subclass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from kedro.io import AbstractDataset, DatasetError


class SqliteStoreDataset(AbstractDataset[None, Any]):
    """Loads ``store_class(filepath)`` on a local SQLite file (the store creates it, with its tables, when absent).

    Args:
        filepath: Path of the SQLite file.
        metadata: Free-form metadata, ignored by Kedro.
    """

    store_class: ClassVar[type]
    grown_by: ClassVar[str]  # for the error of a save: "the LLM client, call by call"

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> Any:
        return self.store_class(self._filepath)

    def save(self, data: None) -> None:
        raise DatasetError(f"{self._filepath} is grown by {self.grown_by}; it cannot be saved as a whole.")

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
