"""Unit tests of the alignment nodes on tiny tables, including bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from momorec.pipelines.alignment.nodes import (
    RERANK_VARIANTS,
    assemble_scored_candidates,
    evaluate_reranking,
    select_alignment_users,
    select_fusion_weights,
    summarise_alignment_cost,
)


def _select(interactions, params):
    return select_alignment_users(interactions, params)


def test_select_alignment_users(tiny_log, alignment_params):
    users, interactions, train = _select(tiny_log["interactions"], alignment_params)
    assert interactions is tiny_log["interactions"]  # no simulated cold start: the tables pass through
    pd.testing.assert_frame_equal(
        train, tiny_log["train_interactions"].reset_index(drop=True), check_like=True
    )
    assert len(users) == 8 and users["user_idx"].is_unique
    assert users["llm_rated"].tolist() == [True] * 3 + [False] * 5
    counts = tiny_log["train_interactions"].groupby("user_idx").size()
    assert (users["n_train_items"].to_numpy() == counts.loc[users["user_idx"]].to_numpy()).all()
    assert (users["is_cold_start"] == (users["n_train_items"] < 3)).all()
    again = _select(tiny_log["interactions"], alignment_params)[0]
    assert users.equals(again)  # seeded

    alignment_params["compatibility"]["enabled"] = False
    alignment_params["users"]["max_users"] = None
    everyone = _select(tiny_log["interactions"], alignment_params)[0]
    assert len(everyone) == 12 and not everyone["llm_rated"].any()


def test_simulated_cold_start_cuts_only_the_sampled_users_training_prefixes(tiny_log, alignment_params):
    original = tiny_log["interactions"]
    alignment_params["users"]["cold_start_history"] = 2
    users, interactions, train = _select(original, alignment_params)
    sampled = set(users["user_idx"])
    assert (users["n_train_items"] <= 2).all() and users["is_cold_start"].all()
    # Held-out rows (the targets) are untouched; users outside the sample keep every row.
    held_out = lambda frame: frame[frame["split"] != "train"][["user_idx", "item_idx", "split"]]  # noqa: E731
    pd.testing.assert_frame_equal(
        held_out(interactions).reset_index(drop=True), held_out(original).reset_index(drop=True)
    )
    others = ~original["user_idx"].isin(sampled)
    pd.testing.assert_frame_equal(interactions[~interactions["user_idx"].isin(sampled)], original[others])
    # Each sampled user keeps the last two training items, renumbered 0, 1 and followed by valid and test.
    for user in sampled:
        before = original[(original["user_idx"] == user) & (original["split"] == "train")].sort_values(
            "position"
        )
        after = interactions[interactions["user_idx"] == user].sort_values("position")
        assert after["item_idx"].tolist()[:-2] == before["item_idx"].tolist()[-2:]
        assert after["position"].tolist() == list(range(len(after)))
        assert after["split"].tolist()[-2:] == ["valid", "test"]
    assert train["user_idx"].isin(sampled).sum() == users["n_train_items"].sum()
    with pytest.raises(ValueError, match="keep_last"):
        alignment_params["users"]["cold_start_history"] = 0
        _select(original, alignment_params)


def test_users_without_a_test_target_are_not_evaluated(tiny_log, alignment_params):
    interactions = tiny_log["interactions"]
    interactions = interactions[~((interactions["user_idx"] == 0) & (interactions["split"] == "test"))]
    alignment_params["users"]["max_users"] = None
    users = _select(interactions, alignment_params)[0]
    assert 0 not in set(users["user_idx"])
    with pytest.raises(ValueError, match="missing column"):
        _select(interactions.drop(columns="split"), alignment_params)


def _scored(split: str, seed: int = 0) -> pd.DataFrame:
    rows = []
    for user in range(4):
        for rank, item in enumerate([10, 11, 12, 13]):
            rows.append(
                (user, split, seed, item, 4.0 - rank, float(rank) if user % 2 else -float(rank), rank)
            )
    frame = pd.DataFrame(
        rows, columns=["user_idx", "split", "seed", "item_idx", "score", "embedding_score", "rank"]
    )
    return frame.assign(llm_score=np.nan, embedding_llm_score=frame["embedding_score"])


def _targets(split: str, item: int = 13) -> pd.DataFrame:
    return pd.DataFrame(
        {"user_idx": range(4), "split": split, "seed": 0, "item_idx": item, "rank": 3, "base_model": "sasrec"}
    )


def test_assemble_combines_normalised_scores(alignment_params):
    embedded = _scored("valid").drop(columns="llm_score")
    ratings = pd.DataFrame(
        {"user_idx": [0, 0], "split": "valid", "seed": 0, "item_idx": [10, 11], "llm_score": [9.0, 1.0]}
    )
    table = assemble_scored_candidates(embedded, ratings, alignment_params)
    user0 = table[table["user_idx"] == 0].set_index("item_idx")
    # item 10: embedding 1.0 (best of its list) and llm 1.0 -> 1.0; item 12: only embedding (1/3).
    assert user0.loc[10, "embedding_llm_score"] == pytest.approx(1.0)
    assert user0.loc[12, "embedding_llm_score"] == pytest.approx(1 / 3)
    assert np.isnan(user0.loc[12, "llm_score"])


def test_fusion_weights_never_read_test_labels(alignment_params):
    """The node gets validation targets only; whatever the test rows hold, the chosen weights do not move."""
    scored = pd.concat([_scored("valid"), _scored("test")], ignore_index=True)
    weights, curves = select_fusion_weights(scored, _targets("valid"), alignment_params)
    shuffled = scored.copy()
    test_rows = shuffled["split"] == "test"
    rng = np.random.default_rng(0)
    for column in ("score", "embedding_score", "item_idx"):
        shuffled.loc[test_rows, column] = rng.permutation(shuffled.loc[test_rows, column].to_numpy())
    weights_again, curves_again = select_fusion_weights(shuffled, _targets("valid"), alignment_params)
    assert weights.equals(weights_again) and curves.equals(curves_again)
    assert set(weights["variant"]) == set(RERANK_VARIANTS)
    with pytest.raises(ValueError, match="validation only"):
        select_fusion_weights(scored, pd.concat([_targets("valid"), _targets("test")]), alignment_params)


def test_evaluate_reranking_base_and_variants(alignment_params):
    scored = _scored("test")
    # Users 0 and 1 are inside the LLM budget, but only user 0 got a rating (user 1's failed).
    scored.loc[scored["user_idx"] == 0, "llm_score"] = 0.5
    users = pd.DataFrame({"user_idx": range(4), "n_train_items": [1, 5, 5, 5], "is_cold_start": [True] + [False] * 3,
                          "llm_rated": [True, True, False, False]})  # fmt: skip
    weights = pd.DataFrame({"variant": list(RERANK_VARIANTS), "fusion_weight": [1.0, 0.0, 0.0]})
    results = evaluate_reranking(scored, _targets("test"), weights, users, alignment_params)
    recall = results[(results["metric"] == "recall") & (results["k"] == 10) & (results["segment"] == "all")]
    ndcg = results[(results["metric"] == "ndcg") & (results["k"] == 10) & (results["segment"] == "all")]
    by_variant = ndcg.set_index("variant")["mean"]
    # Odd users' embedding score puts item 13 first (rank 0); even users' puts it last (rank 3, as the base).
    assert by_variant["rerank_embedding"] == pytest.approx((1.0 + 1 / np.log2(5)) / 2)
    assert by_variant["base"] == pytest.approx(by_variant["rerank_llm"]) == pytest.approx(1 / np.log2(5))
    assert (recall["mean"] == 1.0).all()
    assert set(results["segment"]) == {"all", "cold_start_users", "warm_users", "llm_rated_users"}
    assert set(results.loc[results["segment"] == "llm_rated_users", "n_users"]) == {1}
    assert set(results["base_model"]) == {"sasrec"}


def test_evaluate_reranking_needs_the_base_model_name(alignment_params):
    users = pd.DataFrame(
        {"user_idx": range(4), "n_train_items": 5, "is_cold_start": False, "llm_rated": False}
    )
    weights = pd.DataFrame({"variant": list(RERANK_VARIANTS), "fusion_weight": [0.0, 0.0, 0.0]})
    unnamed = _targets("test").drop(columns="base_model")
    with pytest.raises(ValueError, match="base_model"):
        evaluate_reranking(_scored("test"), unnamed, weights, users, alignment_params)
    mixed = _targets("test").assign(base_model=["sasrec", "sasrec", "momorec", "momorec"])
    with pytest.raises(ValueError, match="one base_model"):
        evaluate_reranking(_scored("test"), mixed, weights, users, alignment_params)


def test_cost_summary_has_a_total(tiny_log):
    usage = {"requests": 4, "calls": 4, "cache_hits": 0, "failures": 0, "prompt_tokens": 40, "completion_tokens": 20,
             "latencies_s": [0.1] * 4, "wall_seconds": 1.0, "request_prompt_tokens": 40,
             "request_completion_tokens": 20}  # fmt: skip
    users = pd.DataFrame({"user_idx": range(8)})
    table = summarise_alignment_cost(usage, usage, usage, users)
    assert table["stage"].tolist() == ["profiles", "traits", "compatibility", "total"]
    total = table.set_index("stage").loc["total"]
    assert total["requests"] == 12 and total["requests_per_1000_users"] == pytest.approx(1500.0)
    assert total["users"] == 8
