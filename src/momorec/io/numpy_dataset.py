"""A Kedro dataset for one float32 NumPy array stored as a ``.npy`` file.

Embeddings and codebooks are dense float arrays; ``.npy`` keeps them exact, memory-mappable and readable from
any language with a NumPy reader. Catalog use::

    item_text_embeddings:
      type: momorec.io.numpy_dataset.NumpyDataset
      filepath: data/04_feature/item_text_embeddings.npy

Wrap it in ``kedro_mlflow.io.artifacts.MlflowArtifactDataset`` to log the file as an MLflow artifact;
``versioned: true`` is supported.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import fsspec
import numpy as np
from kedro.io import AbstractVersionedDataset, DatasetError, Version
from kedro.io.core import get_filepath_str, get_protocol_and_path


class NumpyDataset(AbstractVersionedDataset[np.ndarray, np.ndarray]):
    """Loads and saves one NumPy array as ``.npy`` (no pickled objects).

    Args:
        filepath: Path of the ``.npy`` file (any fsspec protocol).
        dtype: dtype the array is cast to on save and checked on load (default ``float32``; ``None`` keeps it).
        mmap_mode: Passed to ``np.load`` for local files (e.g. ``"r"`` for a read-only memory map).
        version: Kedro versioning (set by the catalog from ``versioned: true``).
        fs_args: Extra arguments for the fsspec filesystem.
        metadata: Free-form metadata, ignored by Kedro.
    """

    def __init__(
        self,
        *,
        filepath: str,
        dtype: str | None = "float32",
        mmap_mode: str | None = None,
        version: Version | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(fs_args or {}))
        self._dtype = np.dtype(dtype) if dtype is not None else None
        self._mmap_mode = mmap_mode
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def load(self) -> np.ndarray:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        if self._protocol == "file" and self._mmap_mode is not None:
            array = np.load(load_path, mmap_mode=self._mmap_mode, allow_pickle=False)
        else:
            with self._fs.open(load_path, mode="rb") as handle:
                array = np.load(handle, allow_pickle=False)
        if self._dtype is not None and array.dtype != self._dtype:
            raise DatasetError(f"{load_path}: expected dtype {self._dtype}, found {array.dtype}")
        return array

    def save(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray):
            raise DatasetError(
                f"NumpyDataset({self._filepath}) saves numpy arrays, got {type(data).__name__}"
            )
        array = data.astype(self._dtype, copy=False) if self._dtype is not None else data
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        self._fs.makedirs(str(PurePosixPath(save_path).parent), exist_ok=True)
        with self._fs.open(save_path, mode="wb") as handle:
            np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "dtype": str(self._dtype),
            "version": self._version,
        }

    def _invalidate_cache(self) -> None:
        self._fs.invalidate_cache(str(self._filepath))
