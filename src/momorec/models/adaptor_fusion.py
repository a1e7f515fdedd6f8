"""Adaptor fusion: frozen item vectors through whitening + a few experts, added to the ID embedding."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from momorec.models.layers import cheap_keep_mask, without_padding_row
from momorec.models.sasrec import SASRec


class MixtureOfWhiteningExperts(nn.Module):
    """UniSRec's adaptor (Hou et al., KDD'22), used by VQ-Rec too: experts (x − b_k) W_k mixed by softmax(x G).

    Each expert is a parametric whitening (a learned centre b_k and a linear map W_k, no bias); the gate G
    weighs the experts per item. The centres start at the mean of the input vectors rather than zero, so the
    experts see centred inputs from the first step. No gate noise: the adaptor runs once per step over the items
    the step needs. In training the input goes through inverted dropout (:func:`cheap_keep_mask` on CPU).
    """

    def __init__(self, item_vectors: torch.Tensor, output_size: int, n_experts: int, dropout: float) -> None:
        super().__init__()
        if n_experts < 1:
            raise ValueError(f"n_experts must be >= 1, got {n_experts}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {dropout}")
        input_size = item_vectors.shape[1]
        mean = item_vectors.mean(0)
        self.centres = nn.Parameter(mean.repeat(n_experts, 1))
        self.experts = nn.Parameter(torch.empty(n_experts, input_size, output_size))
        nn.init.xavier_uniform_(self.experts.view(-1, output_size))
        self.gate = nn.Linear(input_size, n_experts, bias=False)
        nn.init.zeros_(self.gate.weight)  # equal weights at first
        self.dropout_p = float(dropout)

    def forward(self, item_vectors: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """(n, output): the adaptor's output for the ``rows`` of ``item_vectors`` (every row when None)."""
        n_experts, input_size, output_size = self.experts.shape
        x, input_scale = self._input_dropout(item_vectors, rows)
        # Every expert's whitening (x − b_k) W_k = x W_k − b_k W_k and the gate's logits x G in one
        # (n, d) × (d, experts · output + experts) product plus a bias row (−b_k W_k, then zeros for the gate):
        # on CPU one product (forward and backward) costs much less than an (n, experts, d) tensor of centred
        # copies, and the gate needs no thin product of its own. Dropout's 1 / (1 − p) scales the (d, ·)
        # weights instead of the wide input (the same value: the product is linear in x).
        weights = self.experts.permute(1, 0, 2).reshape(input_size, n_experts * output_size)
        bias = -torch.einsum("kd,kdo->ko", self.centres, self.experts).reshape(-1)
        if n_experts > 1:
            weights = torch.cat([weights, self.gate.weight.T], dim=1)
            bias = torch.cat([bias, bias.new_zeros(n_experts)])
        if input_scale != 1.0:
            weights = weights * input_scale
        product = torch.addmm(bias, x, weights)
        whitened = product[:, : n_experts * output_size].view(-1, n_experts, output_size)
        if n_experts == 1:  # softmax over one expert is 1: no gate
            return whitened[:, 0]
        gate = torch.softmax(product[:, n_experts * output_size :], dim=-1)
        return (gate[..., None] * whitened).sum(1)

    def _input_dropout(
        self, item_vectors: torch.Tensor, rows: torch.Tensor | None
    ) -> tuple[torch.Tensor, float]:
        """The input rows with dropped elements zeroed, and the scale still to apply (to the linear product)."""
        x = item_vectors if rows is None else item_vectors.index_select(0, rows)
        if not self.training or self.dropout_p == 0.0:
            return x, 1.0
        if x.is_cuda:
            return F.dropout(x, self.dropout_p, training=True), 1.0
        keep, scale = cheap_keep_mask(x.shape, self.dropout_p, x.device)
        # The gathered rows are this step's own copy: masked in place (a fresh (n, d) output costs more).
        return (x.mul_(keep) if rows is not None else x * keep), scale


class AdaptorFusion(SASRec):
    """Item representation = ID embedding + scale ⊙ LayerNorm(adaptor(frozen item vector)).

    ``item_vectors`` (n_items, d) are fixed, e.g. the item text embeddings, each item's motivation embedding
    or both side by side; they are a buffer, never trained. Only the adaptor learns how to read them, so an
    item with no training interactions still gets a useful representation from its text. ``scale`` (one
    weight per hidden dimension) starts at ``adaptor_scale_init``: 0 (the default) starts the model as exactly
    SASRec, like :class:`~momorec.models.additive_fusion.AdditiveFusion`; 1 starts it text-first, the adaptor's
    unit-variance output far above the ID embedding's small initial weights, as UniSRec adds its text
    representation to a freshly initialised ID table. Items whose vector is all zero (no text, no motivation)
    still receive the adaptor's output for a zero input, shared by all such items.
    """

    def __init__(
        self,
        n_items: int,
        item_vectors: np.ndarray,
        n_experts: int = 4,
        adaptor_dropout: float = 0.2,
        adaptor_scale_init: float = 0.0,
        **sasrec_kwargs,
    ) -> None:
        super().__init__(n_items, **sasrec_kwargs)
        if not np.isfinite(adaptor_scale_init):
            raise ValueError(f"adaptor_scale_init must be a finite number, got {adaptor_scale_init}")
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
        self.adapted_scale = nn.Parameter(torch.full((self.hidden_size,), float(adaptor_scale_init)))

    def item_representations(self, item_ids: torch.Tensor | None = None) -> torch.Tensor:
        # The frozen vectors are gathered, so a step pays the adaptor for the items it scores only.
        adapted = self.adapted_norm(self.adaptor(self.item_vectors, item_ids))
        return without_padding_row(
            super().item_representations(item_ids) + self.adapted_scale * adapted, item_ids
        )
