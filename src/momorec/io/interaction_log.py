"""Read-only Kedro datasets for real interaction logs.

``InteractionLogDataset`` loads a :class:`~momorec.data.raw_log.RawLog` from one of the formats of
``momorec.data.readers``; ``NoGroundTruthDataset`` stands in for ``item_true_motivations`` on real data.

Catalog examples (``conf/scientific/catalog_data_engineering.yml``)::

    raw_log:
      type: momorec.io.interaction_log.InteractionLogDataset
      format: lcrec
      interactions_path: data/01_raw/scientific/Scientific.inter.json
      items_path: data/01_raw/scientific/Scientific.item.json

    item_true_motivations:
      type: momorec.io.interaction_log.NoGroundTruthDataset
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from momorec.data.raw_log import RawLog
from momorec.data.readers import READERS

#: Schema of ``item_true_motivations`` (docs/architecture.md).
TRUE_MOTIVATION_COLUMNS: dict[str, str] = {
    "item_id": "string",
    "motivation_id": "int64",
    "motivation": "string",
}


class InteractionLogDataset(AbstractDataset[None, RawLog]):
    """An interaction log plus item catalogue in one of the supported formats, loaded as a ``RawLog``.

    Args:
        format: ``amazon2023`` (reviews + meta JSON lines, plain or ``.gz``), ``lcrec`` (``.inter.json`` +
            ``.item.json``), ``movielens`` (a folder with ``u.data``, ``u.item``, ``u.genre``) or ``tabular``
            (CSV / Parquet with the common column names).
        interactions_path: the reviews / ``.inter.json`` / interactions table (not used for ``movielens``).
        items_path: the meta / ``.item.json`` / items table (optional for ``tabular`` only).
        data_dir: the MovieLens folder (``movielens`` only).
        load_args: passed to the reader, e.g. ``chunk_size`` (amazon2023), ``column_map`` and
            ``date_format`` (tabular), ``timestamp_unit`` (amazon2023, movielens, tabular: ``s``, ``ms``,
            ``us``, ``ns``; detected when absent), ``max_bad_fraction`` (all).
        metadata: free-form metadata, ignored by Kedro (kedro-viz shows it).

    Saving is refused: raw data is never written by the pipeline.
    """

    def __init__(
        self,
        format: str,
        interactions_path: str | None = None,
        items_path: str | None = None,
        data_dir: str | None = None,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if format not in READERS:
            raise DatasetError(
                f"InteractionLogDataset: unknown format '{format}'; expected one of {sorted(READERS)}"
            )
        needed = {"movielens": ("data_dir",), "tabular": ("interactions_path",)}.get(
            format, ("interactions_path", "items_path")
        )
        given = {"interactions_path": interactions_path, "items_path": items_path, "data_dir": data_dir}
        absent = [name for name in needed if not given[name]]
        if absent:
            raise DatasetError(f"InteractionLogDataset(format='{format}') needs {absent}")
        self._format = format
        self._interactions_path = Path(interactions_path) if interactions_path else None
        self._items_path = Path(items_path) if items_path else None
        self._data_dir = Path(data_dir) if data_dir else None
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def load(self) -> RawLog:
        reader = READERS[self._format]
        if self._format == "movielens":
            return reader(self._data_dir, **self._load_args)
        return reader(self._interactions_path, self._items_path, **self._load_args)

    def save(self, data: RawLog) -> None:
        raise DatasetError("InteractionLogDataset is read-only: raw data is never written by the pipeline")

    def _exists(self) -> bool:
        if self._format == "movielens":
            return self._data_dir is not None and (self._data_dir / "u.data").is_file()
        paths = [p for p in (self._interactions_path, self._items_path) if p is not None]
        return all(p.is_file() for p in paths)

    def _describe(self) -> dict[str, Any]:
        return {
            "format": self._format,
            "interactions_path": str(self._interactions_path) if self._interactions_path else None,
            "items_path": str(self._items_path) if self._items_path else None,
            "data_dir": str(self._data_dir) if self._data_dir else None,
            "load_args": self._load_args,
        }


class NoGroundTruthDataset(AbstractDataset[None, pd.DataFrame]):
    """An empty ``item_true_motivations`` table for real data sets.

    Only the built-in shop knows which motivations its items serve. On real data the same catalog name
    resolves to this dataset, which loads a table with the right columns and no rows, so evaluation nodes
    can detect "no ground truth" (an empty table) and skip truth-based metrics instead of failing or
    inventing labels. Saving is refused.
    """

    def __init__(self, metadata: dict[str, Any] | None = None) -> None:
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in TRUE_MOTIVATION_COLUMNS.items()})

    def save(self, data: pd.DataFrame) -> None:
        raise DatasetError(
            "NoGroundTruthDataset is read-only: real data sets have no ground-truth motivations"
        )

    def _exists(self) -> bool:
        return True

    def _describe(self) -> dict[str, Any]:
        return {"columns": list(TRUE_MOTIVATION_COLUMNS)}
