"""The leak canary: the feature stages re-run on full sequences, test items included.

The honest flow builds co-purchase pairs, motivations, clusters, spreading and codebooks from
``train_interactions`` only. This pipeline re-uses the very same nodes under the ``leak_canary`` namespace
but feeds the pair builder ``interactions`` (every split), so validation and test transitions reach the
LLM agents and everything downstream. The recommender trains its ``leak_canary`` variant on the resulting
``leak_canary_item_semantic_ids``; the gap to the honest ``momorec`` variant shows how much a leaky
pipeline would overstate the method. It is an ablation, never a headline.

Evaluation-only nodes (ground-truth agreement, spreading accuracy, ID quality plots) are left out: the
canary exists to produce one ID table. Its intermediates are declared by the ``leak_canary.{name}`` dataset
factory in ``conf/base/catalog_leak_canary.yml``. Item text embeddings do not depend on interactions and
and the sentence encoder are shared with the honest run; so is the LLM call cache, which makes the canary's calls for pairs that the
honest run already saw free.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline

from momorec.pipelines import data_engineering, motivation, semantic_id, spreading

NAMESPACE = "leak_canary"

# Datasets the canary shares with the honest run instead of rebuilding them.
SHARED_INPUTS = {
    "interactions",  # full sequences: the leak, on purpose (the pair builder's train_interactions input)
    "items",
    "item_true_motivations",
    "llm_cache",
    "item_text_embeddings",
    "spreading_encoder",  # the sentence encoder (tuned on training pairs when tuning is on)
    "llm_estimate",  # the honest run's estimate lists the canary's extra calls; the canary waits for it
}
# Nodes of the honest run only: the LLM estimate already covers the canary's share.
HONEST_ONLY_NODES = {"estimate_llm_calls"}
# Nodes that only evaluate or plot: not needed to produce the canary's ID table.
EVALUATION_NODES = {
    "evaluate_motivation_agreement",
    "summarise_llm_usage",
    "evaluate_ground_truth_input",
    "evaluate_generated_motivations",
    "report_spreading_evaluation",
    "embed_item_texts",
    "prepare_encoder",
}


def _feature_nodes() -> Pipeline:
    pairs = data_engineering.create_pipeline().only_nodes("build_copurchase_pairs")
    stages = pairs + motivation.create_pipeline() + spreading.create_pipeline()
    stages = stages.to_outputs("item_motivation_assignment", "motivation_clusters", "motivation_embeddings")
    kept = [node for node in stages.nodes if node.name not in EVALUATION_NODES | HONEST_ONLY_NODES]
    sid = semantic_id.create_pipeline().to_outputs("item_semantic_ids")
    return Pipeline(kept) + sid


def create_pipeline(**kwargs) -> Pipeline:
    features = _feature_nodes()
    # The pair builder reads train_interactions in the honest flow; here it reads every split.
    rewired = Pipeline(features, inputs={"train_interactions": "interactions"})
    shared = (SHARED_INPUTS & rewired.inputs()) - {"interactions"}
    return Pipeline(
        rewired,
        namespace=NAMESPACE,
        inputs={"interactions", *shared},
        outputs={"item_semantic_ids": "leak_canary_item_semantic_ids"},
        # Same settings as the honest run: only the interactions differ.
        parameters={name for name in rewired.inputs() if name.startswith("params:")},
    )
