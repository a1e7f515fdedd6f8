"""The data_engineering pipeline."""

from momorec.pipelines.data_engineering.pipeline import create_pipeline

__all__ = ["create_pipeline"]
