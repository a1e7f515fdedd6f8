"""The evaluator every variant goes through: leave-one-out inputs, full ranking, metrics per segment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from momorec.data.sequences import UserSequences
from momorec.evaluation.metrics import metric_values
from momorec.evaluation.ranking import ScoreFn, rank_targets_chunked
from momorec.evaluation.segments import user_segments


@dataclass
class SplitRanks:
    """Ranks of the targets of one split: ``rows`` index users of the ``UserSequences``."""

    split: str
    rows: np.ndarray
    targets: np.ndarray
    ranks: np.ndarray


def evaluate_split(
    score_fn: ScoreFn,
    data: UserSequences,
    split: str,
    max_length: int,
    mask_history: bool = True,
    chunk_size: int = 1024,
    device: str = "cpu",
    max_k: int = 20,
) -> SplitRanks:
    """Rank every user's ``split`` target among all items.

    Input: validation scoring sees the training prefix; test scoring sees the training prefix plus the
    validation item. With ``mask_history`` every item of that input history is removed from the ranking.
    Ranks are exact below ``max_k`` and censored at ``max_k`` (enough for metrics at k <= max_k).
    """
    rows, inputs, targets = data.evaluation_inputs(split, max_length)
    # Users sorted by input length, so each chunk holds similar lengths and little padding is computed.
    order = np.argsort((inputs > 0).sum(1), kind="stable")
    history = None
    if mask_history:
        offsets, items = data.history(split)
        starts = offsets[rows[order]]
        history = (starts, offsets[rows[order] + 1] - starts, items)
    ranks = np.empty(len(rows), dtype=np.int64)
    ranks[order] = rank_targets_chunked(
        score_fn, inputs[order], targets[order], data.n_items, history, chunk_size, device, max_k
    )
    return SplitRanks(split, rows, targets, ranks)


def segment_metrics(ranks: np.ndarray, segments: dict[str, np.ndarray], ks=(10, 20)) -> list[dict]:
    """One row per (segment, metric, k): value = mean over the segment's users."""
    return [
        {"segment": name, "metric": metric, "k": k, "value": value, "n_users": int(mask.sum())}
        for name, mask in segments.items()
        for (metric, k), value in metric_values(ranks[mask], ks).items()
    ]


def evaluate_test_segments(
    score_fn: ScoreFn,
    data: UserSequences,
    max_length: int,
    item_is_long_tail: np.ndarray,
    cold_start_below: int,
    ks: list[int],
    chunk_size: int = 1024,
    device: str = "cpu",
) -> list[dict]:
    """Test metrics per user segment, with the input history masked and unmasked.

    Rows of :func:`segment_metrics` with a ``history_masked`` column; ranks are exact up to ``max(ks)``.
    """
    rows = []
    for masked in (True, False):
        split = evaluate_split(score_fn, data, "test", max_length, masked, chunk_size, device, max(ks))
        segments = user_segments(
            split.targets, data.train_lengths[split.rows], item_is_long_tail, cold_start_below
        )
        rows += [{**row, "history_masked": masked} for row in segment_metrics(split.ranks, segments, ks)]
    return rows
