"""Ranking metrics as small pure functions.

Leave-one-out gives one target per user, so every metric is a function of the target's 0-based rank among
all candidate items. Ties are broken *against* the target (an item scoring exactly as high as the target
counts as ranked above it), so a model cannot earn credit from constant scores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def target_ranks(
    scores: torch.Tensor, targets: torch.Tensor, excluded: torch.Tensor | None = None
) -> torch.Tensor:
    """0-based rank of each row's target item in a (users, items) score matrix.

    ``excluded`` (bool, same shape) removes items from the ranking (history masking); a target that is
    itself excluded gets rank ``n_items`` (never a hit).
    """
    if scores.ndim != 2 or targets.shape != scores.shape[:1]:
        raise ValueError(
            f"scores must be (users, items) and targets (users,), got {scores.shape}, {targets.shape}"
        )
    n_items = scores.shape[1]
    if excluded is not None:
        scores = scores.masked_fill(excluded, float("-inf"))
    target_score = scores.gather(1, targets[:, None].long())
    higher = (scores > target_score).sum(1)
    tied_others = (scores == target_score).sum(1) - 1
    ranks = higher + tied_others
    if excluded is not None:
        target_excluded = excluded.gather(1, targets[:, None].long())[:, 0]
        ranks = torch.where(target_excluded, torch.full_like(ranks, n_items), ranks)
    return ranks


def topk_target_ranks(scores: torch.Tensor, targets: torch.Tensor, k: int) -> torch.Tensor:
    """Target ranks from ``torch.topk``, censored at ``k`` (a value of ``k`` means "rank >= k").

    Same tie rule as :func:`target_ranks`. Items to exclude must already carry a score of -inf; a target
    scored -inf is never a hit. Only rows whose target ties with the k-th score need a full-row count.
    """
    k = min(int(k), scores.shape[1])
    top = torch.topk(scores, k, dim=1).values
    target_score = scores.gather(1, targets[:, None].long())
    kth = top[:, -1:]
    ranks = (top > target_score).sum(1) + (top == target_score).sum(1) - 1
    boundary = (target_score == kth)[:, 0]
    if boundary.any():
        # Ties may continue past the k-th place: count them over the whole row.
        rows = scores[boundary]
        t = target_score[boundary]
        ranks[boundary] = (rows > t).sum(1) + (rows == t).sum(1) - 1
    below = (target_score < kth)[:, 0] | torch.isneginf(target_score[:, 0])
    return torch.where(below, torch.full_like(ranks, k), ranks.clamp(max=k))


def recall_at_k(ranks: np.ndarray, k: int) -> np.ndarray:
    """1 when the target is in the top k (one target per user, so Recall@k = HitRate@k)."""
    return (np.asarray(ranks) < k).astype(np.float64)


def precision_at_k(ranks: np.ndarray, k: int) -> np.ndarray:
    """Share of the top k that is relevant: 1/k on a hit."""
    return recall_at_k(ranks, k) / k


def mrr_at_k(ranks: np.ndarray, k: int) -> np.ndarray:
    """Reciprocal rank of the target, 0 outside the top k."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return np.where(ranks < k, 1.0 / (ranks + 1.0), 0.0)


def ndcg_at_k(ranks: np.ndarray, k: int) -> np.ndarray:
    """1 / log2(rank + 2) inside the top k; the ideal DCG of one relevant item is 1."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0)


METRICS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "recall": recall_at_k,
    "mrr": mrr_at_k,
    "ndcg": ndcg_at_k,
    "precision": precision_at_k,
}


def metric_values(
    ranks: np.ndarray, ks: list[int] | tuple[int, ...] = (10, 20)
) -> dict[tuple[str, int], float]:
    """Mean of every metric at every k over the given ranks: ``{(metric, k): value}`` (NaN when empty)."""
    ranks = np.asarray(ranks)
    return {
        (name, int(k)): float(fn(ranks, k).mean()) if len(ranks) else float("nan")
        for name, fn in METRICS.items()
        for k in ks
    }
