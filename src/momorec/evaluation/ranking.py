"""Full ranking over all items in user chunks, so memory stays at chunk_size x n_items scores."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from momorec.evaluation.metrics import topk_target_ranks

ScoreFn = Callable[[torch.Tensor], torch.Tensor]
"""Maps a (users, length) token batch to (users, n_items) scores."""

History = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(starts, lengths, items)``: row r's history is ``items[starts[r] : starts[r] + lengths[r]]``."""


def history_coordinates(
    starts: np.ndarray, lengths: np.ndarray, items: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(row, item) pairs of every history entry, built without a Python loop over rows."""
    rows = np.repeat(np.arange(len(starts)), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    positions = np.repeat(starts, lengths) + np.arange(int(lengths.sum())) - first
    return rows, items[positions]


def history_mask(
    starts: np.ndarray,
    lengths: np.ndarray,
    items: np.ndarray,
    n_items: int,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Bool (rows, n_items) with True at every item of each row's history."""
    rows, cols = history_coordinates(starts, lengths, items)
    mask = torch.zeros(len(starts), n_items, dtype=torch.bool, device=device)
    mask[torch.as_tensor(rows, device=device), torch.as_tensor(cols, device=device)] = True
    return mask


def _chunks(n: int, chunk_size: int):
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def _masked_scores(
    score_fn: ScoreFn, inputs: np.ndarray, part: slice, history: History | None, device: torch.device | str
) -> torch.Tensor:
    # Columns that are padding for every row of the chunk are dropped: sequences are left-padded, so this
    # changes nothing for the model and saves most of the work when the chunk holds short histories.
    tokens = inputs[part]
    present = tokens > 0
    first = np.where(present.any(1), present.argmax(1), tokens.shape[1])
    width = max(1, tokens.shape[1] - int(first.min())) if len(tokens) else 1
    # A fresh float tensor (score_fn may return a broadcast view) with history items set to -inf in place.
    scores = score_fn(torch.as_tensor(tokens[:, -width:], device=device)).float().clone()
    if history is not None:
        starts, lengths, items = history
        rows, cols = history_coordinates(starts[part], lengths[part], items)
        scores[torch.as_tensor(rows, device=scores.device), torch.as_tensor(cols, device=scores.device)] = (
            float("-inf")
        )
    return scores


@torch.no_grad()
def rank_targets_chunked(
    score_fn: ScoreFn,
    inputs: np.ndarray,
    targets: np.ndarray,
    n_items: int,
    history: History | None = None,
    chunk_size: int = 1024,
    device: torch.device | str = "cpu",
    max_k: int = 20,
) -> np.ndarray:
    """0-based rank of each target among all items via ``torch.topk`` per chunk, censored at ``max_k``.

    ``history`` items are excluded from the ranking (a target inside the history is a miss).
    """
    ranks = np.empty(len(targets), dtype=np.int64)
    for part in _chunks(len(targets), chunk_size):
        scores = _masked_scores(score_fn, inputs, part, history, device)
        target = torch.as_tensor(targets[part], device=scores.device)
        ranks[part] = topk_target_ranks(scores, target, min(max_k, n_items)).cpu().numpy()
    return ranks


@torch.no_grad()
def top_k_chunked(
    score_fn: ScoreFn,
    inputs: np.ndarray,
    k: int,
    n_items: int,
    history: History | None = None,
    chunk_size: int = 1024,
    device: torch.device | str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k item indices and scores per row (``torch.topk`` per chunk), history items masked when given."""
    k = min(k, n_items)
    indices = np.empty((len(inputs), k), dtype=np.int64)
    values = np.empty((len(inputs), k), dtype=np.float32)
    for part in _chunks(len(inputs), chunk_size):
        top = torch.topk(_masked_scores(score_fn, inputs, part, history, device), k, dim=1)
        indices[part] = top.indices.cpu().numpy()
        values[part] = top.values.cpu().numpy()
    return indices, values
