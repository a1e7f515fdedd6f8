"""Gated fusion: a per-item gate, driven by the item's training frequency, between its ID and its codes."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from momorec.models.layers import SummedCodeEmbedding, without_padding_row
from momorec.models.sasrec import SASRec


def frequency_features(item_train_frequency: np.ndarray) -> np.ndarray:
    """(n_items, 2) gate inputs: standardised log(1 + training count), and 1 for items never trained on."""
    frequency = np.asarray(item_train_frequency, dtype=np.float64)
    if frequency.ndim != 1 or (frequency < 0).any() or not np.isfinite(frequency).all():
        raise ValueError("item_train_frequency: expected a 1-D array of non-negative counts")
    log_count = np.log1p(frequency)
    spread = log_count.std()
    standardised = (log_count - log_count.mean()) / (spread if spread > 0 else 1.0)
    return np.column_stack([standardised, frequency == 0]).astype(np.float32)


class GatedFusion(SASRec):
    """Item representation = g ⊙ ID embedding + (1 − g) ⊙ Σ_layers code embedding, with g per item.

    g = sigmoid(A · f + b) per hidden dimension, where f are the item's frequency features
    (:func:`frequency_features`). A and b are shared by all items, so the gate learned on frequent items
    carries over to rare ones: an item seen often can keep its own ID embedding, an item seen rarely (whose
    ID embedding barely trains) can lean on the codes it shares with similar items. The code tables have the
    hidden size and SASRec's init (std 0.02), so both sides of the gate start on the same scale. The gate
    starts at ``initial_id_weight`` (0.95) for every item, so the model starts close to SASRec and learns how
    far each frequency band should lean on its codes: on the shop a gate starting at 0.5 halved every head
    item's ID embedding from the first step and lost 12 % Recall@10 (benchmarks/RESULTS.md).
    """

    def __init__(
        self,
        n_items: int,
        item_codes: np.ndarray,
        item_train_frequency: np.ndarray,
        initial_id_weight: float = 0.95,
        **sasrec_kwargs,
    ) -> None:
        if not 0.0 < initial_id_weight < 1.0:
            raise ValueError(f"initial_id_weight must lie strictly between 0 and 1, got {initial_id_weight}")
        super().__init__(n_items, **sasrec_kwargs)
        features = frequency_features(item_train_frequency)
        if len(features) != n_items:
            raise ValueError(f"item_train_frequency: {len(features)} values for {n_items} items")
        # Row 0 (padding) gets zero features; its representation is zeroed anyway.
        self.register_buffer(
            "gate_features", torch.as_tensor(np.vstack([np.zeros((1, 2)), features])).float()
        )
        self.codes = SummedCodeEmbedding(n_items, item_codes, self.hidden_size)
        self.gate = nn.Linear(features.shape[1], self.hidden_size)
        nn.init.zeros_(self.gate.weight)
        nn.init.constant_(self.gate.bias, float(np.log(initial_id_weight / (1.0 - initial_id_weight))))

    def item_gates(self, item_ids: torch.Tensor | None = None) -> torch.Tensor:
        """(n_items + 1, hidden) weight of the ID embedding per item and dimension, in (0, 1) (the rows of
        ``item_ids`` when given)."""
        features = self.gate_features if item_ids is None else self.gate_features[item_ids]
        return torch.sigmoid(self.gate(features))

    def item_representations(self, item_ids: torch.Tensor | None = None) -> torch.Tensor:
        gate = self.item_gates(item_ids)
        id_embedding = super().item_representations(item_ids)
        return without_padding_row(gate * id_embedding + (1 - gate) * self.codes(item_ids), item_ids)
