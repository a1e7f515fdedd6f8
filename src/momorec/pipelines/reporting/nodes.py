"""Turn the run's results into one report: Markdown tables, figures and a self-contained HTML page.

The report opens with a summary (``momorec.reporting.summary``); then every section is built from a dataset
another pipeline produced, by the builder ``SECTION_BUILDERS`` names for it (``momorec.reporting.sections``).
A dataset the run did not produce is listed as missing in the report; nothing is filled in for it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from momorec.reporting.render import to_html, to_markdown
from momorec.reporting.sections import SECTION_BUILDERS, SECTION_SOURCES, Section
from momorec.reporting.summary import SUMMARY_SOURCES, summary_section
from momorec.reporting.tables import without_machine_paths
from momorec.reporting.training_run import describe_training_run

__all__ = ["REPORT_SOURCES", "SECTION_SOURCES", "build_report", "describe_training_run"]

# Every dataset the report reads: the sections' and the summary's.
REPORT_SOURCES: dict[str, str] = SECTION_SOURCES | SUMMARY_SOURCES


def _portable(section: Section, root: Path) -> Section:
    """The section with no path of this machine in its text, captions or cells."""
    clean = lambda text: without_machine_paths(text, root)  # noqa: E731
    return replace(
        section,
        title=clean(section.title),
        text=clean(section.text),
        after=clean(section.after),
        tables=[
            (clean(caption), table.map(lambda cell: clean(cell) if isinstance(cell, str) else cell))
            for caption, table in section.tables
        ],
    )


def build_report(**sources: Any) -> tuple[str, str, dict[str, Figure]]:
    """Build the run report from whatever result datasets this run produced.

    Args:
        **sources: datasets by name (keys of ``REPORT_SOURCES``); absent ones are reported as missing.

    Returns:
        The Markdown report, the same report as one self-contained HTML page (figures inline), and the
        figures by file name (``<name>.png``) for the figures dataset.
    """
    unknown = set(sources) - set(REPORT_SOURCES)
    if unknown:
        raise ValueError(f"build_report got datasets it cannot present: {sorted(unknown)}")
    sections: list[Section] = [summary_section(sources)]
    for name, title in SECTION_SOURCES.items():
        if name in sources:
            sections += SECTION_BUILDERS[name](title, sources[name])
    sections = [_portable(section, Path.cwd()) for section in sections]
    missing = [f"`{name}` ({title})" for name, title in REPORT_SOURCES.items() if name not in sources]
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # Keys are file names: the figures dataset saves each figure under its key.
    figures = {f"{name}.png": figure for section in sections for name, figure in section.figures.items()}
    return to_markdown(sections, missing, created), to_html(sections, missing, created), figures
