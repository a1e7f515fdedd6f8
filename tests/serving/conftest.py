"""A tiny shop, a momorec model trained on it by the recommender pipeline, registered by the scoring
pipeline's registration node in a throw-away MLflow store (the production path, end to end in memory)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from momorec.pipelines import recommender, scoring

N_USERS, N_ITEMS = 60, 24
MODEL_NAME = "momorec-recommender-test"
PARAMETERS: dict[str, Any] = {
    "variants": ["momorec"],
    "seeds": [0],
    "mask_history": True,
    "model": {"hidden_size": 8, "n_blocks": 1, "n_heads": 1, "max_length": 6, "dropout": 0.1},
    "semantic_ids": {"n_layers_used": None, "use_dedup": False, "code_embedding_size": 4},
    "training": {
        "epochs": 2,
        "patience": 1,
        "batch_size": 32,
        "learning_rate": 0.01,
        "weight_decay": 0.0,
        "loss": "ce",
        "eval_every": 1,
        "show_progress": False,
    },
    "evaluation": {"ks": [10], "chunk_size": 32, "cold_start_below": 3, "efficiency_repeats": 1},
    "runtime": {"num_threads": 1, "device": "cpu"},
    "registry": {"model_name": MODEL_NAME},
}
SCORING_PARAMETERS = {"alias": "champion", "k": 5, "chunk_size": 16, "mask_history": True, "user_ids": None}


def tiny_shop(seed: int = 0) -> dict[str, pd.DataFrame]:
    """``interactions`` (a user buys consecutive products), ``users``, ``items``, ``item_stats`` and
    ``item_semantic_ids`` with the contract schemas."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(4, 9, size=N_USERS)
    starts = rng.integers(0, N_ITEMS, size=N_USERS)
    user = np.repeat(np.arange(N_USERS), lengths)
    position = np.concatenate([np.arange(n) for n in lengths])
    item = (np.repeat(starts, lengths) + position) % N_ITEMS
    from_end = np.repeat(lengths, lengths) - 1 - position
    split = np.where(from_end == 0, "test", np.where(from_end == 1, "valid", "train"))
    interactions = pd.DataFrame({"user_idx": user, "item_idx": item, "position": position, "split": split})
    items = pd.DataFrame(
        {
            "item_idx": np.arange(N_ITEMS, dtype=np.int32),
            "item_id": [f"B{i:04d}" for i in range(N_ITEMS)],
            "title": [f"Product number {i}" for i in range(N_ITEMS)],
        }
    )
    users = pd.DataFrame({"user_idx": np.arange(N_USERS), "user_id": [f"U{u:03d}" for u in range(N_USERS)]})
    train = interactions[interactions["split"] == "train"]
    frequency = np.bincount(train["item_idx"], minlength=N_ITEMS)
    item_stats = pd.DataFrame(
        {"item_idx": np.arange(N_ITEMS), "train_frequency": frequency, "is_long_tail": frequency <= 5}
    )
    codes = pd.DataFrame({"item_idx": np.arange(N_ITEMS)})
    for layer in range(2):
        codes[f"code_{layer}"] = rng.integers(0, 4, size=N_ITEMS)
    codes["dedup"] = codes.groupby(["code_0", "code_1"]).cumcount()
    return {
        "interactions": interactions,
        "users": users,
        "items": items,
        "item_stats": item_stats,
        "item_semantic_ids": codes,
    }


class _Kept(MemoryDataset):
    def _release(self) -> None:  # keep outputs readable after the run
        pass


@dataclass
class RegisteredModel:
    tracking_uri: str
    model_name: str
    alias: str
    shop: dict[str, pd.DataFrame]
    outputs: dict[str, Any]

    @property
    def uri(self) -> str:
        return f"models:/{self.model_name}@{self.alias}"


def train_and_register(folder: Path) -> RegisteredModel:
    """Run the recommender stage (with its registration node) on the tiny shop inside an MLflow run."""
    shop = tiny_shop()
    pipeline = recommender.create_pipeline(variants=["momorec"]) + scoring.create_registration_pipeline()
    datasets = {name: MemoryDataset(value, copy_mode="assign") for name, value in shop.items()}
    datasets["params:recommender"] = MemoryDataset(copy.deepcopy(PARAMETERS), copy_mode="assign")
    datasets["params:scoring"] = MemoryDataset(dict(SCORING_PARAMETERS), copy_mode="assign")
    datasets.update({name: _Kept(copy_mode="assign") for name in pipeline.all_outputs()})
    catalog = DataCatalog(datasets)
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        experiment = mlflow.create_experiment("serving-test", artifact_location=(folder / "mlruns").as_uri())
        with mlflow.start_run(experiment_id=experiment):
            SequentialRunner().run(pipeline, catalog)
    finally:
        mlflow.set_tracking_uri(previous)
    outputs = {name: catalog.load(name) for name in pipeline.all_outputs()}
    return RegisteredModel(tracking_uri, MODEL_NAME, SCORING_PARAMETERS["alias"], shop, outputs)


@pytest.fixture(scope="session")
def registered_model(tmp_path_factory) -> RegisteredModel:
    return train_and_register(tmp_path_factory.mktemp("registry"))


@pytest.fixture
def tracking(registered_model):
    """The registry of ``registered_model`` as MLflow's current tracking URI for one test."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(registered_model.tracking_uri)
    yield registered_model
    mlflow.set_tracking_uri(previous)
