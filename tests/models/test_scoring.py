"""Temperature-scaled cosine scoring beside the dot product (models/scoring.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from momorec.models.adaptor_fusion import AdaptorFusion
from momorec.models.losses import NegativeSampler, SampledSoftmaxSettings
from momorec.models.sasrec import SASRec
from momorec.models.scoring import CosineScoring, make_scoring
from momorec.models.trainer import TrainingConfig, fit, sequence_loss
from momorec.models.variants import build_model

TINY = {"hidden_size": 16, "n_blocks": 1, "n_heads": 2, "max_length": 8, "dropout": 0.1}


def test_cosine_scores_are_cosines_over_the_temperature():
    model = SASRec(12, scoring="cosine", temperature=0.1, **TINY).eval()
    sequences = torch.tensor([[0, 3, 4], [1, 2, 5]])
    scores = model.score_all(sequences)
    hidden = model.encode(sequences)[:, -1]
    table = model.item_representations()[1:]
    expected = torch.nn.functional.cosine_similarity(hidden[:, None], table[None], dim=-1) / 0.1
    assert torch.allclose(scores, expected, atol=1e-5)
    assert scores.abs().max() <= 1 / 0.1 + 1e-4


def test_dot_scoring_is_sasrecs_original_dot_product():
    torch.manual_seed(0)
    model = SASRec(12, **TINY).eval()
    sequences = torch.tensor([[0, 3, 4]])
    expected = model.encode(sequences)[:, -1] @ model.item_representations()[1:].T
    assert torch.equal(model.score_all(sequences), expected)


def test_the_padding_row_stays_zero_under_cosine():
    keys = CosineScoring(0.07).keys(torch.tensor([[0.0, 0.0], [3.0, 4.0]]))
    assert torch.equal(keys[0], torch.zeros(2)) and torch.allclose(keys[1], torch.tensor([0.6, 0.8]))


@pytest.mark.parametrize("bad", [{"scoring": "euclid"}, {"scoring": "cosine", "temperature": 0.0}])
def test_bad_scoring_settings_are_rejected(bad):
    with pytest.raises(ValueError, match="recommender.model"):
        make_scoring(bad["scoring"], bad.get("temperature", 0.07))


@pytest.mark.parametrize("loss", ["ce", "sampled_ce", "bce"])
def test_every_loss_reads_the_scoring(sequences, loss):
    """The same weights give different losses under dot and cosine scoring: no loss bypasses the scoring."""
    torch.manual_seed(0)
    dot = SASRec(sequences.n_items, **TINY)
    cosine = SASRec(sequences.n_items, scoring="cosine", temperature=0.05, **TINY)
    cosine.load_state_dict(dot.state_dict())
    inputs = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7]])
    targets = torch.tensor([[0, 2, 3, 4], [5, 6, 7, 8]])
    sampler = NegativeSampler(sequences.n_items, SampledSoftmaxSettings(negatives=8, sampling="uniform"))
    losses = []
    for model in (dot, cosine):
        model.eval()
        torch.manual_seed(1)
        losses.append(sequence_loss(model, inputs, targets, loss, sampler).item())
    assert np.isfinite(losses).all() and abs(losses[0] - losses[1]) > 1e-3


@pytest.mark.parametrize("loss", ["ce", "sampled_ce"])
def test_cosine_sasrec_and_adaptor_train_on_a_tiny_log(sequences, loss):
    vectors = np.random.default_rng(0).normal(size=(sequences.n_items, 12)).astype(np.float32)
    for model in (
        SASRec(sequences.n_items, scoring="cosine", temperature=0.1, **TINY),
        AdaptorFusion(sequences.n_items, vectors, scoring="cosine", temperature=0.1, **TINY),
    ):
        config = TrainingConfig(
            epochs=8, patience=8, batch_size=16, learning_rate=0.01, loss=loss, sampled_ce={"negatives": 8}
        )
        losses = [record["loss"] for record in fit(model, sequences, config).history]
        assert losses[-1] < 0.8 * losses[0]
        assert torch.equal(model.item_representations()[0], torch.zeros(TINY["hidden_size"]))


def test_the_model_settings_choose_the_scoring(sequences):
    params = {"model": {**TINY, "scoring": "cosine", "temperature": 0.2}}
    model = build_model("sasrec", sequences, params)
    assert isinstance(model.scoring, CosineScoring) and model.scoring.temperature == 0.2
    with pytest.raises(ValueError, match="scoring"):
        build_model("sasrec", sequences, {"model": {**TINY, "scoring": "bilinear"}})
