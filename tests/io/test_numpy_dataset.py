import numpy as np
import pytest
from kedro.io import DatasetError, Version

from momorec.io.numpy_dataset import NumpyDataset


def test_round_trip_keeps_values_and_casts_to_float32(tmp_path):
    dataset = NumpyDataset(filepath=str(tmp_path / "sub" / "emb.npy"))
    assert not dataset.exists()
    dataset.save(np.arange(6, dtype=np.float64).reshape(2, 3))
    loaded = dataset.load()
    assert loaded.dtype == np.float32 and loaded.shape == (2, 3)
    np.testing.assert_array_equal(loaded, np.arange(6).reshape(2, 3))
    assert dataset.exists()


def test_memory_map_and_wrong_dtype(tmp_path):
    path = tmp_path / "codes.npy"
    np.save(path, np.arange(4, dtype=np.int64))
    with pytest.raises(DatasetError, match="expected dtype float32"):
        NumpyDataset(filepath=str(path)).load()
    mapped = NumpyDataset(filepath=str(path), dtype=None, mmap_mode="r").load()
    assert isinstance(mapped, np.memmap) and mapped.tolist() == [0, 1, 2, 3]


def test_refuses_non_arrays(tmp_path):
    with pytest.raises(DatasetError, match="saves numpy arrays"):
        NumpyDataset(filepath=str(tmp_path / "x.npy")).save([1.0, 2.0])


def test_versioned_saves_keep_each_version(tmp_path):
    first = NumpyDataset(filepath=str(tmp_path / "cb.npy"), version=Version(None, "2026-01-01T00.00.00.000Z"))
    first.save(np.zeros((2, 2), np.float32))
    second = NumpyDataset(
        filepath=str(tmp_path / "cb.npy"), version=Version(None, "2026-01-02T00.00.00.000Z")
    )
    second.save(np.ones((2, 2), np.float32))
    latest = NumpyDataset(filepath=str(tmp_path / "cb.npy"), version=Version(None, None))
    assert latest.load().sum() == 4.0
    assert len(list((tmp_path / "cb.npy").iterdir())) == 2
