"""Numbers in the form kedro-mlflow's ``MlflowMetricsHistoryDataset`` logs: ``{name: {"value": v, "step": 0}}``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any


def as_mlflow_metrics(values: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Every finite real number of ``values`` as a step-0 metric under its key; anything else (None, text,
    booleans, lists, NaN) is left out, since MLflow would reject it or log a meaningless value."""
    return {
        key: {"value": float(value), "step": 0}
        for key, value in values.items()
        if isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    }
