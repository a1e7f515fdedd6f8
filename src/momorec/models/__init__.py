"""Sequential recommenders written for this project: one model per file, one shared trainer."""

from momorec.models.momorec import MoMoREC, semantic_id_matrix
from momorec.models.sasrec import SASRec
from momorec.models.sequences import UserSequences
from momorec.models.trainer import TrainingConfig, TrainingResult, fit, model_score_fn

__all__ = [
    "MoMoREC",
    "SASRec",
    "TrainingConfig",
    "TrainingResult",
    "UserSequences",
    "fit",
    "model_score_fn",
    "semantic_id_matrix",
]
