"""The variant table and its one model factory: every variant builds, fails loudly, and can be rebuilt."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from momorec.data.sequences import UserSequences
from momorec.models.adaptor_code_fusion import AdaptorCodeFusion
from momorec.models.adaptor_fusion import AdaptorFusion
from momorec.models.additive_fusion import AdditiveFusion
from momorec.models.gated_fusion import GatedFusion
from momorec.models.momorec import MoMoREC
from momorec.models.most_popular import MostPopular
from momorec.models.sasrec import SASRec
from momorec.models.trainer import model_score_fn
from momorec.models.variants import (
    FUSION_CLASSES,
    MODEL_KINDS,
    VARIANT_SPECS,
    build_model,
    model_kind,
    rebuild_model,
    text_init_vectors,
    variant_inputs,
)
from tests.models.conftest import make_interactions, make_item_semantic_ids

PARAMS = {
    "model": {"hidden_size": 8, "n_blocks": 1, "n_heads": 1, "max_length": 6, "dropout": 0.1},
    "semantic_ids": {"n_layers_used": 2, "use_dedup": False, "code_embedding_size": 4},
}


@pytest.fixture
def data() -> UserSequences:
    return UserSequences.from_interactions(make_interactions(n_users=20, n_items=30), n_items=30)


def _dataset(name: str):
    if name == "item_text_embeddings":
        return np.random.default_rng(0).normal(size=(30, 12))
    if name == "text_motivation_item_vectors":
        return np.random.default_rng(1).normal(size=(30, 20))
    return make_item_semantic_ids(30, n_layers=3)


def _side_input(variant: str):
    """The variant's side input as the pipeline hands it over: nothing, one dataset or a tuple of them."""
    return model_kind(variant).pack([_dataset(name) for name in variant_inputs(variant)])


def _semantic_ids(variant: str):
    return model_kind(variant).semantic_id_table(_side_input(variant))


def test_every_spec_names_a_model_kind_and_builds(data):
    expected = {
        "sasrec": SASRec,
        "momorec": MoMoREC,
        "most_popular": MostPopular,
        "adaptor": AdaptorFusion,
        "adaptor_codes": AdaptorCodeFusion,
    }
    for variant, spec in VARIANT_SPECS.items():
        assert spec["model"] in MODEL_KINDS
        model = build_model(variant, data, PARAMS, _side_input(variant), seed=0)
        assert type(model) is expected[spec["model"]]
        assert model.score_all(torch.tensor([[1, 2, 3]])).shape == (1, 30)


def test_settings_reach_the_model(data):
    model = build_model("momorec", data, PARAMS, _side_input("momorec"), seed=0)
    assert len(model.code_tables) == 2 and model.code_tables[0].embedding_dim == 4
    # Missing semantic-ID settings take MoMoREC's defaults: every layer, 32-dim code tables.
    defaults = build_model("momorec", data, {"model": PARAMS["model"]}, _side_input("momorec"), seed=0)
    assert len(defaults.code_tables) == 3 and defaults.code_tables[0].embedding_dim == 32
    text = build_model("sasrec_text_init", data, PARAMS, _side_input("sasrec_text_init"), seed=0)
    expected = text_init_vectors(_side_input("sasrec_text_init"), 30, 8)
    assert np.allclose(text.item_embedding.weight[1:].detach().numpy(), expected)


def test_unknown_variant_and_missing_input_fail(data):
    with pytest.raises(ValueError, match="unknown recommender variant"):
        build_model("bert4rec", data, PARAMS)
    with pytest.raises(ValueError, match="item_semantic_ids"):
        build_model("momorec", data, PARAMS)
    with pytest.raises(ValueError, match="item_text_embeddings"):
        build_model("sasrec_text_init", data, PARAMS)


def test_same_seed_same_weights_and_a_state_dict_rebuilds_the_model(data):
    side_input = _side_input("momorec")
    first = build_model("momorec", data, PARAMS, side_input, seed=3)
    again = build_model("momorec", data, PARAMS, side_input, seed=3)
    other = build_model("momorec", data, PARAMS, side_input, seed=4)
    sequences = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7]])
    first.eval(), again.eval(), other.eval()
    assert torch.equal(first.score_all(sequences), again.score_all(sequences))
    assert not torch.equal(first.score_all(sequences), other.score_all(sequences))
    other.load_state_dict(first.state_dict())
    assert torch.equal(first.score_all(sequences), other.score_all(sequences))


def test_every_variant_rebuilds_from_its_state_dict(data):
    sequences = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7]])
    for variant in VARIANT_SPECS:
        trained = build_model(variant, data, PARAMS, _side_input(variant), seed=1).eval()
        rebuilt = rebuild_model(variant, data, PARAMS, trained.state_dict(), _semantic_ids(variant))
        assert torch.equal(rebuilt.score_all(sequences), trained.score_all(sequences)), variant
    with pytest.raises(ValueError, match="item_semantic_ids"):
        rebuild_model("momorec", data, PARAMS, {})


