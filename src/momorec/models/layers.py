"""Layers shared by the sequential recommenders: a cheap dropout and causal self-attention blocks."""

from __future__ import annotations

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
