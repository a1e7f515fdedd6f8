"""The ``tuning`` pipeline: a fair hyperparameter search per recommender variant (momorec.tuning)."""

from momorec.pipelines.tuning.pipeline import create_pipeline

__all__ = ["create_pipeline"]
