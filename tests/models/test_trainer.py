from __future__ import annotations

import numpy as np
import pytest

from momorec.evaluation.evaluator import evaluate_split
from momorec.evaluation.metrics import ndcg_at_k
from momorec.models.momorec import MoMoREC, semantic_id_matrix
from momorec.models.most_popular import MostPopular
from momorec.models.sasrec import SASRec
from momorec.models.trainer import TrainingConfig, fit, model_score_fn
from tests.models.conftest import make_item_semantic_ids

TINY = {"hidden_size": 16, "n_blocks": 1, "n_heads": 2, "max_length": 8, "dropout": 0.1}


@pytest.mark.parametrize("loss", ["ce", "bce"])
def test_training_on_a_tiny_log_reduces_the_loss(sequences, loss):
    model = SASRec(sequences.n_items, **TINY)
    result = fit(
        model, sequences, TrainingConfig(epochs=8, patience=8, batch_size=16, learning_rate=0.01, loss=loss)
    )
    losses = [record["loss"] for record in result.history]
    assert losses[-1] < 0.8 * losses[0]
    assert 0 <= result.best_epoch < len(losses)


def test_momorec_trains_too(sequences):
    codes = semantic_id_matrix(make_item_semantic_ids(sequences.n_items), sequences.n_items)
    model = MoMoREC(sequences.n_items, codes, code_embedding_size=8, **TINY)
    result = fit(model, sequences, TrainingConfig(epochs=6, patience=6, batch_size=16, learning_rate=0.01))
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_no_validation_or_test_item_is_visible_at_training_time(sequences):
    """Every batch the trainer builds holds only training-prefix transitions of the batch's users."""
    seen: dict[int, set[tuple[int, int]]] = {}

    def record(users, inputs, targets):
        for user, row_inputs, row_targets in zip(users, inputs, targets, strict=True):
            items = set((row_inputs[row_inputs > 0] - 1).tolist()) | set(
                (row_targets[row_targets > 0] - 1).tolist()
            )
            assert sequences.valid_items[user] not in items
            assert sequences.test_items[user] not in items
            present = row_targets > 0
            seen.setdefault(int(user), set()).update(
                zip((row_inputs[present] - 1).tolist(), (row_targets[present] - 1).tolist(), strict=True)
            )

    fit(SASRec(sequences.n_items, **TINY), sequences, TrainingConfig(epochs=2, batch_size=7), on_batch=record)
    for user in range(sequences.n_users):
        prefix = sequences.train_items[sequences.train_offsets[user] : sequences.train_offsets[user + 1]]
        expected = set(zip(prefix[:-1].tolist(), prefix[1:].tolist(), strict=True))
        assert seen.get(user, set()) == expected  # all training transitions, nothing else
    assert sum(len(v) for v in seen.values()) == int(np.maximum(sequences.train_lengths - 1, 0).sum())


def test_early_stopping_keeps_the_best_epoch(sequences):
    model = SASRec(sequences.n_items, **TINY)
    result = fit(model, sequences, TrainingConfig(epochs=30, patience=2, batch_size=16, learning_rate=0.05))
    scores = [r["valid_ndcg_at_10"] for r in result.history]
    assert result.best_valid_ndcg_at_10 == max(scores)
    assert len(scores) == 30 or len(scores) - 1 - result.best_epoch == 2


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="loss"):
        TrainingConfig(loss="hinge")
    with pytest.raises(ValueError, match="epochs"):
        TrainingConfig(epochs=0)


def test_a_model_without_parameters_is_measured_not_trained(sequences):
    model = MostPopular(sequences.item_train_frequency())
    result = fit(model, sequences, TrainingConfig(epochs=5, batch_size=16))
    ranks = evaluate_split(model_score_fn(model), sequences, "valid", 8).ranks
    assert result.history == [] and result.best_epoch == -1
    assert result.best_valid_ndcg_at_10 == pytest.approx(float(ndcg_at_k(ranks, 10).mean()))
    assert result.best_valid_ndcg_at_10 > 0  # the tiny log has popular items to find


def test_config_from_recommender_params_with_defaults():
    params = {"training": {"epochs": 3}, "evaluation": {"chunk_size": 64}, "mask_history": False}
    config = TrainingConfig.from_params(params, seed=7)
    assert (config.epochs, config.eval_chunk_size, config.mask_history, config.seed) == (3, 64, False, 7)
    assert config.device == "cpu"
    defaults = TrainingConfig.from_params({"training": {}}, seed=0)
    assert defaults.eval_chunk_size == 2048 and defaults.mask_history is True
    with pytest.raises(TypeError):
        TrainingConfig.from_params({"training": {"epoch": 3}}, seed=0)
