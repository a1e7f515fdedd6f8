"""The fusion options of issue 13: each trains, keeps padding zero, and (additive, adaptor) starts as SASRec."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from momorec.data.sequences import UserSequences
from momorec.models.adaptor_code_fusion import AdaptorCodeFusion
from momorec.models.adaptor_fusion import AdaptorFusion, MixtureOfWhiteningExperts
from momorec.models.additive_fusion import AdditiveFusion
from momorec.models.gated_fusion import GatedFusion, frequency_features
from momorec.models.layers import cheap_keep_mask
from momorec.models.momorec import semantic_id_matrix
from momorec.models.sasrec import SASRec
from momorec.models.trainer import TrainingConfig, fit
from tests.models.conftest import make_item_semantic_ids

TINY = {"hidden_size": 16, "n_blocks": 1, "n_heads": 2, "max_length": 8, "dropout": 0.1}


def _codes(n_items: int) -> np.ndarray:
    return semantic_id_matrix(make_item_semantic_ids(n_items), n_items)


def _item_vectors(n_items: int, dim: int = 12) -> np.ndarray:
    vectors = np.random.default_rng(1).normal(size=(n_items, dim)).astype(np.float32)
    vectors[3] = 0.0  # an item with no text: a zero row
    return vectors


def build(option: str, data: UserSequences) -> SASRec:
    n_items = data.n_items
    if option == "additive":
        return AdditiveFusion(n_items, _codes(n_items), code_embedding_size=8, **TINY)
    if option == "gated":
        return GatedFusion(n_items, _codes(n_items), data.item_train_frequency(), **TINY)
    if option == "adaptor_additive":
        return AdaptorCodeFusion(n_items, _item_vectors(n_items), _codes(n_items), 8, n_experts=3, **TINY)
    return AdaptorFusion(n_items, _item_vectors(n_items), n_experts=3, **TINY)


OPTIONS = ["additive", "gated", "adaptor", "adaptor_additive"]


@pytest.mark.parametrize("option", OPTIONS)
def test_each_fusion_option_trains_on_a_tiny_log_and_keeps_padding_zero(sequences, option):
    torch.manual_seed(0)
    model = build(option, sequences)
    assert torch.all(model.item_representations()[0] == 0)
    result = fit(model, sequences, TrainingConfig(epochs=8, patience=8, batch_size=16, learning_rate=0.01))
    losses = [record["loss"] for record in result.history]
    assert losses[-1] < 0.8 * losses[0]
    table = model.item_representations()
    assert table.shape == (sequences.n_items + 1, TINY["hidden_size"]) and torch.isfinite(table).all()
    assert torch.all(table[0] == 0)


@pytest.mark.parametrize("option", ["additive", "adaptor", "adaptor_additive"])
def test_additive_and_adaptor_start_exactly_as_sasrec(sequences, option):
    torch.manual_seed(0)
    fused = build(option, sequences).eval()
    sasrec = SASRec(sequences.n_items, **TINY).eval()
    # Every SASRec weight comes from the fused model; the fused model's own extra weights are left out.
    outcome = sasrec.load_state_dict(fused.state_dict(), strict=False)
    assert outcome.missing_keys == [] and outcome.unexpected_keys
    inputs = torch.tensor([[0, 0, 3, 4, 5], [1, 2, 3, 4, 5], [0, 0, 0, 0, 7]])
    with torch.no_grad():
        assert torch.equal(fused.score_all(inputs), sasrec.score_all(inputs))
        # The side input is there, only scaled to zero: a non-zero scale changes the scores.
        scales = {"additive": ["code_scale"], "adaptor": ["adapted_scale"]}
        for name in scales.get(option, ["code_scale", "adapted_scale"]):
            before = fused.score_all(inputs)
            getattr(fused, name).fill_(0.5)
            assert not torch.allclose(fused.score_all(inputs), before), name


def test_additive_scale_receives_a_gradient_at_zero(sequences):
    """A zero scale must not be a fixed point, or the codes would never enter the model."""
    torch.manual_seed(0)
    model = build("additive", sequences).train()
    scores = model.score_all(torch.tensor([[1, 2, 3], [4, 5, 6]]))
    torch.nn.functional.cross_entropy(scores, torch.tensor([3, 6])).backward()
    assert model.code_scale.grad is not None and model.code_scale.grad.abs().sum() > 0


def test_items_sharing_codes_share_the_code_part_and_items_without_codes_get_none():
    codes = np.array([[0, 1], [0, 1], [2, 3], [-1, -1]])
    model = AdditiveFusion(4, codes, code_embedding_size=8, **TINY)
    summed = model.codes()
    assert torch.equal(summed[1], summed[2]) and not torch.equal(summed[1], summed[3])
    assert torch.all(summed[4] == 0) and torch.all(summed[0] == 0)


def test_frequency_features_and_the_gate_follow_training_counts():
    features = frequency_features(np.array([0.0, 1.0, 10.0, 100.0]))
    assert features.shape == (4, 2) and features[:, 1].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert np.all(np.diff(features[:, 0]) > 0) and abs(features[:, 0].mean()) < 1e-6
    assert np.isfinite(frequency_features(np.ones(3))).all()  # no spread: no division by zero
    with pytest.raises(ValueError, match="non-negative"):
        frequency_features(np.array([1.0, -2.0]))
    model = GatedFusion(4, np.zeros((4, 1), dtype=np.int64), np.array([0, 1, 10, 100]), **TINY)
    assert torch.allclose(model.item_gates(), torch.full((5, 16), 0.95))  # starts close to SASRec
    with torch.no_grad():
        model.gate.weight[:, 0] = 2.0  # a gate that opens with frequency: frequent items keep their ID
    gates = model.item_gates()[1:, 0]
    assert torch.all(gates[1:] > gates[:-1])
    with pytest.raises(ValueError, match="item_train_frequency"):
        GatedFusion(4, np.zeros((4, 1), dtype=np.int64), np.ones(3), **TINY)
    with pytest.raises(ValueError, match="initial_id_weight"):
        GatedFusion(4, np.zeros((4, 1), dtype=np.int64), np.ones(4), initial_id_weight=1.0, **TINY)


@pytest.mark.parametrize("option", ["adaptor", "adaptor_additive"])
def test_a_text_first_adaptor_starts_from_its_text_and_trains(sequences, option):
    """adaptor_scale_init 1: the adaptor's term is in the scores from the first step (UniSRec's start)."""
    torch.manual_seed(0)
    vectors, n_items = _item_vectors(sequences.n_items), sequences.n_items
    model = (
        AdaptorFusion(n_items, vectors, n_experts=3, adaptor_scale_init=1.0, **TINY)
        if option == "adaptor"
        else AdaptorCodeFusion(
            n_items, vectors, _codes(n_items), 8, n_experts=3, adaptor_scale_init=1.0, **TINY
        )
    )
    assert torch.equal(model.adapted_scale.detach(), torch.ones(TINY["hidden_size"]))
    sasrec = SASRec(n_items, **TINY).eval()
    sasrec.load_state_dict(model.state_dict(), strict=False)
    inputs = torch.tensor([[0, 0, 3, 4, 5], [1, 2, 3, 4, 5]])
    with torch.no_grad():
        assert not torch.allclose(model.eval().score_all(inputs), sasrec.score_all(inputs))
    result = fit(
        model.train(), sequences, TrainingConfig(epochs=8, patience=8, batch_size=16, learning_rate=0.01)
    )
    losses = [record["loss"] for record in result.history]
    assert losses[-1] < 0.8 * losses[0]
    assert torch.all(model.item_representations()[0] == 0)
    with pytest.raises(ValueError, match="adaptor_scale_init"):
        AdaptorFusion(n_items, vectors, adaptor_scale_init=float("nan"), **TINY)


def test_adaptor_reads_frozen_vectors_and_refuses_bad_ones():
    vectors = _item_vectors(10)
    model = AdaptorFusion(10, vectors, n_experts=2, **TINY).eval()
    assert not any(p.data_ptr() == model.item_vectors.data_ptr() for p in model.parameters())
    with torch.no_grad():
        model.adapted_scale.fill_(1.0)
        before = model.item_representations()[6].clone()
        model.item_vectors[6] += 1.0  # item 5's vector (row 0 is padding)
        assert not torch.allclose(model.item_representations()[6], before)
    with pytest.raises(ValueError, match="shape"):
        AdaptorFusion(10, vectors[:9], **TINY)
    bad = vectors.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AdaptorFusion(10, bad, **TINY)
    with pytest.raises(ValueError, match="n_experts"):
        AdaptorFusion(10, vectors, n_experts=0, **TINY)


def test_whitening_experts_compute_their_definition():
    # Each expert is (x − b_k) W_k and the gate mixes them per item; the fast path must equal that directly.
    torch.manual_seed(0)
    vectors = torch.randn(7, 5) + 3.0  # off-centre inputs: the centring must matter
    adaptor = MixtureOfWhiteningExperts(vectors, output_size=4, n_experts=3, dropout=0.0)
    with torch.no_grad():
        adaptor.centres.add_(torch.randn(3, 5))  # experts with different centres
        adaptor.gate.weight.normal_()
    weights = torch.softmax(vectors @ adaptor.gate.weight.T, dim=-1)
    experts = [(vectors - adaptor.centres[k]) @ adaptor.experts[k] for k in range(3)]
    expected = sum(weights[:, k : k + 1] * experts[k] for k in range(3))
    assert torch.allclose(adaptor(vectors), expected, atol=1e-5)


def _adaptor_by_definition(adaptor: MixtureOfWhiteningExperts, x: torch.Tensor) -> torch.Tensor:
    """The adaptor written out: the gate as its own linear map, each expert on its own centred copy of x."""
    n_experts = adaptor.experts.shape[0]
    weights = torch.softmax(adaptor.gate(x), dim=-1)
    experts = [(x - adaptor.centres[k]) @ adaptor.experts[k] for k in range(n_experts)]
    return sum(weights[:, k : k + 1] * experts[k] for k in range(n_experts))


@pytest.mark.parametrize("n_experts", [1, 3])
def test_whitening_experts_in_training_equal_their_definition_on_the_dropped_input(n_experts):
    """The fused product (experts and gate together, dropout's scale after the product, no gate for one
    expert, rows gathered and masked in place) gives the definition's output and gradients on x ⊙ mask / (1 − p),
    with the mask drawn from the same generator state; the frozen table is left as it was."""
    torch.manual_seed(0)
    table = torch.randn(9, 40) + 2.0
    rows = torch.tensor([0, 2, 3, 7, 8])
    adaptor = MixtureOfWhiteningExperts(table, output_size=6, n_experts=n_experts, dropout=0.3).train()
    with torch.no_grad():
        adaptor.centres.add_(torch.randn(n_experts, 40))
        adaptor.gate.weight.normal_()
    original = table.clone()
    results = []
    for compute in ("fast", "definition"):
        adaptor.zero_grad()
        torch.manual_seed(5)
        if compute == "fast":
            output = adaptor(table, rows)
        else:
            keep, scale = cheap_keep_mask((len(rows), 40), 0.3)
            output = _adaptor_by_definition(adaptor, table[rows] * keep * scale)
        (output * torch.arange(6.0)).sum().backward()
        # One expert has no gate: its weight gets no gradient where the definition's softmax gives it zero.
        grads = {
            n: torch.zeros_like(p) if p.grad is None else p.grad.clone()
            for n, p in adaptor.named_parameters()
        }
        results.append((output.detach(), grads))
    (fast, fast_grads), (expected, expected_grads) = results
    torch.testing.assert_close(fast, expected, rtol=1e-5, atol=1e-5)
    for name, gradient in expected_grads.items():
        torch.testing.assert_close(fast_grads[name], gradient, rtol=1e-4, atol=1e-5, msg=name)
    assert torch.equal(table, original)
    # Some inputs were dropped (the output differs from eval mode), and the whole table is not masked in place.
    assert not torch.allclose(fast, adaptor.eval()(table, rows))
    adaptor.train()(table)
    assert torch.equal(table, original)


def test_cheap_keep_mask_keeps_one_minus_p_and_scales_to_the_expectation():
    torch.manual_seed(0)
    keep, scale = cheap_keep_mask((500, 1001), 0.2)
    assert keep.shape == (500, 1001) and keep.dtype == torch.bool
    kept = 1.0 - 13107 / 65536  # p = 0.2 in steps of 1 / 2**16
    assert scale == pytest.approx(1.0 / kept, rel=1e-12)
    assert float(keep.float().mean()) == pytest.approx(kept, abs=0.003)
    # Every 16-bit draw of a word is fair (a draw that is never dropped would show as a column kept above 1 − p).
    by_position = keep.flatten()[: 500 * 1000].view(-1, 4).float().mean(0)
    assert torch.allclose(by_position, torch.full((4,), kept), atol=0.005)
    torch.manual_seed(0)
    assert torch.equal(cheap_keep_mask((500, 1001), 0.2)[0], keep)  # the torch generator decides it
    all_kept, no_scale = cheap_keep_mask((3, 5), 0.0)
    assert bool(all_kept.all()) and no_scale == 1.0
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="dropout"):
            cheap_keep_mask((3, 5), bad)
    with pytest.raises(ValueError, match="dropout"):
        MixtureOfWhiteningExperts(torch.randn(4, 3), output_size=2, n_experts=1, dropout=1.0)


def test_code_tables_refuse_a_wrong_shape():
    with pytest.raises(ValueError, match="item_codes"):
        AdditiveFusion(5, np.zeros((4, 2), dtype=np.int64), **TINY)
    with pytest.raises(ValueError, match=">= 0"):
        AdditiveFusion(2, np.array([[0], [-3]]), **TINY)
