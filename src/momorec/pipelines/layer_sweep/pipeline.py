"""Wiring of the layer sweep: one node re-trains MoMoREC per number of ID layers, one logs the curve."""

from kedro.pipeline import Node, Pipeline

from momorec.data.sequences import build_user_sequences
from momorec.pipelines.layer_sweep.nodes import layer_sweep_metrics, sweep_semantic_id_layers


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            # The recommender's user sequences are held in memory, so the sweep builds them the same way.
            Node(
                build_user_sequences,
                inputs=["interactions", "items"],
                outputs="recommender_user_sequences",
                name="build_recommender_user_sequences",
            ),
            Node(
                sweep_semantic_id_layers,
                inputs=[
                    "recommender_user_sequences",
                    "item_stats",
                    "item_semantic_ids",
                    "params:recommender",
                    "params:layer_sweep",
                ],
                outputs="layer_sweep_results",
                name="sweep_semantic_id_layers",
            ),
            Node(
                layer_sweep_metrics,
                inputs="layer_sweep_results",
                outputs="layer_sweep_metrics",
                name="layer_sweep_to_mlflow",
            ),
        ]
    )
