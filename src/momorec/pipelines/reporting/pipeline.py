"""Wiring of the reporting pipeline: the registered model's run described, then one report node fed by
every result dataset the run produces."""

from collections.abc import Iterable

from kedro.pipeline import Pipeline, node

from momorec.pipelines.reporting.nodes import REPORT_SOURCES, build_report, describe_training_run
from momorec.reporting.summary import CANARY_STAGE_USAGES

# What ``describe_training_run`` reads: the registration node's output and this run's curves.
TRAINING_RUN_INPUTS = ["recommender_registry_entry", "recommender_training_curves"]


def create_pipeline(available: Iterable[str] | None = None, **kwargs) -> Pipeline:
    """Build the report from the result datasets in ``available`` (all known ones when None).

    The registry passes the outputs of the other pipelines, so a dataset no pipeline produces is reported
    as missing rather than failing the run or being filled in.
    """
    produced = set(TRAINING_RUN_INPUTS) | set(REPORT_SOURCES) if available is None else set(available)
    nodes = []
    if set(TRAINING_RUN_INPUTS) <= produced:
        nodes.append(
            node(
                describe_training_run,
                inputs=TRAINING_RUN_INPUTS,
                outputs="report_training_run",
                name="describe_training_run",
            )
        )
        produced.add("report_training_run")
    # A source is the dataset of its name, or, for the leak canary's stage usages, the namespaced dataset.
    datasets = {name: CANARY_STAGE_USAGES.get(name, name) for name in REPORT_SOURCES}
    if available is None:
        produced |= set(datasets.values())
    names = [name for name in REPORT_SOURCES if datasets[name] in produced]
    nodes.append(
        node(
            build_report,
            inputs={name: datasets[name] for name in names},
            outputs=["report_markdown", "report_html", "report_figures"],
            name="build_report",
        )
    )
    return Pipeline(nodes)
