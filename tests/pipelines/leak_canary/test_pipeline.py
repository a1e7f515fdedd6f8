"""The leak canary really leaks (on purpose) and the honest flow really doesn't."""

from __future__ import annotations

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from momorec.pipeline_registry import register_pipelines
from momorec.pipelines.leak_canary import create_pipeline


def _interactions() -> pd.DataFrame:
    # Three users buy items 0 -> 1 -> ... ; the last two positions are valid/test: the transition 8 -> 9
    # happens only at the validation -> test step.
    rows = []
    for user in range(3):
        sequence = [0, 1, 2, 8, 9]
        for position, item in enumerate(sequence):
            split = "train" if position < 3 else ("valid" if position == 3 else "test")
            rows.append(
                {
                    "user_idx": user,
                    "item_idx": item,
                    "position": position,
                    "timestamp": position,
                    "split": split,
                }
            )
    return pd.DataFrame(rows)


def _pairs_from(pipeline, interactions_name: str, output: str) -> pd.DataFrame:
    interactions = _interactions()
    catalog = DataCatalog(
        {
            interactions_name: MemoryDataset(
                interactions
                if interactions_name == "interactions"
                else interactions[interactions["split"] == "train"]
            ),
            "params:data_engineering.pair_window": MemoryDataset(2),
            "params:data_engineering.min_support": MemoryDataset(1),
            "params:data_engineering.max_pairs": MemoryDataset(None),
            output: MemoryDataset(),
        }
    )
    SequentialRunner().run(pipeline, catalog)
    return catalog.load(output)


def test_canary_pairs_come_from_full_sequences_and_honest_pairs_do_not():
    canary = create_pipeline().only_nodes("leak_canary.build_copurchase_pairs")
    assert canary.inputs() & {"interactions", "train_interactions"} == {"interactions"}
    canary_pairs = _pairs_from(canary, "interactions", "leak_canary.copurchase_pairs")
    assert {(8, 9), (2, 8)} <= set(zip(canary_pairs["item_a"], canary_pairs["item_b"], strict=True))

    honest = register_pipelines()["data_engineering"].only_nodes("data_engineering.build_copurchase_pairs")
    honest_pairs = _pairs_from(honest, "train_interactions", "copurchase_pairs")
    assert set(zip(honest_pairs["item_a"], honest_pairs["item_b"], strict=True)) == {(0, 1), (1, 2)}


def test_canary_produces_the_recommenders_canary_table_and_shares_only_interaction_free_inputs():
    pipeline = create_pipeline()
    assert "leak_canary_item_semantic_ids" in pipeline.outputs()
    free_inputs = {name for name in pipeline.inputs() if not name.startswith("params:")}
    assert "train_interactions" not in free_inputs
    assert free_inputs <= {
        "interactions",
        "items",
        "item_true_motivations",
        "llm_cache",
        "item_text_embeddings",
        "spreading_encoder",
        "llm_estimate",  # the honest run's LLM estimate, which lists the canary's extra calls
    }
