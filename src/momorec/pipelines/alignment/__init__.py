"""The alignment pipeline: motivation profiles, item traits and alignment re-ranking (issue 7)."""

from momorec.pipelines.alignment.pipeline import create_pipeline

__all__ = ["create_pipeline"]
