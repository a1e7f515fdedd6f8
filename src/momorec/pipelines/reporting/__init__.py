"""The reporting pipeline."""

from momorec.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
