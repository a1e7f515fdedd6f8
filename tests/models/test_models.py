from __future__ import annotations

import numpy as np
import pytest
import torch

from momorec.data.sequences import UserSequences
from momorec.evaluation.evaluator import evaluate_split
from momorec.evaluation.metrics import metric_values
from momorec.models.layers import FastDropout
from momorec.models.momorec import MoMoREC, semantic_id_matrix
from momorec.models.sasrec import SASRec
from momorec.models.trainer import TrainingConfig, fit, model_score_fn
from tests.models.conftest import make_interactions, make_item_semantic_ids

TINY = {"hidden_size": 16, "n_blocks": 1, "n_heads": 2, "max_length": 6, "dropout": 0.1}


def test_sasrec_scores_every_item_and_ignores_left_padding():
    model = SASRec(12, **TINY).eval()
    sequences = torch.tensor([[0, 0, 3, 4], [1, 2, 3, 4]])
    scores = model.score_all(sequences)
    assert scores.shape == (2, 12) and torch.isfinite(scores).all()
    # More left padding does not change the prediction for the same items.
    longer = model.score_all(torch.tensor([[0, 0, 0, 0, 3, 4]]))
    assert torch.allclose(longer[0], scores[0], atol=1e-5)


def test_semantic_id_matrix_layers_dedup_and_missing_items():
    table = make_item_semantic_ids(10, n_layers=3).iloc[:8]  # items 8 and 9 have no row
    codes = semantic_id_matrix(table, 10)
    assert codes.shape == (10, 3) and (codes[8:] == -1).all() and codes[0, 0] == -1
    assert semantic_id_matrix(table, 10, n_layers_used=2).shape == (10, 2)
    with_dedup = semantic_id_matrix(table, 10, use_dedup=True)
    assert with_dedup.shape == (10, 4) and with_dedup[:8, 3].tolist() == table["dedup"].tolist()
    with pytest.raises(ValueError, match="n_layers_used"):
        semantic_id_matrix(table, 10, n_layers_used=4)
    with pytest.raises(ValueError, match="outside"):
        semantic_id_matrix(table, 5)
    with pytest.raises(ValueError, match="code_0"):
        semantic_id_matrix(table[["item_idx"]], 10)


def test_momorec_item_representation_uses_codes_and_keeps_padding_zero():
    codes = semantic_id_matrix(make_item_semantic_ids(10, n_layers=2), 10)
    model = MoMoREC(10, codes, code_embedding_size=8, **TINY).eval()
    table = model.item_representations()
    assert table.shape == (11, 16) and torch.all(table[0] == 0)
    assert len(model.code_tables) == 2 and model.code_tables[0].padding_idx == 0
    # Changing an item's code changes its representation; the item-ID embedding is still part of it.
    before = table[5].clone()
    with torch.no_grad():
        model.code_tables[1].weight[int(codes[4, 1]) + 1] += 1.0
    assert not torch.allclose(model.item_representations()[5], before)
    assert model.score_all(torch.tensor([[1, 2, 3]])).shape == (1, 10)


def test_fast_dropout_keeps_the_expectation():
    torch.manual_seed(0)
    dropout = FastDropout(0.5).train()
    x = torch.ones(200_000)
    out = dropout(x)
    assert abs(float(out.mean()) - 1.0) < 0.02 and set(torch.unique(out).tolist()) <= {0.0, 2.0}
    assert torch.equal(dropout.eval()(x), x)
    with pytest.raises(ValueError):
        FastDropout(1.0)


def test_text_initialised_embeddings_are_loaded():
    vectors = np.random.default_rng(0).normal(size=(12, 16)).astype(np.float32)
    model = SASRec(12, initial_item_embeddings=vectors, **TINY)
    assert torch.allclose(model.item_embedding.weight[1:], torch.as_tensor(vectors))
    with pytest.raises(ValueError, match="shape"):
        SASRec(12, initial_item_embeddings=vectors[:, :8], **TINY)


@pytest.mark.slow
def test_momorec_learns_the_next_item_pattern():
    """Regression: with SASRec's tiny init on the fusion layers, MoMoREC learnt little beyond popularity."""
    data = UserSequences.from_interactions(make_interactions(n_users=60, n_items=30), n_items=30)
    codes = semantic_id_matrix(make_item_semantic_ids(30), 30)
    torch.manual_seed(0)
    model = MoMoREC(30, codes, code_embedding_size=8, **{**TINY, "max_length": 8})
    fit(model, data, TrainingConfig(epochs=10, patience=10, batch_size=16, learning_rate=0.01))
    ranks = evaluate_split(model_score_fn(model), data, "test", 8).ranks
    assert metric_values(ranks)[("ndcg", 10)] > 0.9


def test_dedup_digit_is_recomputed_for_fewer_layers():
    import pandas as pd

    from momorec.models.momorec import semantic_id_matrix

    # Two items share code_0 but differ in code_1, so the table's dedup digit is 0 for both; using one
    # layer, the digit must separate them.
    table = pd.DataFrame(
        {"item_idx": [0, 1, 2], "code_0": [4, 4, -1], "code_1": [1, 2, -1], "dedup": [0, 0, -1]}
    )
    full = semantic_id_matrix(table, n_items=3, n_layers_used=None, use_dedup=True)
    assert full.tolist() == [[4, 1, 0], [4, 2, 0], [-1, -1, -1]]
    one_layer = semantic_id_matrix(table, n_items=3, n_layers_used=1, use_dedup=True)
    assert one_layer.tolist() == [[4, 0], [4, 1], [-1, -1]]
