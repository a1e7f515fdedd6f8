"""Unit tests of the serving pieces on hand-made data (no MLflow, no training)."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from momorec.data.sequences import UserSequences
from momorec.models.momorec import MoMoREC
from momorec.models.sasrec import SASRec
from momorec.models.variants import FUSION_CLASSES, MODEL_KINDS, VARIANT_SPECS, build_model, variant_inputs
from momorec.plots.training_curves import curves_table, plot_training_curves
from momorec.serving.artifacts import read_recommender, write_artifacts
from momorec.serving.batch import score_users, user_histories
from momorec.serving.recommender import Histories, Recommender, right_aligned_tokens
from momorec.serving.requests import RequestError, answer_requests
from tests.models.conftest import make_item_semantic_ids

N_ITEMS = 12
ARCHITECTURE = {"hidden_size": 8, "n_blocks": 1, "n_heads": 1, "max_length": 4, "dropout": 0.0}


def _items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_idx": np.arange(N_ITEMS),
            "item_id": [f"P{i}" for i in range(N_ITEMS)],
            "title": [f"Title {i}" for i in range(N_ITEMS)],
            "train_count": np.arange(N_ITEMS)[::-1] * 10,  # P0 is the most bought
        }
    )


def _recommender(kind: str = "sasrec") -> Recommender:
    torch.manual_seed(0)
    if kind == "sasrec":
        network = SASRec(N_ITEMS, **ARCHITECTURE)
    else:
        codes = np.random.default_rng(0).integers(-1, 3, size=(N_ITEMS, 2))
        network = MoMoREC(N_ITEMS, codes, code_embedding_size=4, **ARCHITECTURE)
    return Recommender(network, _items(), kind)


def test_right_aligned_tokens_keep_the_last_items_of_each_row():
    histories = Histories(3, [0, 0, 0, 2], [5, 6, 7, 1])
    assert right_aligned_tokens(histories, 2).tolist() == [[7, 8], [0, 0], [0, 2]]


def test_histories_must_be_sorted_by_row():
    with pytest.raises(ValueError, match="sorted"):
        Histories(2, [1, 0], [0, 0])


def _trained_network(variant: str, fusion: str) -> tuple[torch.nn.Module, dict]:
    """``variant``'s network as the factory builds it, every weight moved off its init (as training would)."""
    params = {"model": ARCHITECTURE, "semantic_ids": {"fusion": fusion, "code_embedding_size": 4}}
    datasets = [
        make_item_semantic_ids(N_ITEMS, n_layers=2)
        if name.endswith("item_semantic_ids")
        else np.random.default_rng(0).normal(size=(N_ITEMS, 10))
        for name in variant_inputs(variant)
    ]
    side_input = MODEL_KINDS[VARIANT_SPECS[variant]["model"]].pack(datasets)
    network = build_model(variant, UserSequences.empty(N_ITEMS), params, side_input, seed=0)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    return network.eval(), params


# Every variant that can become the registered model (all but most_popular, which never trains), and every
# fusion of the semantic-ID variants: a fusion option that wins on validation must also serve.
PACKAGEABLE = [
    (variant, fusion)
    for variant, spec in VARIANT_SPECS.items()
    if spec["model"] != "most_popular"
    for fusion in (FUSION_CLASSES if spec["model"] == "momorec" else ["mlp"])
]


@pytest.mark.parametrize("variant, fusion", PACKAGEABLE)
def test_packaged_network_is_rebuilt_with_identical_scores(tmp_path, variant, fusion):
    network, params = _trained_network(variant, fusion)
    artifacts = write_artifacts(tmp_path, network, variant, params, _items())
    assert ("item_semantic_ids" in artifacts) == MODEL_KINDS[
        VARIANT_SPECS[variant]["model"]
    ].reads_semantic_ids
    rebuilt = read_recommender(artifacts)
    assert type(rebuilt.network) is type(network)
    tokens = torch.tensor([[0, 1, 2, 3], [0, 0, 0, 5]])
    with torch.no_grad():
        assert torch.equal(rebuilt.network.score_all(tokens), network.score_all(tokens))


def test_a_package_of_format_1_is_still_read(tmp_path):
    # Format 1 (before the fusion options) kept model_kind and code_embedding_size at the top level.
    network, params = _trained_network("momorec", "mlp")
    artifacts = write_artifacts(tmp_path, network, "momorec", params, _items())
    config = json.loads((tmp_path / "config.json").read_text())
    old = {"format_version": 1, "variant": "momorec", "model_kind": "momorec", "n_items": N_ITEMS}
    old |= {"model": config["model"], "code_embedding_size": 4}
    (tmp_path / "config.json").write_text(json.dumps(old))
    tokens = torch.tensor([[0, 1, 2, 3]])
    with torch.no_grad():
        assert torch.equal(read_recommender(artifacts).network.score_all(tokens), network.score_all(tokens))


