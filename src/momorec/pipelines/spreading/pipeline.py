"""Wiring of the spreading pipeline: embeddings → motivation clusters → long-tail spreading → evaluation."""

from kedro.pipeline import Node, Pipeline

from momorec.pipelines.spreading import nodes


def _embedding_nodes() -> list[Node]:
    """The encoder (tuned or not) and the item-text and motivation embeddings."""
    return [
        Node(
            nodes.prepare_encoder,
            inputs=["items", "item_motivations", "params:spreading.encoder", "params:spreading.tuning"],
            outputs=["spreading_encoder", "encoder_tuning_report"],
            name="prepare_encoder",
        ),
        Node(
            nodes.embed_item_texts,
            inputs=["items", "spreading_encoder", "params:spreading.encoder", "text_embedding_cache"],
            outputs="item_text_embeddings",
            name="embed_item_texts",
        ),
        Node(
            nodes.build_motivation_table,
            inputs="item_motivations",
            outputs="motivation_table",
            name="build_motivation_table",
        ),
        Node(
            nodes.embed_motivations,
            inputs=["motivation_table", "spreading_encoder", "params:spreading.encoder"],
            outputs="motivation_embeddings",
            name="embed_motivations",
        ),
    ]


def _spreading_nodes() -> list[Node]:
    """Motivation clusters, then every item's cluster (generated, or spread from its neighbours)."""
    return [
        Node(
            nodes.cluster_motivations,
            inputs=["motivation_table", "motivation_embeddings", "params:spreading.clustering"],
            outputs="motivation_clusters",
            name="cluster_motivations",
        ),
        Node(
            nodes.assign_item_motivations,
            inputs=[
                "items",
                "item_motivations",
                "motivation_clusters",
                "item_text_embeddings",
                "params:spreading.vote",
            ],
            outputs="item_motivation_assignment",
            name="spread_motivations",
        ),
    ]


def _evaluation_nodes() -> list[Node]:
    """Scores with the generated and with the true motivations as input, and the report of both."""
    return [
        Node(
            nodes.evaluate_generated_motivations,
            inputs=[
                "items",
                "item_motivations",
                "item_true_motivations",
                "motivation_clusters",
                "item_text_embeddings",
                "params:spreading.vote",
                "params:spreading.evaluation",
            ],
            outputs="spreading_scores_generated",
            name="evaluate_generated_motivations",
        ),
        Node(
            nodes.evaluate_ground_truth_input,
            inputs=[
                "items",
                "item_motivations",
                "item_true_motivations",
                "item_text_embeddings",
                "spreading_encoder",
                "params:spreading.encoder",
                "params:spreading.clustering",
                "params:spreading.vote",
                "params:spreading.evaluation",
            ],
            outputs="spreading_scores_ground_truth_input",
            name="evaluate_ground_truth_input",
        ),
        Node(
            nodes.report_spreading_evaluation,
            inputs=[
                "spreading_scores_generated",
                "spreading_scores_ground_truth_input",
                "encoder_tuning_report",
                "item_motivation_assignment",
                "params:spreading.evaluation",
            ],
            outputs=["spreading_evaluation", "spreading_metrics"],
            name="report_spreading_evaluation",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([*_embedding_nodes(), *_spreading_nodes(), *_evaluation_nodes()])
