"""Render report sections as Markdown (figures linked) and as one self-contained HTML page (figures inline)."""

from __future__ import annotations

import base64
import html

from momorec.reporting.plots import png_bytes
from momorec.reporting.sections import Section
from momorec.reporting.tables import readable

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}"
    "img{max-width:100%}"
)


def _markdown_section(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    if section.text:
        lines += [section.text, ""]
    for caption, table in section.tables:
        if len(section.tables) > 1 or caption != section.title:
            lines += [f"**{caption}**", ""]
        lines += [
            readable(table).to_markdown(index=False, disable_numparse=True)
            if not table.empty
            else "_(empty)_",
            "",
        ]
    lines += [f"![{name}](figures/{name}.png)" for name in section.figures]
    if section.figures:
        lines.append("")
    return lines


def to_markdown(sections: list[Section], missing: list[str], created: str) -> str:
    """The report as Markdown; figures are linked as ``figures/<name>.png``."""
    lines = ["# momorec run report", "", f"Created {created}.", ""]
    for section in sections:
        lines += _markdown_section(section)
    lines += ["## Missing from this run", ""]
    lines += [f"- {item}: not produced by the pipelines of this run" for item in missing] or ["- nothing"]
    return "\n".join(lines) + "\n"


def _html_section(section: Section) -> list[str]:
    parts = [f"<h2>{html.escape(section.title)}</h2>"]
    if section.text:
        parts.append(f"<p>{html.escape(section.text)}</p>")
    for caption, table in section.tables:
        if caption != section.title:
            parts.append(f"<h3>{html.escape(caption)}</h3>")
        parts.append(
            readable(table).to_html(index=False, border=0) if not table.empty else "<p><em>(empty)</em></p>"
        )
    for name, figure in section.figures.items():
        encoded = base64.b64encode(png_bytes(figure)).decode("ascii")
        parts.append(f"<p><img alt='{name}' src='data:image/png;base64,{encoded}'></p>")
    return parts


def to_html(sections: list[Section], missing: list[str], created: str) -> str:
    """The report as one HTML page with every figure inlined as a PNG data URL."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>momorec run report</title>"
        f"<style>{_STYLE}</style></head><body><h1>momorec run report</h1><p>Created {created}.</p>"
    ]
    for section in sections:
        parts += _html_section(section)
    parts.append("<h2>Missing from this run</h2><ul>")
    parts += [
        f"<li>{html.escape(item)}: not produced by the pipelines of this run</li>" for item in missing
    ] or ["<li>nothing</li>"]
    parts.append("</ul></body></html>")
    return "\n".join(parts)
