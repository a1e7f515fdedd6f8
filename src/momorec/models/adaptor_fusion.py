"""Adaptor fusion: frozen item vectors through whitening + a few experts, added to the ID embedding."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from momorec.models.layers import FastDropout, without_padding_row
from momorec.models.sasrec import SASRec


class MixtureOfWhiteningExperts(nn.Module):
    """UniSRec's adaptor (Hou et al., KDD'22), used by VQ-Rec too: experts (x − b_k) W_k mixed by softmax(x G).

    Each expert is a parametric whitening (a learned centre b_k and a linear map W_k, no bias); the gate G
    weighs the experts per item. The centres start at the mean of the input vectors rather than zero, so the
    experts see centred inputs from the first step. No gate noise: the adaptor runs once per step over the items the step needs.
    """

    def __init__(self, item_vectors: torch.Tensor, output_size: int, n_experts: int, dropout: float) -> None:
        super().__init__()
        if n_experts < 1:
            raise ValueError(f"n_experts must be >= 1, got {n_experts}")
        input_size = item_vectors.shape[1]
        mean = item_vectors.mean(0)
        self.centres = nn.Parameter(mean.repeat(n_experts, 1))
        self.experts = nn.Parameter(torch.empty(n_experts, input_size, output_size))
        nn.init.xavier_uniform_(self.experts.view(-1, output_size))
        self.gate = nn.Linear(input_size, n_experts, bias=False)
        nn.init.zeros_(self.gate.weight)  # equal weights at first
        self.dropout = FastDropout(dropout)

    def forward(self, item_vectors: torch.Tensor) -> torch.Tensor:
        x = self.dropout(item_vectors)
        n_experts, input_size, output_size = self.experts.shape
        # (n, experts, output): every expert's whitened projection of every item, as x W_k − b_k W_k. One
        # (n, d) × (d, experts · output) product is about 4× faster on CPU, forward and backward, than
        # projecting an (n, experts, d) tensor of centred copies (the adaptor runs over many items every step).
        stacked = self.experts.permute(1, 0, 2).reshape(input_size, n_experts * output_size)
        projected = (x @ stacked).view(-1, n_experts, output_size)
        whitened = projected - torch.einsum("kd,kdo->ko", self.centres, self.experts)
        weights = torch.softmax(self.gate(x), dim=-1)
        return (weights[..., None] * whitened).sum(1)


class AdaptorFusion(SASRec):
    """Item representation = ID embedding + scale ⊙ LayerNorm(adaptor(frozen item vector)).

    ``item_vectors`` (n_items, d) are fixed, e.g. the item text embeddings, each item's motivation embedding
    or both side by side; they are a buffer, never trained. Only the adaptor learns how to read them, so an
    item with no training interactions still gets a useful representation from its text. ``scale`` (one
    weight per hidden dimension) starts at zero: the model starts as exactly SASRec, like
    :class:`~momorec.models.additive_fusion.AdditiveFusion`. Items whose vector is all zero (no text, no
    motivation) still receive the adaptor's output for a zero input, shared by all such items.
    """

    def __init__(
        self,
        n_items: int,
        item_vectors: np.ndarray,
        n_experts: int = 4,
        adaptor_dropout: float = 0.2,
        **sasrec_kwargs,
    ) -> None:
        super().__init__(n_items, **sasrec_kwargs)
        vectors = np.asarray(item_vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != n_items or vectors.shape[1] == 0:
            raise ValueError(f"item_vectors: shape {vectors.shape}, expected ({n_items}, d >= 1)")
        if not np.isfinite(vectors).all():
            raise ValueError("item_vectors: NaN or inf values (a missing vector must be a zero row)")
        # Row 0 is the padding token, so the buffer lines up with the item-ID embedding table.
        padded = torch.as_tensor(np.vstack([np.zeros((1, vectors.shape[1]), np.float32), vectors]))
        self.register_buffer("item_vectors", padded)
        self.adaptor = MixtureOfWhiteningExperts(padded[1:], self.hidden_size, n_experts, adaptor_dropout)
        self.adapted_norm = nn.LayerNorm(self.hidden_size, elementwise_affine=False)
        self.adapted_scale = nn.Parameter(torch.zeros(self.hidden_size))

    def item_representations(self, item_ids: torch.Tensor | None = None) -> torch.Tensor:
        # The frozen vectors are gathered, so a step pays the adaptor for the items it scores only.
        vectors = self.item_vectors if item_ids is None else self.item_vectors[item_ids]
        adapted = self.adapted_norm(self.adaptor(vectors))
        return without_padding_row(
            super().item_representations(item_ids) + self.adapted_scale * adapted, item_ids
        )
