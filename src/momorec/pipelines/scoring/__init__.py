"""Scoring pipeline: register the best recommender as a served model, and batch-score users with it."""

from momorec.pipelines.scoring.pipeline import create_pipeline, create_registration_pipeline

__all__ = ["create_pipeline", "create_registration_pipeline"]
