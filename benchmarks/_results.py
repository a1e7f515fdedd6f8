"""Shared helper for benchmark scripts: each owns one section of benchmarks/RESULTS.md."""

from __future__ import annotations

import platform
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nEach section is written by the script it names; re-run the script to refresh it.\n"


def machine_line() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(topic: str, script: str, table: pd.DataFrame, notes: str = "") -> str:
    """Print ``table`` and replace the section ``topic`` of RESULTS.md with it (other sections are kept)."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"## {topic}\n\n`python {script}` — {when}, {machine_line()}\n\n"
        f"{table.to_markdown(index=False)}\n\n{notes.strip()}\n"
    )
    print(body)
    start, end = f"<!-- bench:{topic} -->", f"<!-- /bench:{topic} -->"
    block = f"{start}\n{body}{end}"
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    )
    RESULTS.write_text(text)
    return body
