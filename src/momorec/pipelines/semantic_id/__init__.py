"""The semantic_id pipeline."""

from momorec.pipelines.semantic_id.pipeline import create_pipeline

__all__ = ["create_pipeline"]
