"""The leak canary: interaction-derived features rebuilt from full sequences, on purpose."""

from momorec.pipelines.leak_canary.pipeline import create_pipeline

__all__ = ["create_pipeline"]
