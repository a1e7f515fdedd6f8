"""MoMoREC: SASRec whose item representation fuses the item-ID embedding with the item's semantic ID."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from momorec.clustering.residual_kmeans import dedup_digits
from momorec.models.layers import without_padding_row
from momorec.models.sasrec import SASRec


def semantic_id_matrix(
    item_semantic_ids: pd.DataFrame, n_items: int, n_layers_used: int | None = None, use_dedup: bool = False
) -> np.ndarray:
    """Codes as an (n_items, n_columns) int64 matrix from an ``item_semantic_ids`` table; -1 = no code.

    Columns: ``code_0 … code_{n-1}`` (the first ``n_layers_used`` layers, all when None), then ``dedup`` when
    ``use_dedup``. Items missing from the table get -1 everywhere (the padding code).
    """
    code_columns = sorted(
        (c for c in item_semantic_ids.columns if c.startswith("code_")), key=lambda c: int(c.split("_")[1])
    )
    if "item_idx" not in item_semantic_ids.columns or not code_columns:
        raise ValueError("item_semantic_ids: need columns item_idx and code_0 … code_{L-1}")
    if n_layers_used is not None:
        if not 1 <= n_layers_used <= len(code_columns):
            raise ValueError(f"n_layers_used={n_layers_used}, but the table has {len(code_columns)} layers")
        code_columns = code_columns[:n_layers_used]
    if use_dedup and "dedup" not in item_semantic_ids.columns:
        raise ValueError("item_semantic_ids: use_dedup is set but there is no 'dedup' column")
    item_idx = item_semantic_ids["item_idx"].to_numpy()
    if item_semantic_ids["item_idx"].duplicated().any():
        raise ValueError("item_semantic_ids: duplicated item_idx")
    if len(item_idx) and (item_idx.min() < 0 or item_idx.max() >= n_items):
        raise ValueError(f"item_semantic_ids.item_idx: values outside 0..{n_items - 1}")
    values = item_semantic_ids[code_columns].fillna(-1).to_numpy().astype(np.int64)
    if (values < -1).any():
        raise ValueError("item_semantic_ids: codes must be >= 0 (or -1 for none)")
    if use_dedup:
        # The table's digit separates items sharing all L codes; with fewer layers it must separate items
        # sharing the shorter prefix, so it is recomputed on the layers actually used.
        dedup = item_semantic_ids["dedup"].fillna(-1).to_numpy().astype(np.int64)
        if n_layers_used is not None:
            present = (values >= 0).all(axis=1)
            dedup = np.full(len(values), -1, dtype=np.int64)
            dedup[present] = dedup_digits(values[present])
        values = np.column_stack([values, dedup])
    codes = np.full((n_items, values.shape[1]), -1, dtype=np.int64)
    codes[item_idx] = values
    return codes


class MoMoREC(SASRec):
    """SASRec + semantic IDs.

    The item-ID embedding is kept. Each ID layer has its own code table (index 0 = padding for code -1),
    projected to the hidden size; the projections are concatenated, passed through a three-layer MLP,
    concatenated with the item-ID embedding, and a final MLP gives the item representation. That
    representation feeds the input sequence and scores every candidate. One addition to that recipe: the ID
    embedding and the code vector are each layer-normalised before the concatenation (see ``__init__``).
    The representation table is computed once per forward pass (once per batch in training, for the batch's
    items only under a sampled loss; once per evaluation pass), so inference costs SASRec's plus one small
    MLP pass over the items.
    """

    def __init__(
        self, n_items: int, item_codes: np.ndarray, code_embedding_size: int = 32, **sasrec_kwargs
    ) -> None:
        super().__init__(n_items, **sasrec_kwargs)
        item_codes = np.asarray(item_codes, dtype=np.int64)
        if item_codes.ndim != 2 or item_codes.shape[0] != n_items or item_codes.shape[1] == 0:
            raise ValueError(f"item_codes: shape {item_codes.shape}, expected ({n_items}, n_layers >= 1)")
        hidden = self.hidden_size
        # Token t = item t-1; code c -> row c + 1 of its table, -1 (no code) and the padding token -> row 0.
        tokens = np.vstack([np.full((1, item_codes.shape[1]), -1), item_codes]) + 1
        self.register_buffer("item_code_tokens", torch.as_tensor(tokens, dtype=torch.long))
        table_sizes = tokens.max(axis=0) + 1
        self.code_tables = nn.ModuleList(
            nn.Embedding(int(size), code_embedding_size, padding_idx=0) for size in table_sizes
        )
        self.code_projections = nn.ModuleList(nn.Linear(code_embedding_size, hidden) for _ in table_sizes)
        n_layers = len(table_sizes)
        self.code_mlp = nn.Sequential(
            nn.Linear(n_layers * hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
        )
        self.fusion_mlp = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.GELU(), nn.Linear(hidden, hidden))
        # PyTorch's default init here, not SASRec's N(0, 0.02): stacked layers that small shrink every item to
        # nearly the same vector, and the model then falls back to ranking by popularity.
        # Both halves of the fusion input are layer-normalised: at SASRec's small init (std 0.02) the ID part
        # would otherwise be drowned by the code vector, and normalised inputs keep Adam's relative steps large.
        self.id_norm = nn.LayerNorm(hidden)
        self.code_norm = nn.LayerNorm(hidden)
        for table in self.code_tables:
            nn.init.normal_(table.weight, std=0.02)
            with torch.no_grad():
                table.weight[0] = 0.0

    def item_representations(self, item_ids: torch.Tensor | None = None) -> torch.Tensor:
        tokens = self.item_code_tokens if item_ids is None else self.item_code_tokens[item_ids]
        projected = [
            projection(table(tokens[:, layer]))
            for layer, (table, projection) in enumerate(
                zip(self.code_tables, self.code_projections, strict=True)
            )
        ]
        code_vector = self.code_mlp(torch.cat(projected, dim=-1))
        id_embedding = super().item_representations(item_ids)
        fused = torch.cat([self.id_norm(id_embedding), self.code_norm(code_vector)], dim=-1)
        # Padding must stay a zero vector: it is not an item.
        return without_padding_row(self.fusion_mlp(fused), item_ids)