def test_a_package_without_its_code_table_or_of_an_unknown_variant_fails(tmp_path):
    network, params = _trained_network("momorec", "additive")
    artifacts = write_artifacts(tmp_path, network, "momorec", params, _items())
    with pytest.raises(ValueError, match="item_semantic_ids"):
        read_recommender({k: v for k, v in artifacts.items() if k != "item_semantic_ids"})
    with pytest.raises(ValueError, match="unknown recommender variant"):
        write_artifacts(tmp_path, network, "momorec_v2", params, _items())


def test_a_config_that_does_not_match_the_weights_fails_loudly(tmp_path):
    params = {"model": ARCHITECTURE}
    artifacts = write_artifacts(tmp_path, _recommender().network, "sasrec", params, _items())
    (tmp_path / "config.json").write_text(
        (tmp_path / "config.json").read_text().replace('"hidden_size": 8', '"hidden_size": 16')
    )
    with pytest.raises(RuntimeError, match="size mismatch"):
        read_recommender(artifacts)


def test_answers_mask_history_and_exclusions_and_report_unknown_ids():
    requests = pd.DataFrame(
        {"history": [["P1", "P2", "nope"], ["P3"]], "k": [N_ITEMS, 3], "exclude": [["P4", "gone"], None]}
    )
    answers = answer_requests(_recommender(), requests)
    first, second = answers.to_dict("records")
    assert len(first["product_ids"]) == N_ITEMS - 3  # P1, P2 and P4 never come back
    assert not {"P1", "P2", "P4"} & set(first["product_ids"])
    assert first["unknown_items"] == ["nope", "gone"]
    assert first["titles"] == [f"Title {p[1:]}" for p in first["product_ids"]]
    assert len(second["product_ids"]) == 3 and "P3" not in second["product_ids"]
    assert second["scores"] == sorted(second["scores"], reverse=True)
    unmasked = answer_requests(_recommender(), requests.iloc[[1]].assign(k=N_ITEMS), mask_history=False)
    assert "P3" in unmasked.loc[0, "product_ids"]


def test_no_known_item_means_popularity_flagged():
    answers = answer_requests(_recommender(), pd.DataFrame({"history": [[], ["nope"]], "k": [3, 2]}))
    assert answers["product_ids"].tolist() == [["P0", "P1", "P2"], ["P0", "P1"]]
    assert answers["scores"].tolist()[0] == [110.0, 100.0, 90.0]
    assert answers["popularity_fallback"].tolist() == [True, True]


@pytest.mark.parametrize(
    "requests, message",
    [
        (pd.DataFrame({"k": [3]}), "history"),
        (pd.DataFrame({"history": [["P1"]], "k": [0]}), "k: row 0 not a whole number"),
        (pd.DataFrame({"history": [["P1"]], "k": [2.5]}), "k: row 0 not a whole number"),
        (pd.DataFrame({"history": ["P1"]}), "list of product ids"),
    ],
)
def test_bad_requests_are_request_errors(requests, message):
    with pytest.raises(RequestError, match=message):
        answer_requests(_recommender(), requests)


def test_batch_scoring_gives_k_ranked_unseen_items_per_user():
    interactions = pd.DataFrame(
        {"user_idx": [0, 0, 1, 2, 2, 2], "item_idx": [3, 4, 5, 0, 1, 2], "position": [0, 1, 0, 0, 1, 2]}
    )
    users = pd.DataFrame({"user_idx": [0, 1, 2], "user_id": ["a", "b", "c"]})
    user_ids, histories = user_histories(interactions, users, ["c", "a"])
    assert user_ids.tolist() == ["c", "a"] and histories.items.tolist() == [0, 1, 2, 3, 4]
    table = score_users(_recommender(), user_ids, histories, k=4, chunk_size=1)
    assert table.groupby("user_id")["rank"].apply(list).to_dict() == {"a": [1, 2, 3, 4], "c": [1, 2, 3, 4]}
    assert not set(table.loc[table["user_id"] == "c", "product_id"]) & {"P0", "P1", "P2"}
    with pytest.raises(ValueError, match="unknown user id"):
        user_histories(interactions, users, ["zz"])


def test_training_curves_figure_has_one_line_per_variant_and_seed():
    matplotlib.use("Agg")  # this test only draws; the module itself picks no backend
    curves = {
        f"{variant}.seed_{seed}.valid_ndcg_at_10": [{"value": 0.1 * e, "step": e} for e in (1, 2, 3)]
        for variant in ("sasrec", "momorec")
        for seed in (0, 1)
    }
    curves["sasrec.seed_0.loss"] = [{"value": 5.0, "step": 1}]
    assert len(curves_table(curves, "valid_ndcg_at_10")) == 12
    figure = plot_training_curves(curves)
    assert len(figure.axes[0].lines) == 2 * (1 + 2)  # per variant: the mean and two seeds
    with pytest.raises(ValueError, match="no 'valid_ndcg_at_10' curve"):
        plot_training_curves({"sasrec.seed_0.loss": [{"value": 1.0, "step": 1}]})
