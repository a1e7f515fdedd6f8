"""Additive fusion: SASRec's item-ID embedding plus a zero-scaled, layer-normalised semantic-ID vector."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from momorec.models.layers import SummedCodeEmbedding, without_padding_row
from momorec.models.sasrec import SASRec


class AdditiveFusion(SASRec):
    """Item representation = ID embedding + scale ⊙ LayerNorm(W · Σ_layers code embedding).

    The semantic ID complements the item's own ID embedding instead of replacing it (the paper's MLP fusion,
    :class:`~momorec.models.momorec.MoMoREC`, sends every item through a bottleneck and loses on head items).
    ``scale`` is one learned weight per hidden dimension, initialised at zero, so the model starts as exactly
    SASRec and lets the codes in only as far as they help; an unscaled sum of the same vectors diverged on the
    built-in shop (issue 13). The layer norm gives the code vector a fixed size, so ``scale`` alone sets how
    much of it each dimension takes.
    """

    def __init__(
        self, n_items: int, item_codes: np.ndarray, code_embedding_size: int = 32, **sasrec_kwargs
    ) -> None:
        super().__init__(n_items, **sasrec_kwargs)
        self.codes = SummedCodeEmbedding(n_items, item_codes, code_embedding_size)
        self.code_projection = nn.Linear(code_embedding_size, self.hidden_size)
        self.code_norm = nn.LayerNorm(self.hidden_size, elementwise_affine=False)
        self.code_scale = nn.Parameter(torch.zeros(self.hidden_size))

    def item_representations(self, item_ids: torch.Tensor | None = None) -> torch.Tensor:
        code_vector = self.code_norm(self.code_projection(self.codes(item_ids)))
        # super(), not the ID table directly: a subclass that mixes in another term (AdaptorCodeFusion) adds
        # its own through the same chain.
        return without_padding_row(
            super().item_representations(item_ids) + self.code_scale * code_vector, item_ids
        )
