"""Residual codes with padding, and the cluster-id codes of the no-residual ablation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from momorec.clustering.semantic_ids import PADDING, cluster_semantic_ids, residual_codes


def test_padded_rows_get_minus_one_and_the_rest_distinct_ids():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((12, 4)).astype(np.float32)
    vectors[[3, 7]] = np.nan
    table, codebooks, quality = residual_codes(vectors, n_layers=2, n_codes=3, show_progress=False)
    assert list(table.columns) == ["item_idx", "code_0", "code_1", "dedup"]
    assert (table.loc[[3, 7], ["code_0", "code_1", "dedup"]] == PADDING).all().all()
    present = table.drop(index=[3, 7])
    assert not present.duplicated(["code_0", "code_1", "dedup"]).any()
    assert codebooks.shape == (2, 3, 4) and list(quality["layer"]) == [0, 1]


def test_everything_padded_and_bad_shapes():
    table, _, quality = residual_codes(np.full((3, 2), np.nan, np.float32), n_layers=2, n_codes=4)
    assert (table[["code_0", "code_1", "dedup"]] == PADDING).all().all()
    assert quality["codes_used"].tolist() == [0, 0]
    with pytest.raises(ValueError, match="2-D"):
        residual_codes(np.zeros(3, np.float32), n_layers=1, n_codes=2)


def test_cluster_codes_pad_non_generated_items_when_asked():
    assignment = pd.DataFrame(
        {"item_idx": [1, 0, 2], "cluster_id": [0, 0, -1], "source": ["spread", "generated", "none"]}
    )
    codes = cluster_semantic_ids(assignment, only_generated=False)
    assert codes.to_dict("list") == {"item_idx": [0, 1, 2], "code_0": [0, 0, -1], "dedup": [0, 1, -1]}
    only = cluster_semantic_ids(assignment, only_generated=True)
    assert only["code_0"].tolist() == [0, -1, -1]
