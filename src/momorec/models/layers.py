"""Layers shared by the sequential recommenders: a cheap dropout, causal self-attention, summed code tables."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class FastDropout(nn.Module):
    """Inverted dropout whose CPU mask comes from ``torch.rand`` instead of the Bernoulli kernel.

    Same expectation and variance as ``nn.Dropout``; on CPU torch's Bernoulli kernel is about twice as
    slow as drawing uniforms and comparing, and dropout masks are a large share of a SASRec step there.
    On CUDA the fused ``F.dropout`` kernel is used.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.is_cuda:
            return F.dropout(x, self.p, training=True)
        keep = torch.rand_like(x) >= self.p
        return x * keep * (1.0 / (1.0 - self.p))


# Dropout probabilities of the cheap keep mask are multiples of 1 / 2**16 (16-bit draws).
_MASK_LEVELS = 1 << 16


def cheap_keep_mask(
    shape: tuple[int, ...], p: float, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, float]:
    """A boolean dropout keep mask and the inverted-dropout scale that makes ``x * mask * scale`` unbiased.

    Each element is kept with probability ``1 − t / 2**16``, ``t = round(p · 2**16)`` (0.2 becomes 0.199997),
    and ``scale = 1 / P(keep)`` exactly, so the expectation is ``x``. The draws are the four 16-bit halves of
    full-range 64-bit random words: a quarter of the generator calls of ``torch.rand``, which on CPU is most of
    the cost of a mask over a wide input (the adaptor's 768-dim item vectors, thousands of rows a step).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    n = math.prod(shape)
    dropped_levels = min(round(p * _MASK_LEVELS), _MASK_LEVELS - 1)
    words = torch.empty(-(-n // 4), dtype=torch.int64, device=device).random_(-(2**63), None)
    # A 16-bit half read as int16 is uniform on [-2**15, 2**15): below the threshold with probability t / 2**16.
    keep = words.view(torch.int16)[:n] >= dropped_levels - _MASK_LEVELS // 2
    return keep.view(shape), _MASK_LEVELS / (_MASK_LEVELS - dropped_levels)


class CausalSelfAttentionBlock(nn.Module):
    """One post-norm transformer block (as in SASRec / RecBole): attention and a GELU feed-forward net."""

    def __init__(self, hidden_size: int, n_heads: int, dropout: float, inner_size: int | None = None) -> None:
        super().__init__()
        if hidden_size % n_heads:
            raise ValueError(f"hidden_size {hidden_size} is not divisible by n_heads {n_heads}")
        self.n_heads = n_heads
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.attention_out = nn.Linear(hidden_size, hidden_size)
        self.attention_norm = nn.LayerNorm(hidden_size, eps=1e-12)
        inner = inner_size or hidden_size
        self.feed_forward = nn.Sequential(
            nn.Linear(hidden_size, inner), nn.GELU(), nn.Linear(inner, hidden_size)
        )
        self.feed_forward_norm = nn.LayerNorm(hidden_size, eps=1e-12)
        self.attention_dropout_p = dropout
        self.dropout = FastDropout(dropout)
        self.attention_dropout = FastDropout(dropout)

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``x``: (batch, length, hidden); ``attention_mask``: bool (batch, 1, length, length), True = attend."""
        batch, length, hidden = x.shape
        q, k, v = (
            t.transpose(1, 2)
            for t in self.qkv(x).view(batch, length, 3, self.n_heads, hidden // self.n_heads).unbind(2)
        )
        if self.training and self.attention_dropout_p > 0 and not x.is_cuda:
            # Explicit attention so the probabilities go through the cheap CPU dropout above.
            weights = (q @ k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
            weights = weights.masked_fill(~attention_mask, float("-inf")).softmax(-1)
            attended = self.attention_dropout(weights) @ v
        else:
            attended = F.scaled_dot_product_attention(
                q,
                k,
                v,
                attn_mask=attention_mask,
                dropout_p=self.attention_dropout_p if self.training else 0.0,
            )
        attended = attended.transpose(1, 2).reshape(batch, length, hidden)
        x = self.attention_norm(x + self.dropout(self.attention_out(attended)))
        return self.feed_forward_norm(x + self.dropout(self.feed_forward(x)))


def causal_padding_mask(sequence: torch.Tensor) -> torch.Tensor:
    """Boolean attention mask (batch, 1, L, L): causal, padded keys (item 0) hidden.

    Each position may always attend to itself, so a fully padded query row never becomes all -inf (NaN).
    """
    length = sequence.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=sequence.device).tril()
    key_is_item = (sequence > 0)[:, None, None, :]
    eye = torch.eye(length, dtype=torch.bool, device=sequence.device)
    return (causal & key_is_item) | eye


class SummedCodeEmbedding(nn.Module):
    """Per-layer code tables whose embeddings are summed: one (n_items + 1, size) vector table, row 0 = padding.

    ``item_codes`` is the (n_items, n_layers) matrix of :func:`momorec.models.momorec.semantic_id_matrix`
    (-1 = no code). Code c of a layer is row c + 1 of that layer's table; -1 and the padding token use row 0,
    which stays zero, so an item without codes (and the padding token) gets a zero vector. Summing the
    layers (rather than concatenating) is how semantic IDs are used beside item IDs in large-scale ranking.
    """

    def __init__(self, n_items: int, item_codes: np.ndarray, size: int, std: float = 0.02) -> None:
        super().__init__()
        item_codes = np.asarray(item_codes, dtype=np.int64)
        if item_codes.ndim != 2 or item_codes.shape[0] != n_items or item_codes.shape[1] == 0:
            raise ValueError(f"item_codes: shape {item_codes.shape}, expected ({n_items}, n_layers >= 1)")
        if (item_codes < -1).any():
            raise ValueError("item_codes: codes must be >= 0 (or -1 for none)")
        tokens = np.vstack([np.full((1, item_codes.shape[1]), -1), item_codes]) + 1
        self.register_buffer("item_code_tokens", torch.as_tensor(tokens, dtype=torch.long))
        self.tables = nn.ModuleList(
            nn.Embedding(int(rows), size, padding_idx=0) for rows in tokens.max(axis=0) + 1
        )
        for table in self.tables:
            nn.init.normal_(table.weight, std=std)
            with torch.no_grad():
                table.weight[0] = 0.0

    def forward(self, item_ids: torch.Tensor | None = None) -> torch.Tensor:
        """(n_items + 1, size): the sum over layers of each item's code embeddings (the rows of ``item_ids``,
        tokens with 0 = padding, when given)."""
        tokens = self.item_code_tokens if item_ids is None else self.item_code_tokens[item_ids]
        return sum(table(tokens[:, layer]) for layer, table in enumerate(self.tables))


def without_padding_row(table: torch.Tensor, item_ids: torch.Tensor | None = None) -> torch.Tensor:
    """``table`` with the padding token's row set to zero, differentiably: padding is not an item.

    The padding row is row 0 of a full table, or the rows whose ``item_ids`` are 0 for a table of some items.
    """
    if item_ids is not None:
        return table * (item_ids != 0).to(table.dtype)[:, None]
    not_padding = torch.ones_like(table[:, :1])
    not_padding[0] = 0.0
    return table * not_padding