def test_most_popular_scores_training_counts_for_everyone(data):
    model = build_model("most_popular", data, PARAMS)
    assert model.n_parameters() == 0
    scores = model_score_fn(model)(torch.tensor([[1, 2], [0, 5]]))
    expected = torch.as_tensor(data.item_train_frequency())
    assert torch.equal(scores[0], expected) and torch.equal(scores[1], expected)
    # The counts are state: a rebuilt model gets them from the state dict.
    rebuilt = MostPopular(np.zeros(30))
    rebuilt.load_state_dict(model.state_dict())
    assert torch.equal(rebuilt.item_representations(), expected)
    with pytest.raises(ValueError, match="n_items"):
        MostPopular(np.zeros((3, 2)))


def test_text_init_vectors_are_a_scaled_pca():
    embeddings = np.random.default_rng(0).normal(size=(50, 12))
    vectors = text_init_vectors(embeddings, 50, 4)
    assert vectors.shape == (50, 4) and vectors.dtype == np.float32
    assert np.isclose(vectors.std(), 0.02, rtol=1e-3)
    # principal directions: the first component carries at least as much variance as the last
    assert vectors[:, 0].var() >= vectors[:, 3].var()
    with pytest.raises(ValueError, match="shape"):
        text_init_vectors(embeddings, 49, 4)
    with pytest.raises(ValueError, match="dims"):
        text_init_vectors(embeddings, 50, 16)


def _perturbed(model: torch.nn.Module) -> torch.nn.Module:
    """Every trainable weight moved off its init (zero-start scales included), as training would."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    return model.eval()


@pytest.mark.parametrize(
    "fusion, model_class", [("mlp", MoMoREC), ("additive", AdditiveFusion), ("gated", GatedFusion)]
)
def test_fusion_setting_selects_the_class_of_every_semantic_id_variant_and_rebuilds(
    data, fusion, model_class
):
    params = {**PARAMS, "semantic_ids": {**PARAMS["semantic_ids"], "fusion": fusion}}
    sequences = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7]])
    semantic_id_variants = [v for v, spec in VARIANT_SPECS.items() if spec["model"] == "momorec"]
    assert {"momorec", "sid_text_only", "leak_canary"} <= set(semantic_id_variants)
    for variant in semantic_id_variants:
        trained = _perturbed(build_model(variant, data, params, _side_input(variant), seed=2))
        assert type(trained) is model_class, variant
        rebuilt = rebuild_model(variant, data, params, trained.state_dict(), _side_input(variant))
        assert type(rebuilt) is model_class
        assert torch.equal(rebuilt.score_all(sequences), trained.score_all(sequences)), (fusion, variant)
    # Variants without semantic IDs ignore the setting.
    assert type(build_model("sasrec", data, params, seed=0)) is SASRec


def test_fusion_default_is_mlp_and_an_unknown_fusion_fails(data):
    assert set(FUSION_CLASSES) == {"mlp", "additive", "gated"}
    assert type(build_model("momorec", data, PARAMS, _side_input("momorec"), seed=0)) is MoMoREC
    bad = {**PARAMS, "semantic_ids": {**PARAMS["semantic_ids"], "fusion": "concat"}}
    with pytest.raises(ValueError, match="fusion: 'concat'"):
        build_model("momorec", data, bad, _side_input("momorec"), seed=0)


@pytest.mark.parametrize("variant", ["sasrec_adaptor_text", "momorec_adaptor"])
def test_adaptor_variants_read_their_frozen_vectors_and_rebuild_from_the_state_dict_alone(data, variant):
    vectors = _side_input(variant)
    trained = _perturbed(build_model(variant, data, PARAMS, vectors, seed=0))
    assert type(trained) is AdaptorFusion
    assert np.allclose(trained.item_vectors[1:].numpy(), vectors)
    rebuilt = rebuild_model(variant, data, PARAMS, trained.state_dict())
    sequences = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7]])
    assert torch.equal(rebuilt.score_all(sequences), trained.score_all(sequences))
    with pytest.raises(ValueError, match=VARIANT_SPECS[variant]["input"]):
        build_model(variant, data, PARAMS)


@pytest.mark.parametrize(
    ("variant", "ids"),
    [("sasrec_adaptor_text_codes", "text_item_semantic_ids"), ("momorec_adaptor_codes", "item_semantic_ids")],
)
def test_adaptor_code_variants_read_text_vectors_and_ids_and_rebuild_from_state_and_ids(data, variant, ids):
    assert variant_inputs(variant) == ("item_text_embeddings", ids)
    vectors, semantic_ids = _side_input(variant)
    trained = _perturbed(build_model(variant, data, PARAMS, (vectors, semantic_ids), seed=0))
    assert type(trained) is AdaptorCodeFusion
    assert np.allclose(trained.item_vectors[1:].numpy(), vectors)
    # The code settings reach the code term: two of the table's three layers, 4-dim code embeddings.
    assert len(trained.codes.tables) == 2 and trained.codes.tables[0].embedding_dim == 4
    rebuilt = rebuild_model(variant, data, PARAMS, trained.state_dict(), semantic_ids)
    sequences = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7]])
    assert torch.equal(rebuilt.score_all(sequences), trained.score_all(sequences))
    for incomplete in (None, vectors, (vectors, None), (None, semantic_ids)):
        with pytest.raises(ValueError, match=f"item_text_embeddings, {ids} missing"):
            build_model(variant, data, PARAMS, incomplete)
    with pytest.raises(ValueError, match="item_semantic_ids table"):
        rebuild_model(variant, data, PARAMS, trained.state_dict())
