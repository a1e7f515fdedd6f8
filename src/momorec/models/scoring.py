"""How a sequence state and an item representation become a score: a dot product, or a temperature-scaled cosine.

Every model of the family scores the same way in training (full or sampled softmax, BCE) and in ranking:
``query(hidden) @ keys(item_table).T``. ``dot`` keeps both as they are (SASRec's original scoring).
``cosine`` normalises both to unit length and divides the query by a temperature τ, so a score lies in
[-1/τ, 1/τ]: the text-based sequential recommenders (UniSRec, VQ-Rec, MISSRec) train this way, and on sparse
catalogues it stops popular items from winning by the length of their vectors alone. τ is a model setting
(``recommender.model.temperature``), chosen on validation like every other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SCORINGS = ("dot", "cosine")


class DotProductScoring(nn.Module):
    """Scores are plain dot products: query and keys unchanged."""

    def query(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden

    def keys(self, item_table: torch.Tensor) -> torch.Tensor:
        return item_table


class CosineScoring(nn.Module):
    """Scores are cosine similarities divided by ``temperature``. A zero vector (the padding row) stays zero."""

    def __init__(self, temperature: float) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"recommender.model.temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)

    def query(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.normalize(hidden, dim=-1) / self.temperature

    def keys(self, item_table: torch.Tensor) -> torch.Tensor:
        return F.normalize(item_table, dim=-1)


def make_scoring(scoring: str, temperature: float) -> nn.Module:
    """The scoring module that ``recommender.model.scoring`` names."""
    if scoring == "dot":
        return DotProductScoring()
    if scoring == "cosine":
        return CosineScoring(temperature)
    raise ValueError(f"recommender.model.scoring must be one of {SCORINGS}, got {scoring!r}")
