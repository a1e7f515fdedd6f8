"""The recommender pipeline."""

from momorec.pipelines.recommender.pipeline import create_pipeline

__all__ = ["create_pipeline"]
