"""The spreading pipeline run on an in-memory catalog with SequentialRunner."""

import numpy as np

from momorec.embeddings.cache import EmbeddingCache
from momorec.pipelines.spreading.pipeline import create_pipeline
from tests.pipelines.spreading.conftest import run_in_memory


def test_pipeline_from_embeddings_to_evaluation(
    items, item_motivations, item_true_motivations, encoder, spreading_parameters, tmp_path
):
    # Start after prepare_encoder so the hashing stand-in replaces the real encoder.
    pipeline = create_pipeline().from_nodes("embed_item_texts", "build_motivation_table")
    catalog = run_in_memory(
        pipeline,
        {
            "items": items,
            "item_motivations": item_motivations,
            "item_true_motivations": item_true_motivations,
            "spreading_encoder": encoder,
            "encoder_tuning_report": {"enabled": False},
            "text_embedding_cache": EmbeddingCache(tmp_path / "text_embedding_cache.sqlite"),
        },
        spreading_parameters,
    )
    embeddings = catalog.load("item_text_embeddings")
    motivation_embeddings = catalog.load("motivation_embeddings")
    clusters = catalog.load("motivation_clusters")
    assignment = catalog.load("item_motivation_assignment")
    assert embeddings.shape[0] == len(items) and embeddings.dtype == np.float32
    assert len(motivation_embeddings) == len(clusters) == 7
    assert assignment["item_idx"].tolist() == list(range(len(items)))
    assert set(assignment["source"]) == {"generated", "spread", "none"}
    report = catalog.load("spreading_evaluation")
    assert report["ground_truth_available"] is True
    assert report["ground_truth_motivations_as_input"]["cluster_nmi"] >= 0.8
    metrics = catalog.load("spreading_metrics")
    assert all(set(item) == {"value", "step"} for item in metrics.values())


def test_pipeline_nodes_are_named_and_read_the_contract_inputs():
    pipeline = create_pipeline()
    assert all(node.name for node in pipeline.nodes)
    assert {"items", "item_motivations", "item_true_motivations", "text_embedding_cache"} <= pipeline.inputs()
    assert {
        "item_text_embeddings",
        "motivation_embeddings",
        "motivation_clusters",
        "item_motivation_assignment",
        "spreading_evaluation",
    } <= pipeline.all_outputs()
