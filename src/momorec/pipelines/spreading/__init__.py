"""The spreading pipeline."""

from momorec.pipelines.spreading.pipeline import create_pipeline

__all__ = ["create_pipeline"]
