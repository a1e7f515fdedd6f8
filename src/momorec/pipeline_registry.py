"""The project's pipelines, registered under the names of the method's stages."""

from kedro.pipeline import Pipeline

from momorec.models.variants import VARIANT_SPECS
from momorec.pipelines import (
    alignment,
    data_engineering,
    layer_sweep,
    leak_canary,
    motivation,
    recommender,
    reporting,
    scoring,
    semantic_id,
    spreading,
)

# The order of the method: pairs -> agents -> clusters/spreading -> codes -> recommender -> report.
STAGES = {
    "data_engineering": data_engineering,
    "motivation": motivation,
    "spreading": spreading,
    "semantic_id": semantic_id,
    "recommender": recommender,
    "reporting": reporting,
}
FEATURE_STAGES = ("data_engineering", "motivation", "spreading", "semantic_id")


def register_pipelines() -> dict[str, Pipeline]:
    """Register every stage under its own name and the whole flow as ``__default__``.

    Besides the six stages, ``leak_canary`` rebuilds the features from full sequences for the recommender's
    canary variant. The recommender trains the variants whose input some pipeline produces, and the report
    presents what the others produce; anything else is reported as missing, never made up.

    ``alignment`` (LLM user profiles and re-ranking of SASRec's top-N; ``alignment_momorec`` re-ranks
    MoMoREC's) is too slow with the embedded model for the default run's budget: it is an explicit
    ``kedro run --pipeline alignment``, which also rebuilds the report with its results. So is
    ``layer_sweep`` (MoMoREC re-trained for 1 … L ID layers, the paper's Figure 6).
    """
    pipelines = {name: STAGES[name].create_pipeline() for name in FEATURE_STAGES}
    pipelines["leak_canary"] = leak_canary.create_pipeline()
    features = set().union(*(p.all_outputs() for p in pipelines.values()))
    variants = [
        name for name, spec in VARIANT_SPECS.items() if spec["input"] is None or spec["input"] in features
    ]
    # The best model goes to the registry as a served model in the same stage (momorec.serving).
    pipelines["recommender"] = (
        recommender.create_pipeline(variants=variants) + scoring.create_registration_pipeline()
    )
    produced = features | pipelines["recommender"].all_outputs()
    pipelines["reporting"] = reporting.create_pipeline(available=produced)
    pipelines["__default__"] = sum(pipelines.values(), start=Pipeline([]))

    # The same re-ranking on top of SASRec (``alignment``) or of MoMoREC (``alignment_momorec``, which also
    # needs ``item_semantic_ids``); both write the same datasets, whose ``base_model`` column says which.
    for name, base_variant in (("alignment", "sasrec"), ("alignment_momorec", "momorec")):
        reranking = alignment.create_pipeline(base_variant=base_variant)
        pipelines[name] = reranking + reporting.create_pipeline(available=produced | reranking.all_outputs())
    sweep = layer_sweep.create_pipeline()
    pipelines["layer_sweep"] = sweep + reporting.create_pipeline(available=produced | sweep.all_outputs())
    # Batch recommendations, from the registry's champion or from the last run's best model.
    pipelines["scoring"] = scoring.create_pipeline(model_source="registry")
    pipelines["scoring_from_run"] = scoring.create_pipeline(model_source="run")
    return pipelines
