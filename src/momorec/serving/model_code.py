"""The file MLflow logs as the model's code (models from code): it only names the model object."""

from mlflow.models import set_model

from momorec.serving.pyfunc_model import RecommenderModel

set_model(RecommenderModel())
