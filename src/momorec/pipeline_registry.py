"""The project's pipelines, registered under the names of the method's stages."""

from kedro.pipeline import Pipeline

from momorec.models.variants import VARIANT_SPECS, variant_inputs
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
    tuning,
)
from momorec.reporting.summary import CANARY_STAGE_USAGES

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


def as_modular_pipeline(pipeline: Pipeline, namespace: str) -> Pipeline:
    """``pipeline`` as the modular pipeline ``namespace``: its nodes are named ``namespace.<node>`` (so
    Kedro-Viz draws the stage as one collapsible box and ``kedro run --namespaces <stage>`` selects it), while
    its datasets and parameters keep their names, so the catalog and the files on disk are unchanged."""
    return Pipeline(pipeline, namespace=namespace, prefix_datasets_with_namespace=False)


def variants_with_inputs(available: set[str]) -> list[str]:
    """The recommender variants whose input datasets (none, one or several) are all in ``available``, in
    ``VARIANT_SPECS`` order."""
    return [name for name in VARIANT_SPECS if set(variant_inputs(name)) <= available]


def register_pipelines() -> dict[str, Pipeline]:
    """Register every stage under its own name and the whole flow as ``__default__``.

    Besides the six stages, ``leak_canary`` rebuilds the features from full sequences for the recommender's
    canary variant. ``recommender`` trains the variants whose input a feature stage produces (never the
    canary, so it runs on persisted stage outputs alone); ``recommender_with_canary`` (in ``__default__``)
    adds the canary. The report presents what the others produce; anything else is reported as missing,
    never made up.

    ``alignment`` (LLM user profiles and re-ranking of SASRec's top-N; ``alignment_momorec`` re-ranks
    MoMoREC's) is too slow with the embedded model for the default run's budget: it is an explicit
    ``kedro run --pipeline alignment``, which also rebuilds the report with its results. So is
    ``layer_sweep`` (MoMoREC re-trained for 1 … L ID layers, the paper's Figure 6).

    Every pipeline's nodes sit in the namespace of their stage (``semantic_id.fit_motivation_residual_semantic_ids``,
    ``recommender.train_and_evaluate_sasrec``, ``reporting.build_report``; the canary's in ``leak_canary``), so
    Kedro-Viz's top level reads data_engineering → motivation → spreading → semantic_id → recommender →
    reporting with the datasets between them. Dataset names are never prefixed (see ``as_modular_pipeline``).
    """
    pipelines = {name: as_modular_pipeline(STAGES[name].create_pipeline(), name) for name in FEATURE_STAGES}
    features = set().union(*(p.all_outputs() for p in pipelines.values()))
    pipelines["leak_canary"] = leak_canary.create_pipeline()
    canary_features = pipelines["leak_canary"].all_outputs()
    # `recommender` reads only the feature stages' (persisted) outputs, so `kedro run --pipeline recommender`
    # works on an earlier run's outputs without the canary; `recommender_with_canary` adds the canary variant
    # (its input comes from `leak_canary`) and is the one the default run uses. Both register the best model
    # as a served model in the same stage (momorec.serving).
    registration = scoring.create_registration_pipeline()
    pipelines["recommender"] = as_modular_pipeline(
        recommender.create_pipeline(variants=variants_with_inputs(features)) + registration, "recommender"
    )
    pipelines["recommender_with_canary"] = as_modular_pipeline(
        recommender.create_pipeline(variants=variants_with_inputs(features | canary_features)) + registration,
        "recommender",
    )
    produced = features | canary_features | pipelines["recommender_with_canary"].all_outputs()
    # The default run's report also states the leak canary's LLM calls (it ran in the same run). A report
    # rebuilt later (`--pipeline reporting`, alignment, layer_sweep) does not read them: they exist only after
    # a run that included the canary.
    rereport = produced - set(CANARY_STAGE_USAGES.values())
    pipelines["reporting"] = _report(rereport)
    default_parts = [*FEATURE_STAGES, "leak_canary", "recommender_with_canary"]
    pipelines["__default__"] = sum((pipelines[name] for name in default_parts), start=Pipeline([])) + _report(
        produced
    )
    # The default run without the leak canary (no repeated LLM calls on a paid endpoint: leak_canary.enabled);
    # the report lists the canary variant as not run.
    honest = sum((pipelines[name] for name in [*FEATURE_STAGES, "recommender"]), start=Pipeline([]))
    pipelines["without_leak_canary"] = honest + _report(features | pipelines["recommender"].all_outputs())

    # The same re-ranking on top of SASRec (``alignment``) or of MoMoREC (``alignment_momorec``, which also
    # needs ``item_semantic_ids``); both write the same datasets, whose ``base_model`` column says which.
    for name, base_variant in (("alignment", "sasrec"), ("alignment_momorec", "momorec")):
        reranking = as_modular_pipeline(alignment.create_pipeline(base_variant=base_variant), "alignment")
        pipelines[name] = reranking + _report(rereport | reranking.all_outputs())
    # The fair hyperparameter search (momorec.tuning): its best settings are a parameters file to adopt.
    pipelines["tuning"] = as_modular_pipeline(
        tuning.create_pipeline(variants=variants_with_inputs(features)), "tuning"
    )
    sweep = as_modular_pipeline(layer_sweep.create_pipeline(), "layer_sweep")
    pipelines["layer_sweep"] = sweep + _report(rereport | sweep.all_outputs())
    # Batch recommendations, from the registry's champion or from the last run's best model.
    pipelines["scoring"] = as_modular_pipeline(scoring.create_pipeline(model_source="registry"), "scoring")
    pipelines["scoring_from_run"] = as_modular_pipeline(
        scoring.create_pipeline(model_source="run"), "scoring"
    )
    return pipelines


def _report(available: set[str]) -> Pipeline:
    return as_modular_pipeline(reporting.create_pipeline(available=available), "reporting")
