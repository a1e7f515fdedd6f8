"""SASRec: self-attentive sequential recommendation (Kang & McAuley, 2018), as a small PyTorch module."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from momorec.models.layers import CausalSelfAttentionBlock, FastDropout, causal_padding_mask
from momorec.models.scoring import make_scoring

# Items whose representations an evaluation pass computes at once (item_table_in_chunks).
REPRESENTATION_CHUNK = 16_384


class SASRec(nn.Module):
    """Item embeddings + learned positions + causal self-attention blocks; scores = dot products, or
    temperature-scaled cosines with ``scoring="cosine"`` (:mod:`momorec.models.scoring`).

    Inputs are token sequences (item_idx + 1, 0 = padding, left-padded). Subclasses change only
    :meth:`item_representations`, which is used both for the input sequence and for scoring all items. Its
    ``item_ids`` argument asks for some rows only (a sampled-loss step needs its inputs, targets and
    negatives, not the catalogue), so every fusion computes each row from that item's own inputs alone.
    """

    def __init__(
        self,
        n_items: int,
        hidden_size: int = 64,
        n_blocks: int = 2,
        n_heads: int = 2,
        max_length: int = 50,
        dropout: float = 0.5,
        inner_size: int | None = None,
        initial_item_embeddings: np.ndarray | None = None,
        scoring: str = "dot",
        temperature: float = 0.07,
    ) -> None:
        super().__init__()
        self.n_items = int(n_items)
        self.hidden_size = int(hidden_size)
        self.max_length = int(max_length)
        self.item_embedding = nn.Embedding(self.n_items + 1, hidden_size, padding_idx=0)
        self.position_embedding = nn.Embedding(self.max_length, hidden_size)
        self.input_norm = nn.LayerNorm(hidden_size, eps=1e-12)
        self.input_dropout = FastDropout(dropout)
        self.blocks = nn.ModuleList(
            CausalSelfAttentionBlock(hidden_size, n_heads, dropout, inner_size) for _ in range(n_blocks)
        )
        self.scoring = make_scoring(scoring, temperature)
        self.apply(_init_weights)
        if initial_item_embeddings is not None:
            self._load_initial_item_embeddings(initial_item_embeddings)

    def _load_initial_item_embeddings(self, vectors: np.ndarray) -> None:
        if vectors.shape != (self.n_items, self.hidden_size):
            raise ValueError(
                f"initial item embeddings: shape {vectors.shape}, expected ({self.n_items}, {self.hidden_size})"
            )
        with torch.no_grad():
            self.item_embedding.weight[1:] = torch.as_tensor(vectors, dtype=torch.float32)
            self.item_embedding.weight[0] = 0.0

    def item_representations(self, item_ids: torch.Tensor | None = None) -> torch.Tensor:
        """(n_items + 1, hidden) table, row 0 the padding token; with ``item_ids`` (tokens, 0 = padding) only
        those rows, in that order: ``item_representations(ids)`` equals ``item_representations()[ids]``."""
        if item_ids is None:
            return self.item_embedding.weight
        return self.item_embedding.weight[item_ids]

    def encode(self, sequences: torch.Tensor, item_table: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden state at every position: (batch, length, hidden)."""
        if item_table is None:
            item_table = self.item_representations()
        sequences = sequences[:, -self.max_length :]
        length = sequences.shape[1]
        positions = torch.arange(self.max_length - length, self.max_length, device=sequences.device)
        x = item_table[sequences] + self.position_embedding(positions)[None]
        x = self.input_dropout(self.input_norm(x))
        mask = causal_padding_mask(sequences)
        for block in self.blocks:
            x = block(x, mask)
        return x

    def score_all(self, sequences: torch.Tensor, item_table: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of every item (batch, n_items) after the last position of each sequence."""
        if item_table is None:
            item_table = self.item_representations()
        last = self.encode(sequences, item_table)[:, -1]
        return self.scoring.query(last) @ self.scoring.keys(item_table[1:]).T

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        return self.score_all(sequences)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def item_table_in_chunks(model: nn.Module, chunk_size: int = REPRESENTATION_CHUNK) -> torch.Tensor:
    """The full item table without gradients, for an evaluation pass: rows ``chunk_size`` at a time, so a
    fusion's intermediates (the adaptor's experts × items products, say) stay bounded by the chunk rather
    than the catalogue. A catalogue within one chunk is computed in one call, exactly as before."""
    with torch.no_grad():
        if not isinstance(model, SASRec) or model.n_items + 1 <= chunk_size:
            return model.item_representations()
        tokens = torch.arange(model.n_items + 1, device=model.item_embedding.weight.device)
        return torch.cat([model.item_representations(ids) for ids in tokens.split(chunk_size)])


def _init_weights(module: nn.Module) -> None:
    # The truncated-normal-like init of RecBole's SASRec (std 0.02), zero biases, unit layer norms.
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.Embedding) and module.padding_idx is not None:
        with torch.no_grad():
            module.weight[module.padding_idx] = 0.0
