"""Embedding alignment scores: cosine of profile and trait texts, NaN (not a made-up value) when one is missing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from momorec.alignment.similarity import embedding_alignment_scores

VECTORS = {"camping": [1.0, 0.0, 0.0], "kitchen": [0.0, 1.0, 0.0], "camping kitchen": [0.6, 0.8, 0.0]}


class WordEncoder:
    """A stand-in sentence encoder: fixed unit vectors per known text."""

    def get_embedding_dimension(self) -> int:
        return 3

    def encode(self, texts, **kwargs):
        return np.asarray([VECTORS[text] for text in texts], dtype=np.float32)


def test_cosine_per_candidate_and_missing_sides_are_nan():
    candidates = pd.DataFrame({"user_idx": [0, 0, 1, 2, 0], "item_idx": [10, 11, 10, 10, 12]})
    profiles = {0: "camping", 1: "camping kitchen", 2: ""}
    traits = {10: "camping", 11: "kitchen"}
    scores = embedding_alignment_scores(candidates, profiles, traits, WordEncoder())
    assert np.allclose(scores[:3], [1.0, 0.0, 0.6])
    assert np.isnan(scores[3])  # empty profile text
    assert np.isnan(scores[4])  # item 12 has no traits


def test_no_profiles_at_all_gives_all_nan():
    candidates = pd.DataFrame({"user_idx": [0], "item_idx": [10]})
    assert np.isnan(embedding_alignment_scores(candidates, {}, {10: "camping"}, WordEncoder())).all()
