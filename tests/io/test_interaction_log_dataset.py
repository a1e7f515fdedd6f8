"""InteractionLogDataset / NoGroundTruthDataset (src/momorec/io/interaction_log.py)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError

from momorec.data.raw_log import RawLog
from momorec.io.interaction_log import InteractionLogDataset, NoGroundTruthDataset


def test_lcrec_dataset_from_catalog_config(tmp_path):
    (tmp_path / "S.inter.json").write_text(json.dumps({"0": [1, 2, 3]}))
    (tmp_path / "S.item.json").write_text(json.dumps({str(i): {"title": f"t{i}"} for i in (1, 2, 3)}))
    catalog = DataCatalog.from_config(
        {
            "raw_log": {
                "type": "momorec.io.interaction_log.InteractionLogDataset",
                "format": "lcrec",
                "interactions_path": str(tmp_path / "S.inter.json"),
                "items_path": str(tmp_path / "S.item.json"),
            }
        }
    )
    log = catalog.load("raw_log")
    assert isinstance(log, RawLog)
    assert log.interactions["item_id"].tolist() == ["1", "2", "3"]
    assert catalog.exists("raw_log")


def test_tabular_dataset_passes_load_args(tmp_path):
    (tmp_path / "log.csv").write_text("who,what,when\nu,i,7\n")
    dataset = InteractionLogDataset(
        "tabular",
        interactions_path=str(tmp_path / "log.csv"),
        load_args={"column_map": {"who": "user_id", "what": "item_id", "when": "timestamp"}},
    )
    assert dataset.load().interactions["timestamp"].tolist() == [7]


def test_dataset_refuses_unknown_format_missing_paths_and_saving(tmp_path):
    with pytest.raises(DatasetError, match="unknown format 'xml'"):
        InteractionLogDataset("xml", interactions_path="a")
    with pytest.raises(DatasetError, match="needs \\['data_dir'\\]"):
        InteractionLogDataset("movielens")
    dataset = InteractionLogDataset("movielens", data_dir=str(tmp_path))
    assert not dataset.exists()
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(RawLog(pd.DataFrame(), pd.DataFrame()))


def test_no_ground_truth_is_an_empty_typed_table():
    truth = NoGroundTruthDataset().load()
    assert truth.empty
    assert dict(truth.dtypes.astype(str)) == {
        "item_id": "string",
        "motivation_id": "int64",
        "motivation": "string",
    }
    with pytest.raises(DatasetError, match="read-only"):
        NoGroundTruthDataset().save(truth)
