"""Representations of some items only (issue 28): a sampled-loss step pays for its items, not the catalogue."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from momorec.data.sequences import UserSequences
from momorec.models.losses import NegativeSampler, SampledSoftmaxSettings, sampled_softmax_loss
from momorec.models.momorec import MoMoREC
from momorec.models.sasrec import SASRec, item_table_in_chunks
from momorec.models.trainer import TrainingConfig, fit, sequence_loss
from tests.models.test_fusion_options import OPTIONS, TINY, _codes, build

FUSIONS = ["sasrec", "mlp", *OPTIONS]


def build_default(name: str, data: UserSequences) -> SASRec:
    """The fusion ``name`` as the project builds it (scales at zero)."""
    torch.manual_seed(0)
    if name == "sasrec":
        return SASRec(data.n_items, **TINY)
    if name == "mlp":
        return MoMoREC(data.n_items, _codes(data.n_items), code_embedding_size=8, **TINY)
    return build(name, data)


def build_fusion(name: str, data: UserSequences) -> SASRec:
    """The fusion ``name`` with every term switched on (random scales and gate), so each one shows."""
    model = build_default(name, data)
    with torch.no_grad():
        for parameter_name in ("code_scale", "adapted_scale"):
            if hasattr(model, parameter_name):
                getattr(model, parameter_name).normal_()
        if hasattr(model, "gate") and isinstance(model.gate, torch.nn.Linear) and name == "gated":
            model.gate.weight.normal_()
    return model


def old_sequence_loss(model: SASRec, inputs, targets, loss: str, sampler=None) -> torch.Tensor:
    """The loss as computed before issue 28: the whole item table at every step (the reference)."""
    item_table = model.item_representations()
    hidden = model.encode(inputs, item_table)
    present = targets > 0
    hidden, positive = hidden[present], targets[present]
    if loss == "sampled_ce":
        return sampled_softmax_loss(hidden, positive, item_table, *sampler.sample())
    negative = torch.randint(1, model.n_items + 1, positive.shape)
    positive_logit = (hidden * item_table[positive]).sum(-1)
    negative_logit = (hidden * item_table[negative]).sum(-1)
    return F.binary_cross_entropy_with_logits(
        positive_logit, torch.ones_like(positive_logit)
    ) + F.binary_cross_entropy_with_logits(negative_logit, torch.zeros_like(negative_logit))


@pytest.mark.parametrize("fusion", FUSIONS)
def test_the_rows_of_some_items_equal_the_rows_of_the_whole_table(sequences, fusion):
    model = build_fusion(fusion, sequences).eval()
    with torch.no_grad():
        table = model.item_representations()
        assert torch.all(table[0] == 0)
        ids = torch.tensor([7, 0, 3, 3, 30, 1, 0])  # unordered, repeated, padding twice, the last item
        rows = model.item_representations(ids)
        assert rows.shape == (len(ids), TINY["hidden_size"])
        torch.testing.assert_close(rows, table[ids], rtol=1e-5, atol=1e-6)
        assert torch.all(rows[ids == 0] == 0)
        assert model.item_representations(torch.tensor([], dtype=torch.long)).shape == (
            0,
            TINY["hidden_size"],
        )
        # The code/adaptor term is really there: the fused table differs from the bare ID embedding.
        if fusion != "sasrec":
            assert not torch.allclose(table[1:], model.item_embedding.weight[1:])


@pytest.mark.parametrize("fusion", FUSIONS)
def test_the_evaluation_table_in_chunks_equals_the_whole_table(sequences, fusion):
    model = build_fusion(fusion, sequences).eval()
    with torch.no_grad():
        whole = model.item_representations()
    chunked = item_table_in_chunks(model, chunk_size=7)  # 31 rows: four full chunks and a short one
    torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-6)
    assert not chunked.requires_grad
    assert torch.equal(item_table_in_chunks(model), whole)  # within one chunk: the very same computation


def _batch(data: UserSequences, size: int = 12):
    _, inputs, targets = data.training_windows(TINY["max_length"])
    return torch.as_tensor(inputs[:size]), torch.as_tensor(targets[:size])


@pytest.mark.parametrize("loss", ["sampled_ce", "bce"])
@pytest.mark.parametrize("fusion", FUSIONS)
def test_a_sampled_step_gives_the_loss_and_gradients_of_the_whole_table(sequences, fusion, loss):
    """Same random draws in the same order (dropout on), so the loss and every gradient match the reference.

    The adaptor's own dropout draws per computed row, so it is compared in eval mode (its step draws fewer
    numbers by design); every other fusion trains with dropout here.
    """
    inputs, targets = _batch(sequences)
    settings = SampledSoftmaxSettings(negatives=6, sampling="popularity")
    results = []
    for loss_fn in (old_sequence_loss, sequence_loss):
        model = build_fusion(fusion, sequences)
        model.train(not fusion.startswith("adaptor"))
        sampler = NegativeSampler(sequences.n_items, settings, sequences.item_train_frequency())
        torch.manual_seed(3)
        value = loss_fn(model, inputs, targets, loss, sampler)
        value.backward()
        results.append((value.detach(), {n: p.grad for n, p in model.named_parameters()}))
    (old, old_grads), (new, new_grads) = results
    torch.testing.assert_close(new, old, rtol=1e-5, atol=1e-6)
    assert old_grads.keys() == new_grads.keys()
    for name, gradient in old_grads.items():
        if gradient is None:
            assert new_grads[name] is None or torch.all(new_grads[name] == 0), name
        else:
            torch.testing.assert_close(new_grads[name], gradient, rtol=1e-4, atol=1e-6, msg=name)


def test_a_step_computes_the_representations_of_its_items_only(sequences):
    """The item ids the step asks for: its inputs (with padding), then only the targets/negatives not yet in."""
    model = build_fusion("additive", sequences)
    asked = []
    original = model.item_representations

    def spy(item_ids=None):
        asked.append(None if item_ids is None else item_ids.tolist())
        return original(item_ids)

    model.item_representations = spy
    inputs, targets = _batch(sequences, size=3)
    settings = SampledSoftmaxSettings(negatives=4, sampling="uniform")
    sequence_loss(model, inputs, targets, "sampled_ce", NegativeSampler(sequences.n_items, settings))
    assert None not in asked and len(asked) in (1, 2)
    input_ids = sorted({0, *inputs.flatten().tolist()})
    assert asked[0] == input_ids
    extra = asked[1] if len(asked) == 2 else []
    assert not set(extra) & set(input_ids) and len(set(extra)) == len(extra)
    assert set(targets[targets > 0].tolist()) <= set(input_ids) | set(extra)
    assert len(input_ids) + len(extra) <= 1 + inputs.numel() + targets.numel() + 4


@pytest.mark.parametrize("fusion", FUSIONS)
def test_sampled_ce_training_lowers_the_loss_for_every_fusion(sequences, fusion):
    model = build_default(fusion, sequences)
    config = TrainingConfig(
        epochs=8,
        patience=8,
        batch_size=16,
        learning_rate=0.01,
        loss="sampled_ce",
        sampled_ce={"negatives": 8, "sampling": "popularity"},
    )
    losses = [record["loss"] for record in fit(model, sequences, config).history]
    assert losses[-1] < 0.8 * losses[0]
    table = item_table_in_chunks(model)
    assert torch.isfinite(table).all() and torch.all(table[0] == 0)
