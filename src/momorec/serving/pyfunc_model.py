"""The recommender as an MLflow pyfunc model: product-id histories in, top-k product ids and titles out.

Logged as code (``model_code.py``), with its weights, configuration and item table as artifacts; see
:mod:`momorec.serving.packaging` for the signature and :mod:`momorec.serving.requests` for the columns.
"""

from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException

from momorec.serving.artifacts import read_recommender
from momorec.serving.recommender import Recommender
from momorec.serving.requests import DEFAULT_K, RequestError, answer_requests


class RecommenderModel(mlflow.pyfunc.PythonModel):
    """Loads the packaged network once; ``predict`` answers one row per request (history masked by default).

    Params (per call): ``mask_history`` (default true), ``default_k`` (for rows without ``k``, default 10).
    """

    recommender: Recommender

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.recommender = read_recommender(context.artifacts)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        params = params or {}
        try:
            return answer_requests(
                self.recommender,
                pd.DataFrame(model_input),
                mask_history=bool(params.get("mask_history", True)),
                default_k=int(params.get("default_k", DEFAULT_K)),
            )
        except RequestError as error:  # the server answers 400 with this message, not 500
            raise MlflowException.invalid_parameter_value(str(error)) from error
