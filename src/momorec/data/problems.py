"""The one problem log of the data stage, and the one check for required columns.

Readers and validation both count what they cannot use, per problem, with the first few examples: a reader
keeps line numbers (``first_lines``), validation keeps the offending rows (``examples``). Nothing is dropped
or repaired without an entry here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: How many examples (line numbers or rows) each problem keeps.
MAX_EXAMPLES = 5


class LogFormatError(ValueError):
    """A source file cannot be used: it is missing, empty, lacks required fields or is mostly unparseable."""


def require_columns(
    frame: pd.DataFrame,
    columns: Sequence[str],
    where: str | Path,
    *,
    table: str | None = None,
    error: type[Exception] = ValueError,
    hint: str = "",
) -> None:
    """Raise ``error`` naming ``where`` (a file or source), the table, the missing columns and those found."""
    missing = [column for column in columns if column not in frame.columns]
    if not missing:
        return
    found = f"columns are {list(frame.columns)}{hint}"
    if table:
        raise error(f"{where}: {table} lacks required column(s) {missing}; {found}")
    raise error(f"{where}: missing column(s) {missing}; {found}")


def row_examples(frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> list[dict[str, Any]]:
    """The first few rows selected by ``mask`` as JSON-safe dicts."""
    rows = frame[np.asarray(mask, dtype=bool)].head(MAX_EXAMPLES)
    return json.loads(rows.to_json(orient="records", date_format="iso"))


class ProblemLog:
    """Problems of one source (a file or a table): per problem a count and the first few examples.

    ``example_key`` names the examples in the report: ``first_lines`` for a reader's 1-based line numbers,
    ``examples`` for validation's rows. ``rows_read`` / ``rows_kept`` and ``notes`` describe a file.
    """

    def __init__(self, path: str | Path, example_key: str = "first_lines") -> None:
        self.path = str(path)
        self.example_key = example_key
        self.rows_read = 0
        self.rows_kept = 0
        self.problems: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, Any] = {}

    def add(self, problem: str, line_numbers: Any, count: int | None = None) -> None:
        """Record ``problem`` at the given 1-based line numbers (a number or any iterable of them)."""
        lines = [int(x) for x in np.atleast_1d(np.asarray(line_numbers))]
        self.add_examples(problem, lines, len(lines) if count is None else count)

    def add_rows(self, problem: str, frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> None:
        """Record the rows of ``frame`` selected by ``mask``, keeping the first few as examples."""
        mask = np.asarray(mask, dtype=bool)
        count = int(mask.sum())
        if count:
            self.add_examples(problem, row_examples(frame, mask), count)

    def add_examples(self, problem: str, examples: Iterable[Any], count: int) -> None:
        """Add ``count`` occurrences of ``problem``; the first ``MAX_EXAMPLES`` examples are kept."""
        if count == 0:
            return
        entry = self.problems.setdefault(problem, {"count": 0, self.example_key: []})
        entry["count"] += count
        room = MAX_EXAMPLES - len(entry[self.example_key])
        if room > 0:
            entry[self.example_key].extend(list(examples)[:room])

    def set(self, problem: str, entry: dict[str, Any]) -> None:
        """Record a problem whose report is more than a count and examples (its ``count`` is required)."""
        self.problems[problem] = entry

    def counts(self) -> dict[str, int]:
        return {name: problem["count"] for name, problem in self.problems.items()}

    def summary(self) -> str:
        if not self.problems:
            return "no problems recorded"
        return "; ".join(
            f"{name}: {p['count']} (first lines {p[self.example_key]})" for name, p in self.problems.items()
        )

    def log(self, logger: logging.Logger, stage: str) -> None:
        """One warning per problem, so what was dropped or repaired is visible in the run's log."""
        for name, problem in self.problems.items():
            logger.warning("%s (%s) %s: %s", stage, self.path, name, problem["count"])

    def check_usable(self, max_bad_fraction: float, what: str = "rows") -> None:
        """Raise when the file gave nothing usable or more than ``max_bad_fraction`` of it was unusable."""
        if self.rows_read == 0:
            raise LogFormatError(f"{self.path}: the file is empty (no {what} to read)")
        if self.rows_kept == 0:
            raise LogFormatError(f"{self.path}: no usable {what} out of {self.rows_read}; {self.summary()}")
        bad = self.rows_read - self.rows_kept
        if bad / self.rows_read > max_bad_fraction:
            raise LogFormatError(
                f"{self.path}: {bad} of {self.rows_read} {what} are unusable "
                f"(more than {max_bad_fraction:.0%}); {self.summary()}"
            )

    def as_dict(self) -> dict[str, Any]:
        out = {"rows_read": self.rows_read, "rows_kept": self.rows_kept, "problems": self.problems}
        out.update(self.notes)
        return out
