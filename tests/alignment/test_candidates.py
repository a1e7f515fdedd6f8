"""Candidates come from the recommender's model and evaluator: masked history, same target ranks."""

from __future__ import annotations

import numpy as np
import pytest

from momorec.alignment.candidates import build_candidates, train_base_model
from momorec.data.sequences import UserSequences
from momorec.evaluation import evaluate_split
from momorec.models.trainer import model_score_fn

RECOMMENDER = {
    "model": {"hidden_size": 8, "n_blocks": 1, "n_heads": 1, "max_length": 8, "dropout": 0.1},
    "training": {"epochs": 1, "patience": 1, "batch_size": 8, "learning_rate": 0.01},
    "mask_history": True,
    "runtime": {"device": "cpu"},
}


@pytest.fixture(scope="module")
def trained():
    from tests.alignment.tiny_data import tiny_interactions

    data = UserSequences.from_interactions(tiny_interactions(), n_items=16)
    return data, {seed: train_base_model(data, RECOMMENDER, seed) for seed in (0, 1)}


def test_candidates_and_targets(trained):
    data, models = trained
    users = np.array([0, 3, 5, 8])
    candidates, targets = build_candidates(models, data, users, n_candidates=5, max_length=8)
    assert list(candidates.columns) == ["user_idx", "split", "seed", "item_idx", "score", "rank"]
    counts = candidates.groupby(["user_idx", "split", "seed"]).size()
    assert len(counts) == len(users) * 2 * 2 and (counts == 5).all()
    assert set(targets["user_idx"]) == set(users)

    for split in ("valid", "test"):
        offsets, items = data.history(split)
        for user in users:
            seen = set(items[offsets[user] : offsets[user + 1]])
            listed = set(candidates.query("user_idx == @user and split == @split")["item_idx"])
            assert not seen & listed  # history masked, as in the recommender's evaluation

    # Target ranks equal the shared evaluator's (censored at 20 like the recommender's results).
    for seed, model in models.items():
        for split in ("valid", "test"):
            reference = evaluate_split(model_score_fn(model), data, split, 8, True)
            expected = dict(zip(data.user_idx[reference.rows], reference.ranks, strict=True))
            got = targets[(targets["seed"] == seed) & (targets["split"] == split)]
            assert all(expected[u] == r for u, r in zip(got["user_idx"], got["rank"], strict=True))


def test_target_inside_the_list_has_its_list_position(trained):
    data, models = trained
    candidates, targets = build_candidates(models, data, np.arange(12), n_candidates=16, max_length=8)
    merged = targets.merge(
        candidates, on=["user_idx", "split", "seed", "item_idx"], suffixes=("_target", "_list")
    )
    assert len(merged) > 0
    assert (merged["rank_list"] <= merged["rank_target"]).all()  # ties counted against the target


def test_unknown_base_variant_and_missing_semantic_ids(trained):
    data, _ = trained
    with pytest.raises(ValueError, match="base_variant"):
        train_base_model(data, RECOMMENDER, 0, "bert4rec")
    with pytest.raises(ValueError, match="item_semantic_ids"):
        train_base_model(data, RECOMMENDER, 0, "momorec")
