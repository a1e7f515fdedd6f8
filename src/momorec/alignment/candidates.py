"""The recommender's top-N candidates and target ranks for the evaluated users, via the shared evaluator.

The model is the recommender pipeline's own (``momorec.models.variants.build_model``: SASRec, or MoMoREC
with semantic IDs), trained by the shared trainer on training prefixes only, one model per seed. Scoring
uses the same inputs, history masking and tie rule as the recommender's evaluation (``momorec.evaluation``):
validation candidates from the training prefix, test candidates from the training prefix plus the
validation item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, Unpack

import numpy as np
import pandas as pd
from torch import nn

from momorec.data.sequences import UserSequences
from momorec.evaluation.ranking import ScoreFn, rank_targets_chunked, top_k_chunked
from momorec.models.trainer import TrainingConfig, fit, model_score_fn
from momorec.models.variants import build_model

CANDIDATE_COLUMNS = ["user_idx", "split", "seed", "item_idx", "score", "rank"]
TARGET_COLUMNS = ["user_idx", "split", "seed", "item_idx", "rank"]
BASE_VARIANTS = ("sasrec", "momorec")


class ScoringOptions(TypedDict, total=False):
    """Optional settings of :func:`split_candidates` (its defaults apply to any left out)."""

    mask_history: bool
    chunk_size: int
    rank_max_k: int


def train_base_model(
    data: UserSequences,
    recommender_params: Mapping[str, Any],
    seed: int,
    base_variant: str = "sasrec",
    item_semantic_ids: pd.DataFrame | None = None,
) -> nn.Module:
    """One model of ``base_variant`` built by the recommender's factory and trained by its trainer.

    Settings missing from ``recommender_params`` take the defaults of ``TrainingConfig.from_params`` and of
    the semantic-ID model (the recommender's own parameter file sets them all).
    """
    if base_variant not in BASE_VARIANTS:
        raise ValueError(f"base_variant must be one of {BASE_VARIANTS}, got {base_variant!r}")
    if base_variant == "momorec" and item_semantic_ids is None:
        raise ValueError("base_variant 'momorec' needs the item_semantic_ids dataset")
    side_input = item_semantic_ids if base_variant == "momorec" else None
    model = build_model(base_variant, data, recommender_params, side_input, seed)
    fit(model, data, TrainingConfig.from_params(recommender_params, seed))
    return model.cpu().eval()


def split_candidates(
    score_fn: ScoreFn,
    data: UserSequences,
    split: str,
    user_idx: Sequence[int],
    n_candidates: int,
    max_length: int,
    mask_history: bool = True,
    chunk_size: int = 1024,
    rank_max_k: int = 20,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Top-``n_candidates`` (user_idx, item_idx, score, rank) and each target's full-ranking rank.

    Only the given users that have a ``split`` target are scored. The target rank comes from the shared
    ``rank_targets_chunked`` (censored at ``max(rank_max_k, n_candidates)``, enough for metrics up to that k).
    """
    rows, inputs, targets = data.evaluation_inputs(split, max_length)
    wanted = np.isin(data.user_idx[rows], np.asarray(user_idx, dtype=np.int64))
    rows, inputs, targets = rows[wanted], inputs[wanted], targets[wanted]
    history = None
    if mask_history:
        offsets, items = data.history(split)
        history = (offsets[rows], offsets[rows + 1] - offsets[rows], items)
    top_items, top_scores = top_k_chunked(score_fn, inputs, n_candidates, data.n_items, history, chunk_size)
    ranks = rank_targets_chunked(
        score_fn, inputs, targets, data.n_items, history, chunk_size, max_k=max(rank_max_k, n_candidates)
    )
    n, k = top_items.shape
    candidates = pd.DataFrame(
        {
            "user_idx": np.repeat(data.user_idx[rows], k),
            "split": split,
            "item_idx": top_items.reshape(-1),
            "score": top_scores.reshape(-1).astype(np.float64),
            "rank": np.tile(np.arange(k), n),
        }
    )
    # Masked history items score -inf; when fewer than N items remain they are not candidates.
    candidates = candidates[np.isfinite(candidates["score"])]
    target_ranks = pd.DataFrame(
        {"user_idx": data.user_idx[rows], "split": split, "item_idx": targets, "rank": ranks.astype(np.int64)}
    )
    return candidates, target_ranks


def build_candidates(
    models: Mapping[int, nn.Module],
    data: UserSequences,
    user_idx: Sequence[int],
    n_candidates: int,
    max_length: int,
    **options: Unpack[ScoringOptions],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``recommender_candidates`` and target ranks (``TARGET_COLUMNS``) for both splits and every seed."""
    candidate_parts, target_parts = [], []
    for seed, model in sorted(models.items()):
        score_fn = model_score_fn(model)
        for split in ("valid", "test"):
            candidates, targets = split_candidates(
                score_fn, data, split, user_idx, n_candidates, max_length, **options
            )
            candidate_parts.append(candidates.assign(seed=int(seed)))
            target_parts.append(targets.assign(seed=int(seed)))
    candidates = pd.concat(candidate_parts, ignore_index=True)[CANDIDATE_COLUMNS]
    targets = pd.concat(target_parts, ignore_index=True)[TARGET_COLUMNS]
    types = {"user_idx": np.int64, "seed": np.int64, "item_idx": np.int64, "rank": np.int64}
    return candidates.astype(types), targets.astype(types)
