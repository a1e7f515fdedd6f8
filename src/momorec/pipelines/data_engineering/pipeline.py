"""Wiring of the data_engineering pipeline.

raw_log → validate → k-core → chronological sequences + ids → leave-one-out split → training prefix
→ item statistics and co-purchase pairs (training prefix only) → dataset statistics (+ MLflow metrics).
"""

from kedro.pipeline import Node, Pipeline

from momorec.pipelines.data_engineering import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.validate_raw_log,
                inputs=["raw_log", "params:data_engineering"],
                outputs=["validated_interactions", "validated_items", "validation_report"],
                name="validate_raw_log",
            ),
            Node(
                nodes.filter_k_core,
                inputs=["validated_interactions", "params:data_engineering.k_core"],
                outputs="kcore_interactions",
                name="filter_k_core",
            ),
            Node(
                nodes.build_sequences,
                inputs=["kcore_interactions", "validated_items"],
                outputs=["sequenced_interactions", "users", "items"],
                name="build_sequences",
            ),
            Node(
                nodes.split_leave_one_out,
                inputs="sequenced_interactions",
                outputs="interactions",
                name="split_leave_one_out",
            ),
            Node(
                nodes.select_train_interactions,
                inputs="interactions",
                outputs="train_interactions",
                name="select_train_interactions",
            ),
            Node(
                nodes.compute_item_stats,
                inputs=["train_interactions", "items", "params:data_engineering.long_tail_max_interactions"],
                outputs="item_stats",
                name="compute_item_stats",
            ),
            Node(
                nodes.build_copurchase_pairs,
                inputs=[
                    "train_interactions",
                    "params:data_engineering.pair_window",
                    "params:data_engineering.min_support",
                    "params:data_engineering.max_pairs",
                ],
                outputs="copurchase_pairs",
                name="build_copurchase_pairs",
            ),
            Node(
                nodes.compute_dataset_statistics,
                inputs=[
                    "validated_interactions",
                    "interactions",
                    "items",
                    "item_stats",
                    "copurchase_pairs",
                    "params:data_engineering",
                ],
                outputs="dataset_statistics",
                name="compute_dataset_statistics",
            ),
            Node(
                nodes.dataset_statistics_to_metrics,
                inputs="dataset_statistics",
                outputs="dataset_statistics_metrics",
                name="log_dataset_statistics",
            ),
        ]
    )
