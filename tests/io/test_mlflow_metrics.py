"""as_mlflow_metrics keeps finite real numbers only, in kedro-mlflow's metric form."""

from __future__ import annotations

import numpy as np

from momorec.io.mlflow_metrics import as_mlflow_metrics


def test_finite_numbers_become_step_zero_metrics_and_everything_else_is_left_out():
    values = {
        "calls": 3,
        "share": 0.25,
        "numpy": np.float32(1.5),
        "numpy_int": np.int64(7),
        "flag": True,
        "missing": None,
        "nan": float("nan"),
        "inf": float("inf"),
        "name": "grounding",
        "interval": [0.1, 0.2],
    }
    assert as_mlflow_metrics(values) == {
        "calls": {"value": 3.0, "step": 0},
        "share": {"value": 0.25, "step": 0},
        "numpy": {"value": 1.5, "step": 0},
        "numpy_int": {"value": 7.0, "step": 0},
    }
    assert as_mlflow_metrics({}) == {}
