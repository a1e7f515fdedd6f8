"""The semantic_id pipeline on persisted-looking spreading outputs, in memory, with SequentialRunner."""

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro_datasets.pandas import ParquetDataset

from momorec.embeddings.encoder import EncoderBundle
from momorec.io.interaction_log import NoGroundTruthDataset
from momorec.pipelines.semantic_id.pipeline import create_pipeline
from tests.pipelines.spreading.conftest import HashingEncoder, flatten_params, run_in_memory

ENCODER = {"params:spreading.encoder": {"model": "hashing-test-encoder", "batch_size": 8}}


def _encoder() -> EncoderBundle:
    return EncoderBundle(base_model="hashing-test-encoder", tuned=True, model=HashingEncoder(dim=16))


def test_full_pipeline_produces_every_id_table(
    repo_root,
    items,
    assignment,
    motivation_clusters,
    motivation_embeddings,
    item_text_embeddings,
    item_true_motivations,
):
    config = yaml.safe_load((repo_root / "conf/base/parameters_semantic_id.yml").read_text())["semantic_id"]
    config.update(n_layers=3, n_codes=4, show_progress=False)
    pipeline = create_pipeline()
    catalog = run_in_memory(
        pipeline,
        {
            "items": items,
            "item_motivation_assignment": assignment,
            "motivation_clusters": motivation_clusters,
            "motivation_embeddings": motivation_embeddings,
            "item_text_embeddings": item_text_embeddings,
            "item_true_motivations": item_true_motivations,
            "spreading_encoder": _encoder(),
        },
        {**flatten_params("semantic_id", config), **ENCODER},
    )
    code_columns = ["code_0", "code_1", "code_2"]
    id_tables = ("item_semantic_ids", "text_item_semantic_ids", "nospread_item_semantic_ids")
    for name in (*id_tables, "oracle_item_semantic_ids"):
        table = catalog.load(name)
        assert list(table.columns) == ["item_idx", *code_columns, "dedup"], name
        present = table[table["code_0"] >= 0]
        assert not present.duplicated([*code_columns, "dedup"]).any(), name
    assert (catalog.load("text_item_semantic_ids")["code_0"] >= 0).all()
    nospread = catalog.load("nospread_item_semantic_ids")
    assert (nospread.loc[15:, code_columns] == -1).all().all()
    assert list(catalog.load("cluster_item_semantic_ids").columns) == ["item_idx", "code_0", "dedup"]
    # The oracle: items sharing a true motivation share their codes; items without one are padded.
    oracle = catalog.load("oracle_item_semantic_ids")
    assert (oracle.loc[30:, [*code_columns, "dedup"]] == -1).all().all()
    assert oracle.loc[:29, code_columns].apply(tuple, axis=1).groupby(np.arange(30) % 3).nunique().eq(1).all()
    assert oracle.loc[:29, "code_0"].nunique() == 3
    export = catalog.load("semantic_id_table")
    assert export["item_id"].tolist() == items["item_id"].tolist()
    # The default input is motivation ⊕ text: 16 + 16 dimensions per item, and one codebook vector as wide.
    assert catalog.load("semantic_id_input").shape == (len(items), 32)
    assert catalog.load("residual_codebooks").shape == (3, 4, 32)
    assert np.isfinite(catalog.load("semantic_id_quality")["relative_reconstruction_error"]).all()
    assert catalog.load("semantic_id_utilisation_plot").axes


def test_every_input_is_a_persisted_upstream_dataset():
    inputs = {name for name in create_pipeline().inputs() if not name.startswith("params:")}
    assert inputs == {
        "items",
        "item_motivation_assignment",
        "motivation_clusters",
        "motivation_embeddings",
        "item_text_embeddings",
        "item_true_motivations",  # only the oracle IDs (evaluation only) read it
        "spreading_encoder",
    }


def test_oracle_ids_without_ground_truth_are_an_empty_table_that_persists(repo_root, items, tmp_path):
    config = yaml.safe_load((repo_root / "conf/base/parameters_semantic_id.yml").read_text())["semantic_id"]
    config.update(n_layers=3, show_progress=False)
    catalog = run_in_memory(
        create_pipeline().only_nodes("oracle_semantic_ids"),
        {
            "items": items,
            "item_true_motivations": NoGroundTruthDataset().load(),
            "spreading_encoder": _encoder(),
        },
        {**flatten_params("semantic_id", config), **ENCODER},
    )
    oracle = catalog.load("oracle_item_semantic_ids")
    assert oracle.empty and list(oracle.columns) == ["item_idx", "code_0", "code_1", "code_2", "dedup"]
    # The catalog's format (parquet) keeps the empty table's columns and types.
    stored = ParquetDataset(filepath=str(tmp_path / "oracle_item_semantic_ids.parquet"))
    stored.save(oracle)
    pd.testing.assert_frame_equal(stored.load(), oracle)


@pytest.mark.parametrize("id_input", ["motivation_text", "cluster_prefix_text"])
def test_main_ids_from_motivation_and_text_inputs_collide_less_than_motivation_alone(
    repo_root, items, assignment, motivation_clusters, motivation_embeddings, item_text_embeddings, id_input
):
    config = yaml.safe_load((repo_root / "conf/base/parameters_semantic_id.yml").read_text())["semantic_id"]
    config.update(n_layers=3, n_codes=4, show_progress=False)
    datasets = {
        "items": items,
        "item_motivation_assignment": assignment,
        "motivation_clusters": motivation_clusters,
        "motivation_embeddings": motivation_embeddings,
        "item_text_embeddings": item_text_embeddings,
    }
    pipeline = create_pipeline().to_outputs("semantic_id_quality")
    config["input"] = "motivation"  # the paper's input, whatever the default
    motivation_only = run_in_memory(pipeline, datasets, flatten_params("semantic_id", config))
    config["input"] = id_input
    with_text = run_in_memory(pipeline, datasets, flatten_params("semantic_id", config))
    full_id_collisions = [
        catalog.load("semantic_id_quality")["prefix_collision_rate"].iloc[-1]
        for catalog in (motivation_only, with_text)
    ]
    assert full_id_collisions[1] < full_id_collisions[0]
    assert (with_text.load("semantic_id_quality")["codes_used"] > 1).all()
