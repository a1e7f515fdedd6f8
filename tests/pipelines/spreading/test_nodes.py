import json

import numpy as np
import pandas as pd
import pytest

from momorec.pipelines.spreading import nodes


@pytest.fixture
def built(items, item_motivations, encoder, encoder_params, clustering_params):
    embeddings = nodes.embed_item_texts(items, encoder, encoder_params)
    table = nodes.build_motivation_table(item_motivations)
    motivation_embeddings = nodes.embed_motivations(table, encoder, encoder_params)
    clusters = nodes.cluster_motivations(table, motivation_embeddings, clustering_params)
    return embeddings, table, motivation_embeddings, clusters


@pytest.fixture
def evaluate(
    items,
    item_motivations,
    built,
    encoder,
    encoder_params,
    clustering_params,
    vote_params,
    evaluation_params,
):
    """Both evaluation nodes on the built clusters, for a given ground-truth table."""
    embeddings, _, _, clusters = built

    def run(truth: pd.DataFrame) -> tuple[dict, dict]:
        generated = nodes.evaluate_generated_motivations(
            items, item_motivations, truth, clusters, embeddings, vote_params, evaluation_params
        )
        truth_input = nodes.evaluate_ground_truth_input(
            items,
            item_motivations,
            truth,
            embeddings,
            encoder,
            encoder_params,
            clustering_params,
            vote_params,
            evaluation_params,
        )
        return generated, truth_input

    return run


def test_main_motivation_is_the_highest_support(item_motivations):
    main = nodes.main_item_motivations(item_motivations)
    assert main.set_index("item_idx").loc[0, "motivation"] == "drilling holes in walls"
    assert main["item_idx"].is_unique


def test_motivation_table_sums_support_and_drops_empty_text():
    frame = pd.DataFrame(
        {"item_idx": [0, 1, 2, 3], "motivation": ["b", " b ", "", None], "support": [2, 3, 1, 1]}
    )
    table = nodes.build_motivation_table(frame)
    assert table.to_dict("records") == [{"motivation": "b", "support": 5}]


def test_missing_columns_are_named(items):
    with pytest.raises(ValueError, match="support"):
        nodes.build_motivation_table(pd.DataFrame({"item_idx": [0], "motivation": ["x"]}))


def test_item_embeddings_are_unit_rows_except_empty_text(built):
    embeddings = built[0]
    assert embeddings.dtype == np.float32 and embeddings.shape[0] == 12
    np.testing.assert_allclose(np.linalg.norm(embeddings[:11], axis=1), 1.0, rtol=1e-5)
    assert not embeddings[11].any()


