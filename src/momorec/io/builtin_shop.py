"""The built-in shop as a read-only Kedro dataset, so ``kedro run`` works with no data at all.

On load, the dataset makes sure ``<path>`` holds the shop generated with exactly ``settings``
(``Shop.jsonl.gz``, ``meta_Shop.jsonl.gz``, ``item_true_motivations.parquet`` and a ``manifest.json``
with a fingerprint of the settings and the generator version). Missing, partial or stale files are
regenerated, atomically (temporary files renamed into place, manifest written last); matching files are
reused as they are. Then:

- ``part="log"`` returns the :class:`~momorec.data.raw_log.RawLog` read back through the Amazon Reviews
  2023 reader (``momorec.data.readers.read_amazon2023``), exactly as a real Amazon category would be read;
- ``part="truth"`` returns the ground-truth table ``item_true_motivations`` (item_id, motivation_id,
  motivation), which only evaluation may read.

Catalog (``conf/base/catalog_data_engineering.yml``)::

    raw_log:
      type: momorec.io.builtin_shop.BuiltinShopDataset
      path: data/01_raw/shop
      settings: ${globals:builtin_shop}

    item_true_motivations:
      type: momorec.io.builtin_shop.BuiltinShopDataset
      path: data/01_raw/shop
      settings: ${globals:builtin_shop}
      part: truth
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from momorec.data import shop
from momorec.data.raw_log import RawLog

PARTS = ("log", "truth")

#: Column dtypes of ``item_true_motivations`` (docs/architecture.md).
TRUTH_COLUMNS: dict[str, str] = {"item_id": "string", "motivation_id": "int64", "motivation": "string"}


class BuiltinShopDataset(AbstractDataset[None, "RawLog | pd.DataFrame"]):
    """The generated built-in shop, loaded as a ``RawLog`` (``part="log"``) or its ground truth (``"truth"``).

    Args:
        path: folder for the generated files (created when missing).
        settings: generator settings (``conf/base/globals.yml`` → ``builtin_shop``); keys not given take
            the defaults of :class:`momorec.data.shop.ShopSettings`; unknown keys are an error.
        part: ``"log"`` or ``"truth"``.
        load_args: passed to ``read_amazon2023`` for ``part="log"`` (e.g. ``chunk_size``).
        metadata: free-form metadata, ignored by Kedro (kedro-viz shows it).

    Saving is refused: the shop is generated, never written by a pipeline node.
    """

    def __init__(
        self,
        path: str,
        settings: Mapping[str, Any] | None = None,
        part: str = "log",
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if part not in PARTS:
            raise DatasetError(f"BuiltinShopDataset: part must be one of {PARTS}, got {part!r}")
        try:
            self._settings = shop.ShopSettings.from_mapping(settings)
        except (TypeError, ValueError) as error:
            raise DatasetError(f"BuiltinShopDataset({path}): {error}") from error
        self._path = Path(path)
        self._part = part
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    @property
    def reviews_path(self) -> Path:
        return self._path / shop.REVIEWS_FILENAME

    @property
    def meta_path(self) -> Path:
        return self._path / shop.META_FILENAME

    @property
    def truth_path(self) -> Path:
        return self._path / shop.TRUTH_FILENAME

    def ensure_generated(self) -> bool:
        """Generate the files unless they match the settings; True when they were (re)written."""
        return shop.ensure_shop(self._path, self._settings)

    def load(self) -> RawLog | pd.DataFrame:
        self.ensure_generated()
        if self._part == "truth":
            truth = pd.read_parquet(self.truth_path)
            return truth.astype(TRUTH_COLUMNS)[list(TRUTH_COLUMNS)]
        # Imported here so the generator and the truth part work even if the reader module is broken.
        from momorec.data.readers import read_amazon2023

        raw_log = read_amazon2023(self.reviews_path, self.meta_path, **self._load_args)
        raw_log.source = f"builtin_shop:{self._path} (seed {self._settings.seed})"
        return raw_log

    def save(self, data: Any) -> None:
        raise DatasetError("BuiltinShopDataset is read-only: the shop is generated on load from its settings")

    def _exists(self) -> bool:
        # Loading generates whatever is missing, so the dataset is always available.
        return True

    def _describe(self) -> dict[str, Any]:
        return {
            "path": str(self._path),
            "part": self._part,
            "settings": dataclasses.asdict(self._settings),
            "load_args": self._load_args,
        }
