"""Full ranking over all items in user chunks, so memory stays at chunk_size x n_items scores."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from momorec.evaluation.metrics import target_ranks

ScoreFn = Callable[[torch.Tensor], torch.Tensor]
"""Maps a (users, length) token batch to (users, n_items) scores."""


def history_mask(
    starts: np.ndarray,
    lengths: np.ndarray,
    items: np.ndarray,
    n_items: int,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Bool (rows, n_items) with True at every item of each row's history ``items[start:start+length]``."""
    rows = np.repeat(np.arange(len(starts)), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    positions = np.repeat(starts, lengths) + np.arange(lengths.sum()) - first
    mask = torch.zeros(len(starts), n_items, dtype=torch.bool, device=device)
    mask[torch.as_tensor(rows, device=device), torch.as_tensor(items[positions], device=device)] = True
    return mask


def _chunks(n: int, chunk_size: int):
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


@torch.no_grad()
def rank_targets_chunked(
    score_fn: ScoreFn,
    inputs: np.ndarray,
    targets: np.ndarray,
    n_items: int,
    history: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    chunk_size: int = 1024,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """0-based rank of each target among all items; ``history = (starts, lengths, items)`` masks those items."""
    ranks = np.empty(len(targets), dtype=np.int64)
    for part in _chunks(len(targets), chunk_size):
        scores = score_fn(torch.as_tensor(inputs[part], device=device)).float()
        excluded = None
        if history is not None:
            starts, lengths, items = history
            excluded = history_mask(starts[part], lengths[part], items, n_items, scores.device)
        ranks[part] = (
            target_ranks(scores, torch.as_tensor(targets[part], device=scores.device), excluded).cpu().numpy()
        )
    return ranks


@torch.no_grad()
def top_k_chunked(
    score_fn: ScoreFn,
    inputs: np.ndarray,
    k: int,
    n_items: int,
    history: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    chunk_size: int = 1024,
    device: torch.device | str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k item indices and scores per row (``torch.topk`` per chunk), history items masked when given."""
    k = min(k, n_items)
    indices = np.empty((len(inputs), k), dtype=np.int64)
    values = np.empty((len(inputs), k), dtype=np.float32)
    for part in _chunks(len(inputs), chunk_size):
        scores = score_fn(torch.as_tensor(inputs[part], device=device)).float()
        if history is not None:
            starts, lengths, items = history
            scores = scores.masked_fill(
                history_mask(starts[part], lengths[part], items, n_items, scores.device), float("-inf")
            )
        top = torch.topk(scores, k, dim=1)
        indices[part] = top.indices.cpu().numpy()
        values[part] = top.values.cpu().numpy()
    return indices, values