def test_item_embeddings_come_from_the_cache_on_a_rerun_and_only_new_items_are_encoded(
    items, encoder_params, tmp_path
):
    from momorec.embeddings.cache import EmbeddingCache
    from momorec.embeddings.encoder import EncoderBundle
    from tests.pipelines.spreading.conftest import HashingEncoder

    class CountingEncoder(HashingEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.encoded: list[str] = []

        def state_dict(self) -> dict:  # no weights: one fixed identity
            return {}

        def encode(self, texts, *args, **kwargs):
            self.encoded += list(texts)
            return super().encode(texts, *args, **kwargs)

    model = CountingEncoder()
    encoder = EncoderBundle(base_model="hashing", tuned=True, model=model)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cold = nodes.embed_item_texts(items, encoder, encoder_params, cache)
    assert np.array_equal(cold, nodes.embed_item_texts(items, encoder, encoder_params))
    model.encoded.clear()
    assert np.array_equal(nodes.embed_item_texts(items, encoder, encoder_params, cache), cold)
    assert model.encoded == []
    grown = pd.concat([items, items.tail(1).assign(item_idx=len(items), title="watering can")])
    vectors = nodes.embed_item_texts(grown, encoder, encoder_params, cache)
    assert model.encoded == ["watering can"]  # the template row has no category or brand
    assert np.array_equal(vectors[: len(items)], cold)


def test_item_embeddings_need_contiguous_ids(items, encoder, encoder_params):
    with pytest.raises(ValueError, match="contiguous"):
        nodes.embed_item_texts(items.assign(item_idx=items["item_idx"] + 1), encoder, encoder_params)


def test_paraphrased_motivations_share_a_cluster(built):
    clusters = built[3].set_index("motivation")["cluster_id"]
    assert clusters["drilling holes in walls"] == clusters["drilling holes in walls easily"]
    assert clusters["watering the garden"] == clusters["watering the garden plants"]
    assert clusters["watering the garden"] != clusters["drilling holes in walls"]


def test_assignment_keeps_generated_spreads_to_neighbours_and_leaves_empty_text_out(
    items, item_motivations, built, vote_params
):
    embeddings, _, _, clusters = built
    assignment = nodes.assign_item_motivations(items, item_motivations, clusters, embeddings, vote_params)
    assert list(assignment.columns) == ["item_idx", "cluster_id", "motivation", "source", "confidence"]
    by_item = assignment.set_index("item_idx")
    cluster_of = clusters.set_index("motivation")["cluster_id"]
    assert by_item.loc[0, "source"] == "generated" and by_item.loc[0, "confidence"] == 1.0
    assert by_item.loc[0, "motivation"] == "drilling holes in walls"
    assert by_item.loc[2, "source"] == "spread"
    assert by_item.loc[2, "cluster_id"] == cluster_of["drilling holes in walls"]
    assert by_item.loc[10, "cluster_id"] == cluster_of["watering the garden"]
    representative = clusters[clusters["is_representative"]].set_index("cluster_id")["motivation"]
    assert by_item.loc[10, "motivation"] == representative[by_item.loc[10, "cluster_id"]]
    assert 0 < by_item.loc[10, "confidence"] <= 1
    assert by_item.loc[11, "source"] == "none" and by_item.loc[11, "cluster_id"] == -1
    assert pd.isna(by_item.loc[11, "motivation"])


def test_assignment_refuses_unknown_items(items, item_motivations, built, vote_params):
    embeddings, _, _, clusters = built
    bad = pd.concat([item_motivations, pd.DataFrame({"item_idx": [99], "motivation": ["x"], "support": [9]})])
    with pytest.raises(ValueError, match="item_idx"):
        nodes.assign_item_motivations(items, bad, clusters, embeddings, vote_params)


def test_without_motivations_every_item_is_none(items, built, vote_params):
    embeddings = built[0]
    empty = pd.DataFrame({"item_idx": pd.Series([], dtype=int), "motivation": [], "support": []})
    clusters = pd.DataFrame({"motivation": [], "cluster_id": [], "is_representative": [], "support": []})
    assignment = nodes.assign_item_motivations(items, empty, clusters, embeddings, vote_params)
    assert (assignment["source"] == "none").all()


def test_tuning_off_keeps_the_base_model_reference(items, item_motivations, encoder_params):
    bundle, report = nodes.prepare_encoder(items, item_motivations, encoder_params, {"enabled": False})
    assert bundle.model is None and not bundle.tuned and bundle.base_model == encoder_params["model"]
    assert report == {"enabled": False}


def test_tuning_on_refuses_too_few_pairs(items, encoder_params):
    one = pd.DataFrame({"item_idx": [0], "motivation": ["x"], "support": [1]})
    with pytest.raises(ValueError, match="disable tuning"):
        nodes.prepare_encoder(items, one, encoder_params, {"enabled": True})


def test_evaluation_with_ground_truth(item_true_motivations, evaluate):
    generated, truth_input = evaluate(item_true_motivations)
    assert generated["head_items"] == 6 and generated["heldout_items"] == 2
    assert 0 <= generated["cluster_nmi"] <= 1 and 0 <= generated["cluster_purity"] <= 1
    assert generated["longtail_items_evaluated"] == 6
    # True texts as input: one cluster per true motivation, so the clusters match the truth exactly.
    assert truth_input["available"] is True
    assert truth_input["cluster_nmi"] == pytest.approx(1.0)
    assert truth_input["cluster_purity"] == pytest.approx(1.0)
    # Long-tail items 2, 3, 6, 7, 10 have their theme's words; item 11 has no text and gets nothing.
    assert truth_input["longtail_true_motivation_accuracy"] == pytest.approx(5 / 6)
    assert truth_input["longtail_reachable_share"] == 1.0
    assert truth_input["cluster_ami"] == pytest.approx(1.0)


def test_evaluation_without_ground_truth_reports_nulls(
    items, item_motivations, no_truth, built, vote_params, evaluation_params, evaluate
):
    embeddings, _, _, clusters = built
    assignment = nodes.assign_item_motivations(items, item_motivations, clusters, embeddings, vote_params)
    generated, truth_input = evaluate(no_truth)
    report, metrics = nodes.report_spreading_evaluation(
        generated, truth_input, {"enabled": False}, assignment, evaluation_params
    )
    assert report["ground_truth_available"] is False
    assert generated["cluster_nmi"] is None and generated["longtail_true_motivation_accuracy"] is None
    assert generated["cluster_ami"] is None
    assert generated["heldout_cluster_accuracy"] is not None  # needs no ground truth
    assert truth_input == {"available": False}
    json.dumps(report, allow_nan=False)  # serialisable, no NaN
    assert metrics["ground_truth_available"] == {"value": 0.0, "step": 0}
    assert not any("nmi" in key for key in metrics)
    assert metrics["items_generated"]["value"] == 6.0


def test_single_item_shop(encoder, encoder_params, clustering_params, vote_params):
    items = pd.DataFrame(
        {"item_idx": [0], "item_id": ["X"], "title": ["drill"], "category": [None], "brand": [None]}
    )
    motivations = pd.DataFrame({"item_idx": [0], "motivation": ["drilling holes"], "support": [2]})
    table = nodes.build_motivation_table(motivations)
    clusters = nodes.cluster_motivations(
        table, nodes.embed_motivations(table, encoder, encoder_params), clustering_params
    )
    embeddings = nodes.embed_item_texts(items, encoder, encoder_params)
    assignment = nodes.assign_item_motivations(items, motivations, clusters, embeddings, vote_params)
    assert assignment[["cluster_id", "source"]].to_dict("records") == [
        {"cluster_id": 0, "source": "generated"}
    ]


def test_the_first_encoder_node_stops_on_an_unknown_field_or_encoder(items, item_motivations, encoder_params):
    off = {"enabled": False}
    with pytest.raises(ValueError, match=r"text_fields: unknown field\(s\) \['colour'\]"):
        nodes.prepare_encoder(items, item_motivations, {**encoder_params, "text_fields": ["colour"]}, off)
    with pytest.raises(ValueError, match="unknown sentence encoder 'mpnet'"):
        nodes.prepare_encoder(items, item_motivations, {**encoder_params, "model": "mpnet"}, off)


def test_item_embeddings_read_the_capped_description_last(items, encoder_params, caplog):
    from momorec.embeddings.encoder import EncoderBundle
    from tests.pipelines.spreading.conftest import HashingEncoder

    class RecordingEncoder(HashingEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.texts: list[str] = []

        def encode(self, texts, *args, **kwargs):
            self.texts += list(texts)
            return super().encode(texts, *args, **kwargs)

    model = RecordingEncoder()
    encoder = EncoderBundle(base_model="hashing", tuned=True, model=model)
    described = items.assign(description=["long words " * 50] + [None] * (len(items) - 1))
    params = {
        **encoder_params,
        "text_fields": ["title", "category", "brand", "description"],
        "field_max_chars": {"description": 20},
    }
    nodes.embed_item_texts(described, encoder, params)
    first = next(text for text in model.texts if text.startswith(items["title"].iloc[0]))
    assert first == " | ".join([*items.loc[0, ["title", "category", "brand"]], "long words long"])
    caplog.clear()
    with caplog.at_level("WARNING"):
        nodes.embed_item_texts(items, encoder, params)  # the fixture has no descriptions at all
    assert "'description' is empty for every item" in caplog.text
