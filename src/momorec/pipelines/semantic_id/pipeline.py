"""Wiring of the semantic_id pipeline: the main motivation IDs plus the ID tables of the ablations.

Every variant reuses the same node functions with differently named outputs:

* ``item_semantic_ids`` (main): input ``params:semantic_id.input`` (motivation / text / concat /
  motivation_text / cluster_prefix_text);
* ``text_item_semantic_ids``: item text embeddings, i.e. semantic IDs without motivations;
* ``nospread_item_semantic_ids``: only items with a generated motivation get codes, the rest -1 (padding);
* ``cluster_item_semantic_ids``: one layer = the motivation cluster id, no residual;
* ``text_motivation_item_vectors``: item text ⊕ motivation vector, the frozen input of ``momorec_adaptor``;
* ``oracle_item_semantic_ids`` (evaluation only): the main settings over the items' ground-truth motivations
  (the built-in shop's; an empty table on real data sets), the input of ``momorec_oracle``.
"""

from kedro.pipeline import Node, Pipeline

from momorec.pipelines.semantic_id import nodes

SPREADING_OUTPUTS = [
    "item_motivation_assignment",
    "motivation_clusters",
    "motivation_embeddings",
    "item_text_embeddings",
]


def _residual_variant(prefix: str, input_param: str, only_generated_param: str) -> list[Node]:
    """The nodes of one residual k-means ID table; ``prefix`` ("" for the main one) names its datasets."""
    name = prefix or "motivation_"
    return [
        Node(
            nodes.assemble_item_vectors,
            inputs=[
                *SPREADING_OUTPUTS,
                input_param,
                only_generated_param,
                "params:semantic_id.motivation_weight",
            ],
            outputs=f"{prefix}semantic_id_input",
            name=f"assemble_{name}semantic_id_input",
        ),
        Node(
            nodes.residual_semantic_ids,
            inputs=[
                f"{prefix}semantic_id_input",
                "params:semantic_id",
                input_param,
                "item_motivation_assignment",
            ],
            outputs=[
                f"{prefix}item_semantic_ids",
                f"{prefix}residual_codebooks",
                f"{prefix}semantic_id_quality",
            ],
            name=f"fit_{name}residual_semantic_ids",
        ),
        Node(
            nodes.semantic_id_metrics,
            inputs=[f"{prefix}item_semantic_ids", f"{prefix}semantic_id_quality"],
            outputs=f"{prefix}semantic_id_metrics",
            name=f"{name}semantic_id_metrics",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    main = _residual_variant("", "params:semantic_id.input", "params:semantic_id.only_generated")
    text = _residual_variant(
        "text_", "params:semantic_id.ablations.text.input", "params:semantic_id.ablations.text.only_generated"
    )
    nospread = _residual_variant(
        "nospread_",
        "params:semantic_id.ablations.nospread.input",
        "params:semantic_id.ablations.nospread.only_generated",
    )
    outputs = [
        Node(
            nodes.export_semantic_id_table,
            inputs=["item_semantic_ids", "items"],
            outputs="semantic_id_table",
            name="export_semantic_id_table",
        ),
        Node(
            nodes.plot_codebook_utilisation,
            inputs=["semantic_id_quality", "params:semantic_id"],
            outputs="semantic_id_utilisation_plot",
            name="plot_codebook_utilisation",
        ),
        Node(
            nodes.cluster_semantic_ids,
            inputs=["item_motivation_assignment", "params:semantic_id.ablations.cluster.only_generated"],
            outputs="cluster_item_semantic_ids",
            name="cluster_semantic_ids",
        ),
        Node(
            nodes.text_motivation_item_vectors,
            inputs=SPREADING_OUTPUTS,
            outputs="text_motivation_item_vectors",
            name="text_motivation_item_vectors",
        ),
        Node(
            nodes.oracle_semantic_ids,
            inputs=[
                "items",
                "item_true_motivations",
                "spreading_encoder",
                "params:spreading.encoder",
                "params:semantic_id",
            ],
            outputs="oracle_item_semantic_ids",
            name="oracle_semantic_ids",
        ),
    ]
    return Pipeline([*main, *outputs, *text, *nospread])
