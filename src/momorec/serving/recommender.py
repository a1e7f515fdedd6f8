"""Top-k recommendations from a trained network: product ids in, product ids, titles and scores out.

A :class:`Recommender` holds the network, the item vocabulary (``item_idx`` -> product id, title) and the
items' training counts. Histories arrive as (row, item_idx) pairs; the ranking is the evaluator's chunked
``torch.topk`` (:func:`momorec.evaluation.ranking.top_k_chunked`) with the history and any excluded items
masked. A row whose history holds no known item is ranked by training popularity and flagged: the network
has nothing to condition on, and popularity is what the training data says about such a user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from momorec.evaluation.ranking import ScoreFn, top_k_chunked
from momorec.models.sasrec import item_table_in_chunks

ITEM_COLUMNS = ("item_idx", "item_id", "title", "train_count")
LONG_COLUMNS = ["row", "rank", "item_idx", "product_id", "title", "score", "popularity_fallback"]


@dataclass
class Histories:
    """Per-row item histories as (row, item_idx) pairs in chronological order within each row."""

    n_rows: int
    rows: np.ndarray
    items: np.ndarray

    def __post_init__(self) -> None:
        self.rows = np.asarray(self.rows, dtype=np.int64)
        self.items = np.asarray(self.items, dtype=np.int64)
        if self.rows.shape != self.items.shape:
            raise ValueError("histories: rows and items must have the same length")
        if len(self.rows) and (np.diff(self.rows) < 0).any():
            raise ValueError("histories: rows must be sorted (a stable sort keeps each row's order)")

    @property
    def lengths(self) -> np.ndarray:
        return np.bincount(self.rows, minlength=self.n_rows)

    @property
    def starts(self) -> np.ndarray:
        lengths = self.lengths
        return np.cumsum(lengths) - lengths

    def union(self, other: Histories) -> Histories:
        """Both sets of pairs, sorted by row (for masking; the order within a row no longer matters)."""
        rows = np.concatenate([self.rows, other.rows])
        order = np.argsort(rows, kind="stable")
        return Histories(self.n_rows, rows[order], np.concatenate([self.items, other.items])[order])


def right_aligned_tokens(histories: Histories, width: int) -> np.ndarray:
    """Left-padded (n_rows, width) token matrix (item_idx + 1, 0 = padding) of each row's last items."""
    lengths, starts = histories.lengths, histories.starts
    within = np.arange(len(histories.rows)) - starts[histories.rows]
    column = width - lengths[histories.rows] + within  # the last item of a row lands in column width - 1
    keep = column >= 0
    tokens = np.zeros((histories.n_rows, width), dtype=np.int64)
    tokens[histories.rows[keep], column[keep]] = histories.items[keep] + 1
    return tokens


@dataclass
class Recommender:
    """A trained network with its item vocabulary; ``items`` has the columns of :data:`ITEM_COLUMNS`."""

    network: nn.Module
    items: pd.DataFrame
    variant: str
    device: str = "cpu"
    _index: pd.Index = field(init=False, repr=False)
    _item_table: torch.Tensor | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        missing = [c for c in ITEM_COLUMNS if c not in self.items.columns]
        if missing:
            raise ValueError(f"items: missing column(s) {missing}; need {list(ITEM_COLUMNS)}")
        items = self.items.sort_values("item_idx").reset_index(drop=True)
        if not np.array_equal(items["item_idx"].to_numpy(), np.arange(len(items))):
            raise ValueError("items.item_idx: expected contiguous ids 0..n_items-1")
        n_items = int(getattr(self.network, "n_items", len(items)))
        if n_items != len(items):
            raise ValueError(f"items: {len(items)} rows, but the network scores {n_items} items")
        self.items = items
        self._index = pd.Index(items["item_id"].astype(str))
        if not self._index.is_unique:
            raise ValueError("items.item_id: product ids must be unique")
        self.network = self.network.to(self.device).eval()

    @property
    def n_items(self) -> int:
        return len(self.items)

    def item_indices(self, product_ids: Iterable) -> np.ndarray:
        """``item_idx`` of each product id, -1 for an id the model does not know."""
        return self._index.get_indexer(pd.Index(list(product_ids), dtype=object).astype(str))

    def score_fn(self) -> ScoreFn:
        """Network scores; rows with no item in their input get the training counts instead."""
        if self._item_table is None:  # fixed weights: MoMoREC's item MLP runs once, not once per request
            self._item_table = item_table_in_chunks(self.network)
        item_table = self._item_table
        popularity = torch.as_tensor(self.items["train_count"].to_numpy(np.float32), device=self.device)

        def score(tokens: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                scores = self.network.score_all(tokens, item_table)
            empty = (tokens == 0).all(dim=1)
            if empty.any():
                scores = torch.where(empty[:, None], popularity[None, :], scores)
            return scores

        return score

    def ranked(
        self,
        histories: Histories,
        k: int | np.ndarray,
        exclude: Histories | None = None,
        mask_history: bool = True,
        chunk_size: int = 1024,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(row, rank, item_idx, score) arrays, sorted by row then rank (ranks from 1); see :meth:`top_k`."""
        k_per_row = np.broadcast_to(np.asarray(k, dtype=np.int64), (histories.n_rows,))
        if histories.n_rows == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, np.zeros(0, dtype=np.float64)
        if (k_per_row < 1).any():
            raise ValueError("k must be >= 1")
        if len(histories.items) and (histories.items.min() < 0 or histories.items.max() >= self.n_items):
            raise ValueError(f"histories: item_idx outside 0..{self.n_items - 1}")
        masked = histories if mask_history else Histories(histories.n_rows, [], [])
        if exclude is not None:
            masked = masked.union(exclude)
        inputs = right_aligned_tokens(histories, int(self.network.max_length))
        indices, scores = top_k_chunked(
            self.score_fn(),
            inputs,
            int(min(k_per_row.max(), self.n_items)),
            self.n_items,
            (masked.starts, masked.lengths, masked.items),
            chunk_size,
            self.device,
        )
        rank = np.broadcast_to(np.arange(indices.shape[1]), indices.shape)
        keep = (rank < k_per_row[:, None]) & np.isfinite(scores)
        rows = np.broadcast_to(np.arange(histories.n_rows)[:, None], indices.shape)[keep]
        return rows, rank[keep] + 1, indices[keep], scores[keep].astype(np.float64)

    def top_k(
        self,
        histories: Histories,
        k: int | np.ndarray,
        exclude: Histories | None = None,
        mask_history: bool = True,
        chunk_size: int = 1024,
    ) -> pd.DataFrame:
        """Long table (row, rank, item_idx, product_id, title, score, popularity_fallback), ranks from 1.

        ``k`` is one number or one per row; a masked item never appears, so a row can get fewer than k
        items when fewer remain.
        """
        if histories.n_rows == 0:
            return pd.DataFrame(columns=LONG_COLUMNS)
        rows, rank, item_idx, scores = self.ranked(histories, k, exclude, mask_history, chunk_size)
        return pd.DataFrame(
            {
                "row": rows,
                "rank": rank,
                "item_idx": item_idx,
                "product_id": self.items["item_id"].to_numpy()[item_idx],
                "title": self.items["title"].to_numpy()[item_idx],
                "score": scores,
                "popularity_fallback": (histories.lengths == 0)[rows],
            },
            columns=LONG_COLUMNS,
        )
