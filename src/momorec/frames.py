"""The check on the tables that cross module boundaries.

Same signature and message as ``momorec.data.problems.require_columns`` (issue 12's data room), so once both
rooms are merged the callers here switch to that one by changing their import.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def require_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Raise ``ValueError`` naming ``where`` (the table), the missing columns and those found."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{where}: required column(s) {missing} not found; columns are {list(frame.columns)}"
        )
