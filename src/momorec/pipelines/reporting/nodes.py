"""Turn the run's results into one report: Markdown tables, figures and a self-contained HTML page.

Every section is built from a dataset another pipeline produced, by the builder ``SECTION_BUILDERS`` names
for it (``momorec.reporting.sections``). A dataset the run did not produce is listed as missing in the
report; nothing is filled in for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from matplotlib.figure import Figure

from momorec.reporting.render import to_html, to_markdown
from momorec.reporting.sections import SECTION_BUILDERS, SECTION_SOURCES, Section

__all__ = ["SECTION_SOURCES", "build_report"]


def build_report(**sources: Any) -> tuple[str, str, dict[str, Figure]]:
    """Build the run report from whatever result datasets this run produced.

    Args:
        **sources: datasets by name (keys of ``SECTION_SOURCES``); absent ones are reported as missing.

    Returns:
        The Markdown report, the same report as one self-contained HTML page (figures inline), and the
        figures by file name (``<name>.png``) for the figures dataset.
    """
    unknown = set(sources) - set(SECTION_SOURCES)
    if unknown:
        raise ValueError(f"build_report got datasets it cannot present: {sorted(unknown)}")
    sections: list[Section] = []
    for name, title in SECTION_SOURCES.items():
        if name in sources:
            sections += SECTION_BUILDERS[name](title, sources[name])
    missing = [f"`{name}` ({title})" for name, title in SECTION_SOURCES.items() if name not in sources]
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # Keys are file names: the figures dataset saves each figure under its key.
    figures = {f"{name}.png": figure for section in sections for name, figure in section.figures.items()}
    return to_markdown(sections, missing, created), to_html(sections, missing, created), figures
