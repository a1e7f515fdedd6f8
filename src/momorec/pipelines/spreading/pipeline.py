"""Wiring of the spreading pipeline: embeddings → motivation clusters → long-tail spreading → evaluation."""

from kedro.pipeline import Node, Pipeline

from momorec.pipelines.spreading import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.prepare_encoder,
                inputs=["items", "item_motivations", "params:spreading.encoder", "params:spreading.tuning"],
                outputs=["spreading_encoder", "encoder_tuning_report"],
                name="prepare_encoder",
            ),
            Node(
                nodes.embed_item_texts,
                inputs=["items", "spreading_encoder", "params:spreading.encoder"],
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
    )
