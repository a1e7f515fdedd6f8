"""The recommender as an MLflow pyfunc model: product-id histories in, top-k product ids and titles out.

Logged as code (``model_code.py``), with its weights, configuration and item table as artifacts; see
:mod:`momorec.serving.packaging` for the signature and :mod:`momorec.serving.requests` for the columns and
the checks every request goes through.
"""

from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from momorec.serving.artifacts import read_recommender
from momorec.serving.recommender import Recommender
from momorec.serving.requests import DEFAULT_K, RequestError, answer_requests


class RequestRefused(MlflowException):
    """A :class:`RequestError` as MLflow's scoring server answers it: HTTP 400 with our message only.

    MLflow 3's server rewrites the message of an ``MlflowException`` raised by ``predict`` to
    ``"Failed to predict data '<the whole input>'. Error: ..."`` (a 205 KB body for a 1,000-row request);
    any other exception becomes a 400 with the server's traceback. The message is therefore fixed when the
    exception is made: later assignments are ignored.
    """

    def __init__(self, message: str) -> None:
        self._reason = message
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)

    @property
    def message(self) -> str:
        return self._reason

    @message.setter
    def message(self, value: str) -> None:  # MlflowException.__init__ and the server assign it
        pass


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
            requests = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            return answer_requests(
                self.recommender,
                requests,
                mask_history=params.get("mask_history", True),
                default_k=params.get("default_k", DEFAULT_K),
            )
        except RequestError as error:
            raise RequestRefused(str(error)) from None  # no chained traceback to leak either
