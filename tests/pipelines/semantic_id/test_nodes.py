import numpy as np
import pandas as pd
import pytest

from momorec.pipelines.semantic_id import nodes


def _vectors(assignment, clusters, motivation_embeddings, text, kind="motivation", only_generated=False):
    return nodes.assemble_item_vectors(
        assignment, clusters, motivation_embeddings, text, kind, only_generated
    )


def test_motivation_input_is_the_cluster_representative(
    assignment, motivation_clusters, motivation_embeddings, item_text_embeddings
):
    vectors = _vectors(assignment, motivation_clusters, motivation_embeddings, item_text_embeddings)
    # Item 7 is in cluster 2 whose representative is motivation row 4.
    np.testing.assert_array_equal(vectors[7], motivation_embeddings[4])
    assert np.isnan(vectors[-2:]).all() and not np.isnan(vectors[:-2]).any()


def test_text_and_concat_inputs(assignment, motivation_clusters, motivation_embeddings, item_text_embeddings):
    text = _vectors(assignment, motivation_clusters, motivation_embeddings, item_text_embeddings, "text")
    np.testing.assert_array_equal(text, item_text_embeddings)
    concat = _vectors(assignment, motivation_clusters, motivation_embeddings, item_text_embeddings, "concat")
    assert concat.shape == (40, 32)
    np.testing.assert_allclose(np.linalg.norm(concat[:-2], axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="input must be one of"):
        _vectors(assignment, motivation_clusters, motivation_embeddings, item_text_embeddings, "image")


def test_text_motivation_vectors_keep_the_text_and_zero_a_missing_motivation(
    assignment, motivation_clusters, motivation_embeddings, item_text_embeddings
):
    vectors = nodes.text_motivation_item_vectors(
        assignment, motivation_clusters, motivation_embeddings, item_text_embeddings
    )
    text_dim = item_text_embeddings.shape[1]
    assert vectors.shape == (40, text_dim + motivation_embeddings.shape[1]) and np.isfinite(vectors).all()
    np.testing.assert_array_equal(vectors[:, :text_dim], item_text_embeddings)
    # Item 7's motivation half is its cluster representative; the last two items have none: zeros.
    np.testing.assert_array_equal(vectors[7, text_dim:], motivation_embeddings[4])
    assert (vectors[-2:, text_dim:] == 0).all()
    with pytest.raises(ValueError, match="item_text_embeddings has"):
        nodes.text_motivation_item_vectors(
            assignment, motivation_clusters, motivation_embeddings, item_text_embeddings[:-1]
        )


def test_only_generated_pads_every_other_item(
    assignment, motivation_clusters, motivation_embeddings, item_text_embeddings
):
    vectors = _vectors(
        assignment, motivation_clusters, motivation_embeddings, item_text_embeddings, "text", True
    )
    assert np.isnan(vectors[15:]).all() and not np.isnan(vectors[:15]).any()


def test_representatives_must_be_unique(
    assignment, motivation_clusters, motivation_embeddings, item_text_embeddings
):
    broken = motivation_clusters.assign(is_representative=True)
    with pytest.raises(ValueError, match="exactly one representative"):
        _vectors(assignment, broken, motivation_embeddings, item_text_embeddings)
    with pytest.raises(ValueError, match="same order"):
        _vectors(assignment, motivation_clusters, motivation_embeddings[:3], item_text_embeddings)


def test_residual_ids_are_one_to_one_deterministic_and_pad_missing_items(
    assignment, motivation_clusters, motivation_embeddings, item_text_embeddings, sid_params
):
    vectors = _vectors(assignment, motivation_clusters, motivation_embeddings, item_text_embeddings, "concat")
    table, codebooks, quality = nodes.residual_semantic_ids(vectors, sid_params)
    again, _, _ = nodes.residual_semantic_ids(vectors, sid_params)
    pd.testing.assert_frame_equal(table, again)
    assert list(table.columns) == ["item_idx", "code_0", "code_1", "code_2", "dedup"]
    assert codebooks.shape == (3, 4, 32) and codebooks.dtype == np.float32
    present = table[table["code_0"] >= 0]
    assert len(present) == 38
    assert not present.duplicated(["code_0", "code_1", "code_2", "dedup"]).any()
    assert (table.iloc[-2:, 1:] == -1).all().all()
    assert list(quality["layer"]) == [0, 1, 2]
    assert quality["prefix_collision_rate"].is_monotonic_decreasing


def test_fewer_distinct_inputs_than_k_clamps_and_dedups(
    assignment, motivation_clusters, motivation_embeddings, item_text_embeddings
):
    # 5 distinct cluster representatives, K = 64: layer 0 is clamped to 5, deeper layers to 1.
    vectors = _vectors(assignment, motivation_clusters, motivation_embeddings, item_text_embeddings)
    table, _, quality = nodes.residual_semantic_ids(
        vectors, {"n_layers": 2, "n_codes": 64, "show_progress": False}
    )
    assert quality["k_effective"].tolist() == [5, 1]
    assert quality["prefix_collision_rate"].iloc[-1] == pytest.approx(1 - 5 / 38)
    present = table[table["code_0"] >= 0]
    assert not present.duplicated(["code_0", "code_1", "dedup"]).any()
    # Items of one cluster share codes and differ only by their dedup digit.
    per_tuple = present.groupby(["code_0", "code_1"])["dedup"]
    assert (per_tuple.max() == per_tuple.size() - 1).all()
    assert per_tuple.ngroups == 5


def test_every_item_padded_gives_minus_one_codes(sid_params):
    vectors = np.full((3, 4), np.nan, dtype=np.float32)
    table, codebooks, quality = nodes.residual_semantic_ids(vectors, sid_params)
    assert (table.drop(columns="item_idx") == -1).all().all()
    assert not codebooks.any() and len(quality) == 3


def test_cluster_ids_as_a_single_layer(assignment):
    table = nodes.cluster_semantic_ids(assignment, only_generated=False)
    assert list(table.columns) == ["item_idx", "code_0", "dedup"]
    assert table["code_0"].tolist() == assignment["cluster_id"].tolist()
    present = table[table["code_0"] >= 0]
    assert not present.duplicated(["code_0", "dedup"]).any()
    only = nodes.cluster_semantic_ids(assignment, only_generated=True)
    assert (only.loc[15:, "code_0"] == -1).all() and (only.loc[15:, "dedup"] == -1).all()


def test_metrics_report_collisions_before_and_after(
    assignment, motivation_clusters, motivation_embeddings, item_text_embeddings, sid_params
):
    vectors = _vectors(assignment, motivation_clusters, motivation_embeddings, item_text_embeddings)
    table, _, quality = nodes.residual_semantic_ids(vectors, sid_params)
    metrics = nodes.semantic_id_metrics(table, quality)
    assert metrics["collision_rate_before_dedup"]["value"] == pytest.approx(1 - 5 / 38)
    assert metrics["collision_rate_after_dedup"]["value"] == 0.0
    assert metrics["padded_items"]["value"] == 2.0
    assert [entry["step"] for entry in metrics["layer_perplexity"]] == [0, 1, 2]


def test_export_uses_the_original_item_ids(items, assignment):
    ids = nodes.cluster_semantic_ids(assignment, only_generated=False)
    table = nodes.export_semantic_id_table(ids, items)
    assert list(table.columns) == ["item_id", "code_0", "dedup"]
    assert table["item_id"].tolist() == items["item_id"].tolist()
    with pytest.raises(ValueError, match="covers"):
        nodes.export_semantic_id_table(ids.iloc[:5], items)


def test_utilisation_plot_is_a_figure(sid_params):
    quality = pd.DataFrame(
        {
            "layer": [0, 1],
            "codes_used_fraction": [1.0, 0.5],
            "perplexity": [3.5, 1.8],
            "relative_reconstruction_error": [0.6, 0.4],
        }
    )
    figure = nodes.plot_codebook_utilisation(quality, sid_params)
    assert len(figure.axes) == 1 and figure.axes[0].get_xlabel() == "layer"


def test_single_item_and_all_identical_items(sid_params):
    single, codebooks, quality = nodes.residual_semantic_ids(np.ones((1, 4), np.float32), sid_params)
    assert single.drop(columns="item_idx").to_numpy().tolist() == [[0, 0, 0, 0]]
    assert quality["k_effective"].tolist() == [1, 1, 1]
    same, _, _ = nodes.residual_semantic_ids(np.ones((4, 4), np.float32) / 2, sid_params)
    assert (same[["code_0", "code_1", "code_2"]] == 0).all().all()
    assert same["dedup"].tolist() == [0, 1, 2, 3]


def test_motivation_text_input_weights_the_motivation_and_pads_unclustered_items(
    assignment, motivation_clusters, motivation_embeddings, item_text_embeddings
):
    vectors = nodes.assemble_item_vectors(
        assignment,
        motivation_clusters,
        motivation_embeddings,
        item_text_embeddings,
        "motivation_text",
        False,
        0.8,
    )
    assert vectors.shape == (40, 32)
    np.testing.assert_allclose((vectors[:-2, :16] ** 2).sum(axis=1), 0.8, rtol=1e-5)
    np.testing.assert_allclose(vectors[7, 16:], np.sqrt(0.2) * item_text_embeddings[7], rtol=1e-5)
    assert np.isnan(vectors[-2:]).all()


def test_cluster_prefix_text_ids_start_with_the_cluster_and_split_items_below_it(
    assignment, motivation_clusters, motivation_embeddings, item_text_embeddings, sid_params
):
    vectors = nodes.assemble_item_vectors(
        assignment,
        motivation_clusters,
        motivation_embeddings,
        item_text_embeddings,
        "cluster_prefix_text",
        False,
    )
    np.testing.assert_array_equal(vectors[:-2], item_text_embeddings[:-2])
    table, codebooks, quality = nodes.residual_semantic_ids(
        vectors, sid_params, "cluster_prefix_text", assignment
    )
    clustered = assignment["cluster_id"].to_numpy() >= 0
    np.testing.assert_array_equal(table.loc[clustered, "code_0"], assignment.loc[clustered, "cluster_id"])
    assert (table.loc[~clustered, ["code_0", "dedup"]] == -1).all().all()
    assert table.loc[clustered, "code_1"].nunique() > 1
    assert codebooks.shape[0] == sid_params["n_layers"]
    assert list(quality["layer"]) == list(range(sid_params["n_layers"]))
    # Five clusters alone would leave most items sharing their ID; the text codes below them split them.
    assert quality["prefix_collision_rate"].iloc[-1] < quality["prefix_collision_rate"].iloc[0]
    with pytest.raises(ValueError, match="needs item_motivation_assignment"):
        nodes.residual_semantic_ids(vectors, sid_params, "cluster_prefix_text")
