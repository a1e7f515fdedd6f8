"""Wiring of the reporting pipeline: one report node fed by every result dataset the run produces."""

from collections.abc import Iterable

from kedro.pipeline import Pipeline, node

from momorec.pipelines.reporting.nodes import SECTION_SOURCES, build_report


def create_pipeline(available: Iterable[str] | None = None, **kwargs) -> Pipeline:
    """Build the report from the result datasets in ``available`` (all known ones when None).

    The registry passes the outputs of the other pipelines, so a dataset no pipeline produces is reported
    as missing rather than failing the run or being filled in.
    """
    names = (
        list(SECTION_SOURCES) if available is None else [n for n in SECTION_SOURCES if n in set(available)]
    )
    return Pipeline(
        [
            node(
                build_report,
                inputs={name: name for name in names},
                outputs=["report_markdown", "report_html", "report_figures"],
                name="build_report",
            )
        ]
    )
