"""Oracle semantic IDs (evaluation only): residual codes over the items' ground-truth motivations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from momorec.clustering.semantic_ids import (
    PADDING,
    empty_code_table,
    oracle_semantic_ids,
    residual_codes,
    residual_fit_settings,
    true_motivation_item_vectors,
)
from momorec.io.interaction_log import NoGroundTruthDataset

N_ITEMS = 12
FIT = {"n_layers": 2, "n_codes": 3, "niter": 10, "seed": 0, "show_progress": False}


class RecordingEncoder:
    """A fixed random unit vector per text; records every call (the run passes its sentence encoder)."""

    def __init__(self, dim: int = 8) -> None:
        self.dim = dim
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = [np.random.default_rng(sum(map(ord, text))).standard_normal(self.dim) for text in texts]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def items() -> pd.DataFrame:
    # Shuffled rows: the result is indexed by item_idx, not by row order.
    idx = np.random.default_rng(3).permutation(N_ITEMS)
    return pd.DataFrame({"item_idx": idx.astype(np.int32), "item_id": [f"B{i:03d}" for i in idx]})


@pytest.fixture
def truth() -> pd.DataFrame:
    """Items 0..9 hold one of three motivations (item 0 a second one too); items 10 and 11 have none."""
    motivation = [i % 3 for i in range(10)]
    rows = [
        {"item_id": f"B{i:03d}", "motivation_id": m, "motivation": f"motive {m}"}
        for i, m in enumerate(motivation)
    ]
    rows.append({"item_id": "B000", "motivation_id": 2, "motivation": "motive 2"})  # second: not used
    rows.append({"item_id": "X999", "motivation_id": 1, "motivation": "motive 1"})  # not in the catalogue
    return pd.DataFrame(rows)


def test_items_sharing_a_true_motivation_share_their_codes_and_others_are_padded(items, truth):
    encoder = RecordingEncoder()
    table = oracle_semantic_ids(items, truth, encoder, **FIT)
    assert list(table.columns) == ["item_idx", "code_0", "code_1", "dedup"]
    assert table["item_idx"].tolist() == list(range(N_ITEMS))
    assert (table.dtypes == np.int32).all()
    # Each distinct motivation encoded once, in sorted order.
    assert encoder.calls == [["motive 0", "motive 1", "motive 2"]]
    assert (table.loc[[10, 11], ["code_0", "code_1", "dedup"]] == PADDING).all().all()
    present = table.iloc[:10]
    motivation = np.arange(10) % 3
    # Three distinct inputs and three codes: the first layer separates the motivations exactly (item 0's
    # first motivation counts, so it sits with items 3, 6, 9).
    full_ids = present[["code_0", "code_1"]].apply(tuple, axis=1)
    assert full_ids.groupby(motivation).nunique().tolist() == [1, 1, 1]
    assert full_ids.nunique() == 3
    assert not present.duplicated(["code_0", "code_1", "dedup"]).any()


def test_same_codes_as_residual_kmeans_over_the_true_motivation_vectors(items, truth):
    encoder = RecordingEncoder()
    vectors = true_motivation_item_vectors(items, truth, encoder)
    assert vectors.shape == (N_ITEMS, encoder.dim)
    assert np.isnan(vectors[10:]).all() and not np.isnan(vectors[:10]).any()
    np.testing.assert_allclose(vectors[0], vectors[3])  # item 0: its first motivation, "motive 0"
    expected, _, _ = residual_codes(vectors, **FIT)
    pd.testing.assert_frame_equal(oracle_semantic_ids(items, truth, RecordingEncoder(), **FIT), expected)


def test_no_ground_truth_gives_an_empty_table_without_encoding(items):
    encoder = RecordingEncoder()
    table = oracle_semantic_ids(items, NoGroundTruthDataset().load(), encoder, **FIT)
    assert table.empty and list(table.columns) == ["item_idx", "code_0", "code_1", "dedup"]
    assert encoder.calls == []
    pd.testing.assert_frame_equal(table, empty_code_table(2))
    assert (empty_code_table(3).dtypes == np.int32).all()


def test_bad_ground_truth_items_or_encoder_fail_loudly(items, truth):
    elsewhere = truth.assign(item_id="Z" + truth["item_id"])
    with pytest.raises(ValueError, match="none of its item_ids is in items"):
        oracle_semantic_ids(items, elsewhere, RecordingEncoder(), **FIT)
    with pytest.raises(ValueError, match="motivation_id"):
        oracle_semantic_ids(items, truth.drop(columns="motivation_id"), RecordingEncoder(), **FIT)
    with pytest.raises(ValueError, match="contiguous"):
        oracle_semantic_ids(items.assign(item_idx=items["item_idx"] + 1), truth, RecordingEncoder(), **FIT)
    with pytest.raises(ValueError, match="encoder returned shape"):
        oracle_semantic_ids(items, truth, lambda texts: np.zeros((1, 4), np.float32), **FIT)


def test_fit_settings_read_the_semantic_id_parameters_with_defaults():
    settings = residual_fit_settings({"n_layers": 3, "n_codes": "16", "faiss_threads": 1})
    assert settings == {
        "n_layers": 3,
        "n_codes": 16,
        "niter": 20,
        "seed": 42,
        "max_points_per_centroid": 256,
        "show_progress": True,
        "n_threads": 1,
    }
