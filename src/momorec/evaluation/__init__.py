"""One evaluator for every recommender variant: full ranking in chunks, metrics, user segments."""

from momorec.evaluation.evaluator import evaluate_split, segment_metrics
from momorec.evaluation.metrics import METRICS, metric_values, target_ranks
from momorec.evaluation.ranking import rank_targets_chunked, top_k_chunked
from momorec.evaluation.segments import user_segments

__all__ = [
    "METRICS",
    "evaluate_split",
    "metric_values",
    "rank_targets_chunked",
    "segment_metrics",
    "target_ranks",
    "top_k_chunked",
    "user_segments",
]
