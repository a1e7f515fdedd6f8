"""In-memory inputs and tiny parameters for the recommender pipeline tests."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from momorec.models.variants import VARIANT_SPECS, variant_inputs
from tests.models.conftest import make_interactions, make_item_semantic_ids

N_ITEMS = 30

TINY_PARAMETERS: dict[str, Any] = {
    "variants": list(VARIANT_SPECS),
    "seeds": [0, 1, 2],
    "mask_history": True,
    "model": {"hidden_size": 8, "n_blocks": 1, "n_heads": 1, "max_length": 6, "dropout": 0.1},
    "semantic_ids": {"n_layers_used": None, "use_dedup": False, "code_embedding_size": 4},
    "training": {
        "epochs": 1,
        "patience": 1,
        "batch_size": 16,
        "learning_rate": 0.01,
        "weight_decay": 0.0,
        "loss": "ce",
        "eval_every": 1,
        "show_progress": False,
    },
    "evaluation": {"ks": [10, 20], "chunk_size": 16, "cold_start_below": 3, "efficiency_repeats": 1},
    "runtime": {"num_threads": 1, "device": "cpu"},
    "registry": {"model_name": "momorec-recommender-test"},
}


def recommender_inputs(n_users: int = 40) -> dict[str, Any]:
    """Every dataset the recommender pipeline reads, with the contract schemas, on a tiny log."""
    interactions = make_interactions(n_users=n_users, n_items=N_ITEMS)
    items = pd.DataFrame(
        {"item_idx": np.arange(N_ITEMS, dtype=np.int32), "item_id": [f"i{i}" for i in range(N_ITEMS)]}
    )
    frequency = np.bincount(interactions.loc[interactions["split"] == "train", "item_idx"], minlength=N_ITEMS)
    item_stats = pd.DataFrame(
        {"item_idx": np.arange(N_ITEMS), "train_frequency": frequency, "is_long_tail": frequency <= 5}
    )
    embeddings = np.random.default_rng(0).normal(size=(N_ITEMS, 24)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    # text ⊕ motivation; the last items have no motivation (a zero half), as in the real table
    motivation = np.roll(embeddings, 1, axis=0)
    motivation[-5:] = 0.0
    text_motivation = np.hstack([embeddings, motivation])
    inputs: dict[str, Any] = {
        "interactions": interactions,
        "items": items,
        "item_stats": item_stats,
        "item_text_embeddings": embeddings,
        "text_motivation_item_vectors": text_motivation,
    }
    for seed, variant in enumerate(VARIANT_SPECS):
        for name in variant_inputs(variant):
            if name.endswith("semantic_ids") and name not in inputs:
                inputs[name] = make_item_semantic_ids(
                    N_ITEMS, n_layers=1 if "cluster" in name else 3, seed=seed
                )
    return inputs


@pytest.fixture
def parameters() -> dict[str, Any]:
    return copy.deepcopy(TINY_PARAMETERS)


class KeptMemoryDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so a test can read every output afterwards."""

    def _release(self) -> None:
        pass


def run_in_memory(pipeline: Pipeline, inputs: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Run ``pipeline`` with SequentialRunner on an in-memory catalog; return every output's data."""
    datasets = {name: MemoryDataset(value, copy_mode="assign") for name, value in inputs.items()}
    datasets["params:recommender"] = MemoryDataset(parameters, copy_mode="assign")
    datasets.update({name: KeptMemoryDataset(copy_mode="assign") for name in pipeline.all_outputs()})
    catalog = DataCatalog(datasets)
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}
