"""The cheap alignment score: cosine between a user's profile text and a candidate's trait text.

Both texts go through the project's sentence encoder (``momorec.embeddings``). A user whose profile failed or
an item whose traits failed has no score (NaN): nothing is made up for it, fusion treats it as neutral.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from momorec.embeddings import encode_texts


def embedding_alignment_scores(
    candidates: pd.DataFrame,
    profile_texts: Mapping[int, str],
    trait_texts: Mapping[int, str],
    encoder: Any,
    batch_size: int = 64,
) -> np.ndarray:
    """Cosine(profile(user), traits(item)) for every candidate row (user_idx, item_idx); NaN when missing."""
    missing = {"user_idx", "item_idx"} - set(candidates.columns)
    if missing:
        raise ValueError(f"candidates: missing column(s) {sorted(missing)}")
    user_keys = np.fromiter(profile_texts.keys(), dtype=np.int64, count=len(profile_texts))
    item_keys = np.fromiter(trait_texts.keys(), dtype=np.int64, count=len(trait_texts))
    scores = np.full(len(candidates), np.nan, dtype=np.float64)
    if not len(user_keys) or not len(item_keys):
        return scores
    user_vectors = encode_texts(encoder, list(profile_texts.values()), batch_size, show_progress_bar=False)
    item_vectors = encode_texts(encoder, list(trait_texts.values()), batch_size, show_progress_bar=False)
    user_row = pd.Index(user_keys).get_indexer(candidates["user_idx"].to_numpy())
    item_row = pd.Index(item_keys).get_indexer(candidates["item_idx"].to_numpy())
    # An empty text encodes to a zero row: treat it as missing too, not as "orthogonal".
    user_ok = (user_row >= 0) & (np.abs(user_vectors).sum(1)[np.maximum(user_row, 0)] > 0)
    item_ok = (item_row >= 0) & (np.abs(item_vectors).sum(1)[np.maximum(item_row, 0)] > 0)
    both = user_ok & item_ok
    scores[both] = np.einsum("nd,nd->n", user_vectors[user_row[both]], item_vectors[item_row[both]])
    return scores
