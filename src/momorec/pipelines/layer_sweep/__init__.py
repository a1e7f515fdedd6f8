"""The sweep over the number of semantic-ID layers the recommender uses (the paper's Figure 6)."""

from momorec.pipelines.layer_sweep.pipeline import create_pipeline

__all__ = ["create_pipeline"]
