"""Most popular: every user gets the items ranked by how often they occur in the training prefixes."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class MostPopular(nn.Module):
    """The popularity baseline behind the neural models' scoring interface (no trainable parameters).

    ``item_representations`` is the (n_items,) popularity vector and ``score_all`` gives it to every user,
    so the shared evaluator, scorer and efficiency timing treat it like SASRec; the trainer leaves a model
    without parameters untrained. The counts are a buffer: a saved state dict restores them.
    """

    max_length = 1  # scores ignore the sequence: one input column is all the evaluator needs to build

    def __init__(self, item_train_frequency: np.ndarray) -> None:
        super().__init__()
        popularity = torch.as_tensor(np.asarray(item_train_frequency, dtype=np.float32))
        if popularity.ndim != 1:
            raise ValueError(f"item_train_frequency: shape {tuple(popularity.shape)}, expected (n_items,)")
        self.n_items = int(popularity.shape[0])
        self.register_buffer("popularity", popularity)

    def item_representations(self) -> torch.Tensor:
        return self.popularity

    def score_all(self, sequences: torch.Tensor, item_table: torch.Tensor | None = None) -> torch.Tensor:
        """The same popularity scores for every sequence: (batch, n_items), a broadcast view."""
        if item_table is None:
            item_table = self.item_representations()
        return item_table.expand(sequences.shape[0], -1)  # a view: the evaluator copies before masking

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        return self.score_all(sequences)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
