"""The scoring pipeline (``scoring_from_run``) as a slice on an in-memory catalog: recommendations with the
popularity-fallback column and the scoring report (the refusals: tests/faults/test_serving_faults.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from momorec.models.sasrec import SASRec
from momorec.pipelines import scoring

N_ITEMS, N_USERS = 10, 5
PARAMS = {
    "alias": "champion",
    "k": 4,
    "chunk_size": 2,
    "mask_history": True,
    "user_ids": None,
    "max_bad_fraction": 0.0,
}


def _inputs() -> dict:
    torch.manual_seed(0)
    network = SASRec(N_ITEMS, hidden_size=8, n_blocks=1, n_heads=1, max_length=4, dropout=0.0)
    items = pd.DataFrame(
        {"item_idx": np.arange(N_ITEMS), "item_id": [f"P{i}" for i in range(N_ITEMS)], "title": "t"}
    )
    interactions = pd.DataFrame(  # user 4 has no interaction: popularity fallback
        {"user_idx": [0, 0, 1, 2, 2, 3], "item_idx": [1, 2, 3, 4, 5, 6], "position": [0, 1, 0, 0, 1, 0]}
    )
    return {
        "recommender_best_model": network,
        "recommender_best_model_info": {"variant": "sasrec"},
        "items": items,
        "item_stats": pd.DataFrame({"item_idx": np.arange(N_ITEMS), "train_frequency": np.arange(N_ITEMS)}),
        "interactions": interactions,
        "users": pd.DataFrame({"user_idx": np.arange(N_USERS), "user_id": [f"U{u}" for u in range(N_USERS)]}),
        "params:scoring": PARAMS,
    }


def _run(inputs: dict) -> dict:
    catalog = DataCatalog({name: MemoryDataset(value, copy_mode="assign") for name, value in inputs.items()})
    pipeline = scoring.create_pipeline(model_source="run")
    for name in pipeline.outputs():
        catalog[name] = MemoryDataset()
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.outputs()}


def test_scoring_from_run_writes_recommendations_and_the_report():
    outputs = _run(_inputs())
    recommendations, report = outputs["recommendations"], outputs["scoring_report"]
    assert list(recommendations.columns) == ["user_id", "rank", "product_id", "score", "popularity_fallback"]
    assert recommendations.groupby("user_id").size().to_dict() == {f"U{u}": 4 for u in range(N_USERS)}
    fallback = recommendations[recommendations["popularity_fallback"]]
    assert set(fallback["user_id"]) == {"U4"}
    assert fallback["score"].tolist() == [9.0, 8.0, 7.0, 6.0]  # training counts, flagged
    assert report["users_selected"] == N_USERS and report["users_scored"] == N_USERS
    assert report["users_popularity_fallback"] == 1
    assert report["vocabulary"]["n_items"] == N_ITEMS
