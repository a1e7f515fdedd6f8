"""Sampled softmax (models/losses.py): exactness with every item as a negative, the log-Q correction, the
automatic choice between ``ce`` and ``sampled_ce``, and training with it through the trainer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from momorec.models.losses import (
    NegativeSampler,
    SampledSoftmaxSettings,
    choose_loss,
    sampled_softmax_loss,
)
from momorec.models.sasrec import SASRec
from momorec.models.trainer import TrainingConfig, fit


def _tiny(n_items: int = 6, positions: int = 5, hidden: int = 4, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    item_table = torch.randn(n_items + 1, hidden, generator=generator)
    states = torch.randn(positions, hidden, generator=generator)
    targets = torch.randint(1, n_items + 1, (positions,), generator=generator)
    return states, targets, item_table


def test_every_item_as_uniform_negative_is_exactly_the_full_softmax_ce():
    states, targets, item_table = _tiny()
    n_items = item_table.shape[0] - 1
    everything = torch.arange(1, n_items + 1)
    # Uniform sampling of N = n_items negatives: log(N q_j) = log(n_items / n_items) = 0.
    sampler = NegativeSampler(n_items, SampledSoftmaxSettings(negatives=n_items, sampling="uniform"))
    _, log_expected = sampler.sample()
    assert torch.allclose(log_expected, torch.zeros(n_items))
    sampled = sampled_softmax_loss(states, targets, item_table, everything, log_expected)
    full = F.cross_entropy(states @ item_table[1:].T, targets - 1)
    assert torch.allclose(sampled, full, atol=1e-6)


def test_the_log_q_correction_makes_popularity_sampling_estimate_the_full_ce():
    """Three items, one drawn 90 % of the time: the corrected loss matches full CE, the raw one does not."""
    torch.manual_seed(0)
    item_table = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]])
    states = torch.tensor([[2.0, 0.5], [0.3, 1.5]])
    targets = torch.tensor([1, 2])
    counts = np.array([1.0, 4.0, 40.0])  # + 1 each inside the sampler: q = (2, 5, 41) / 48
    sampler = NegativeSampler(3, SampledSoftmaxSettings(negatives=200_000), counts)
    assert torch.allclose(sampler.probabilities, torch.tensor([2.0, 5.0, 41.0]) / 48)
    negatives, log_expected = sampler.sample()
    assert torch.allclose(log_expected, torch.log(200_000 * sampler.probabilities[negatives - 1]))
    full = F.cross_entropy(states @ item_table[1:].T, targets - 1)
    corrected = sampled_softmax_loss(states, targets, item_table, negatives, log_expected)
    uncorrected = sampled_softmax_loss(states, targets, item_table, negatives)
    assert abs(float(corrected) - float(full)) < 0.01
    assert abs(float(uncorrected) - float(full)) > 1.0


def test_a_negative_equal_to_the_target_is_not_counted_against_it():
    states, targets, item_table = _tiny(positions=1)
    only_the_target = targets.clone()
    loss = sampled_softmax_loss(states, targets, item_table, only_the_target, torch.zeros(1))
    assert float(loss) == pytest.approx(0.0, abs=1e-7)


def test_uniform_sampler_draws_tokens_in_range_and_bad_settings_fail():
    sampler = NegativeSampler(5, SampledSoftmaxSettings(negatives=1000, sampling="uniform"))
    tokens, log_expected = sampler.sample()
    assert tokens.min() >= 1 and tokens.max() <= 5 and len(set(tokens.tolist())) == 5
    assert torch.allclose(log_expected, torch.full((1000,), float(np.log(1000 / 5))))
    with pytest.raises(ValueError, match="sampling"):
        SampledSoftmaxSettings(sampling="zipf")
    with pytest.raises(ValueError, match="negatives"):
        SampledSoftmaxSettings(negatives=0)
    with pytest.raises(ValueError, match="unknown key"):
        SampledSoftmaxSettings.from_mapping({"negative": 10})
    with pytest.raises(ValueError, match="item counts"):
        NegativeSampler(5, SampledSoftmaxSettings(), np.ones(4))
    with pytest.raises(ValueError, match=r"\(P, d\)"):
        sampled_softmax_loss(torch.zeros(3), torch.ones(3, dtype=torch.long), torch.zeros(4, 1), tokens)


def test_auto_chooses_sampled_ce_only_above_the_catalogue_size():
    settings = SampledSoftmaxSettings(above_items=10_000)
    assert choose_loss("auto", 4_344, settings) == "ce"
    assert choose_loss("auto", 10_000, settings) == "ce"
    assert choose_loss("auto", 16_900, settings) == "sampled_ce"
    assert choose_loss("ce", 100_000, settings) == "ce"  # an explicit loss is kept
    with pytest.raises(ValueError, match="training.loss"):
        TrainingConfig(loss="softmax")


@pytest.mark.parametrize("sampling", ["uniform", "popularity"])
def test_training_with_sampled_ce_reduces_the_loss_and_reports_it(sequences, sampling):
    model = SASRec(sequences.n_items, hidden_size=16, n_blocks=1, n_heads=2, max_length=8, dropout=0.1)
    config = TrainingConfig(
        epochs=8,
        patience=8,
        batch_size=16,
        learning_rate=0.01,
        loss="auto",
        sampled_ce={"negatives": 8, "sampling": sampling, "above_items": sequences.n_items - 1},
    )
    result = fit(model, sequences, config)
    assert result.loss == "sampled_ce"
    assert result.history[-1]["loss"] < 0.8 * result.history[0]["loss"]
    assert result.history[-1]["valid_recall_at_10"] > 0.5  # the tiny log's pattern is learnable
