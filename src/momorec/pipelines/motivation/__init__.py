"""The motivation pipeline."""

from momorec.pipelines.motivation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
