"""Render report sections as Markdown (figures linked) and as one self-contained HTML page (figures inline).

Section text is a small Markdown subset (paragraphs, ``- `` bullet lines, ``code`` and **bold**), written
as it is into the Markdown report and converted for the HTML page. Tables longer than ``FOLD_ROWS`` rows are
folded (``<details>``) in the HTML page.
"""

from __future__ import annotations

import base64
import html
import re

import pandas as pd

from momorec.reporting.plots import png_bytes
from momorec.reporting.sections import Section
from momorec.reporting.tables import readable

FOLD_ROWS = 12
# A cell of a number column: a number (with separators, sign, %, ± spread) or a missing-value mark.
_NUMBER = re.compile(r"[+-]?\d[\d,.]*(e[+-]?\d+)?%?( .*)?|—|n/a( .*)?")
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1320px;margin:2em auto;padding:0 1em;color:#222;"
    "line-height:1.45}"
    "h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}h3{font-size:1em;margin:1.2em 0 .3em}"
    "table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:.85em}"
    "td,th{border:1px solid #ccc;padding:.25em .45em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}td.num,th.num{text-align:right}td.num{white-space:nowrap}"
    ".wide{overflow-x:auto}"
    "tbody tr:nth-child(even){background:#fafafa}"
    "code{background:#f3f3f3;padding:0 .2em;border-radius:3px;font-size:.92em}"
    "details{margin:.3em 0 1em}summary{cursor:pointer;color:#335;font-weight:600}"
    "#summary+ul li{margin:.35em 0}"
    "img{max-width:100%}"
)


def _markdown_section(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    if section.text:
        lines += [section.text, ""]
    for caption, table in section.tables:
        if caption != section.title:
            lines += [f"**{caption}**", ""]
        lines += [
            readable(table).to_markdown(index=False, disable_numparse=True)
            if not table.empty
            else "_(empty)_",
            "",
        ]
    if section.after:
        lines += [section.after, ""]
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


def inline_html(text: str) -> str:
    """One line of the Markdown subset as HTML: escaped, with ``code`` and **bold**."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


def text_html(text: str) -> str:
    """Paragraphs and ``- `` bullet lists of the Markdown subset as HTML."""
    parts: list[str] = []
    bullets: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("- "):
            bullets.append(f"<li>{inline_html(line[2:])}</li>")
            continue
        if bullets:
            parts.append("<ul>" + "".join(bullets) + "</ul>")
            bullets = []
        if line.strip():
            parts.append(f"<p>{inline_html(line)}</p>")
    return "\n".join(parts)


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def table_html(table: pd.DataFrame) -> str:
    """A table as HTML: cells as ``readable`` writes them, number columns right-aligned, text left."""
    cells = readable(table)
    numeric = [
        bool(len(cells)) and all(_NUMBER.fullmatch(str(cell)) for cell in cells[column])
        for column in cells.columns
    ]
    align = lambda is_number: " class='num'" if is_number else ""  # noqa: E731
    head = "".join(
        f"<th{align(n)}>{inline_html(str(c))}</th>" for c, n in zip(cells.columns, numeric, strict=True)
    )
    rows = "".join(
        "<tr>"
        + "".join(f"<td{align(n)}>{inline_html(str(v))}</td>" for v, n in zip(row, numeric, strict=True))
        + "</tr>"
        for row in cells.itertuples(index=False)
    )
    return f"<div class='wide'><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"


def _table_html(caption: str, table: pd.DataFrame, show_caption: bool) -> str:
    body = table_html(table) if not table.empty else "<p><em>(empty)</em></p>"
    if len(table) > FOLD_ROWS:
        return f"<details><summary>{inline_html(caption)} ({len(table)} rows)</summary>{body}</details>"
    return (f"<h3>{inline_html(caption)}</h3>" if show_caption else "") + body


def _html_section(section: Section) -> list[str]:
    parts = [f"<h2 id='{_anchor(section.title)}'>{html.escape(section.title)}</h2>"]
    if section.text:
        parts.append(text_html(section.text))
    for caption, table in section.tables:
        parts.append(_table_html(caption, table, caption != section.title))
    if section.after:
        parts.append(text_html(section.after))
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
    parts.append("<h2 id='missing-from-this-run'>Missing from this run</h2><ul>")
    parts += [
        f"<li>{inline_html(item)}: not produced by the pipelines of this run</li>" for item in missing
    ] or ["<li>nothing</li>"]
    parts.append("</ul></body></html>")
    return "\n".join(parts)
