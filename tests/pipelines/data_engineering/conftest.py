"""Fixtures of the data_engineering tests: tiny raw logs and an in-memory pipeline runner."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from momorec.data.raw_log import INTERACTION_COLUMNS, ITEM_COLUMNS, RawLog

DEFAULT_PARAMETERS: dict[str, Any] = {
    "drop_items_without_title": False,
    "k_core": 0,
    "long_tail_max_interactions": 5,
    "pair_window": 2,
    "min_support": 1,
    "max_pairs": None,
}


class KeptMemoryDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so a test can read intermediate outputs afterwards."""

    def _release(self) -> None:
        pass


def make_raw_log(rows: list[tuple], items: list[tuple] | None = None) -> RawLog:
    """A RawLog from (user, item, timestamp[, rating]) rows; items (id, title) default to every item titled."""
    frame = pd.DataFrame([r if len(r) == 4 else (*r, 1.0) for r in rows], columns=list(INTERACTION_COLUMNS))
    if items is None:
        items = [(i, f"title {i}") for i in dict.fromkeys(frame["item_id"])]
    catalogue = pd.DataFrame(items, columns=["item_id", "title"])
    for column in ITEM_COLUMNS:
        if column not in catalogue:
            catalogue[column] = None
    return RawLog(
        interactions=frame.astype(INTERACTION_COLUMNS),
        items=catalogue[list(ITEM_COLUMNS)].astype(ITEM_COLUMNS),
        source="test",
    )


def run_in_memory(
    pipeline: Pipeline, inputs: dict[str, Any], parameters: dict[str, Any] | None = None
) -> DataCatalog:
    """Run ``pipeline`` with SequentialRunner on an in-memory catalog and return the catalog."""
    params = {**DEFAULT_PARAMETERS, **(parameters or {})}
    datasets: dict[str, Any] = {"params:data_engineering": MemoryDataset(params)}
    datasets.update({f"params:data_engineering.{key}": MemoryDataset(value) for key, value in params.items()})
    datasets.update({name: MemoryDataset(value) for name, value in inputs.items()})
    datasets.update({name: KeptMemoryDataset() for name in pipeline.all_outputs()})
    catalog = DataCatalog(datasets)
    SequentialRunner().run(pipeline, catalog)
    return catalog


@pytest.fixture
def parameters() -> dict[str, Any]:
    return dict(DEFAULT_PARAMETERS)
