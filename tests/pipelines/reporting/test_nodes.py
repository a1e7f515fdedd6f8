"""The report builder: presents what exists, lists what is missing, invents nothing."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from momorec.pipelines.reporting.nodes import SECTION_SOURCES, build_report


@pytest.fixture
def recommender_results() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    variants = ["sasrec", "momorec", "momorec_no_spreading", "leak_canary", "momorec_oracle"]
    segments = ["all", "long_tail", "head", "cold_start", "warm"]
    for variant, segment, metric, k in itertools.product(variants, segments, ["recall", "ndcg"], [10, 20]):
        rows.append(
            {
                "variant": variant,
                "segment": segment,
                "metric": metric,
                "k": k,
                "mean": float(rng.uniform(0.01, 0.2)),
                "std": float(rng.uniform(0, 0.01)),
                "n_seeds": 3,
            }
        )
    return pd.DataFrame(rows)


def test_report_presents_given_results_and_lists_the_rest_as_missing(recommender_results):
    stats = {"users": 120, "items": 80, "interactions": 1500, "sequence_length": {"p50": 9.0}}
    markdown, page, figures = build_report(dataset_statistics=stats, recommender_results=recommender_results)

    assert "| users" in markdown and "120" in markdown
    momorec_recall = recommender_results.query(
        "variant == 'momorec' and segment == 'all' and metric == 'recall' and k == 10"
    )
    assert f"{momorec_recall['mean'].iloc[0]:.4f} ± {momorec_recall['std'].iloc[0]:.4f}" in markdown
    # The canary and the ground-truth oracle are ablation rows, never in the headline table.
    headline, ablations = markdown.split("## Ablations")
    assert "leak_canary" not in headline.split("Main results")[1]
    assert "momorec_oracle" not in headline.split("Main results")[1]
    ablation_table = ablations.split("## ")[0]
    assert "| leak_canary" in ablation_table and "| momorec_oracle" in ablation_table
    # momorec_no_spreading ran, momorec_no_residual did not: the section says how to train it.
    assert "Not run: `momorec_no_residual` (add to `recommender.variants`" in ablation_table
    everything = recommender_results.assign(
        variant=recommender_results["variant"].replace("sasrec", "momorec_no_residual")
    )
    assert (
        "Not run"
        not in build_report(recommender_results=everything)[0].split("## Ablations")[1].split("## ")[0]
    )
    for missing in ["arena_leaderboards", "judge_accuracy", "semantic_id_quality", "llm_usage"]:
        assert f"`{missing}`" in markdown.split("## Missing from this run")[1]
    assert set(figures) == {"metric_bars.png", "segments.png"}
    assert page.count("data:image/png;base64,") == 2
    assert "<table" in page


def test_report_with_nothing_produced_says_so():
    markdown, page, figures = build_report()
    assert figures == {}
    missing_part = markdown.split("## Missing from this run")[1]
    assert all(f"`{name}`" in missing_part for name in SECTION_SOURCES)


def test_report_rejects_datasets_it_does_not_know():
    with pytest.raises(ValueError, match="cannot present"):
        build_report(some_table=pd.DataFrame())


def test_codebook_and_sweep_figures():
    quality = pd.DataFrame(
        {
            "layer": [0, 1, 2],
            "codes_used_fraction": [1.0, 0.9, 0.5],
            "relative_reconstruction_error": [0.6, 0.4, 0.3],
            "perplexity": [50, 40, 20],
        }
    )
    sweep = pd.DataFrame(
        {"n_layers": [1, 2, 3], "metric": "ndcg", "k": 10, "mean": [0.05, 0.06, 0.055], "std": 0.002}
    )
    markdown, _, figures = build_report(semantic_id_quality=quality, layer_sweep_results=sweep)
    assert set(figures) == {"codebook_utilisation.png", "layer_sweep.png"}
    assert "figures/codebook_utilisation.png" in markdown
    assert "| ID layers used" in markdown  # one compact row per number of layers


def test_main_table_uses_masked_results_and_shows_unmasked_separately():
    rows = []
    for masked, value in [(True, 0.30), (False, 0.10)]:
        rows.append(
            {
                "variant": "sasrec",
                "segment": "all",
                "metric": "recall",
                "k": 10,
                "mean": value,
                "std": 0.01,
                "n_seeds": 3,
                "history_masked": masked,
            }
        )
    rows.append(
        {
            "variant": "sasrec",
            "segment": "cold_start_users",
            "metric": "recall",
            "k": 10,
            "mean": float("nan"),
            "std": float("nan"),
            "n_seeds": 3,
            "history_masked": True,
        }
    )
    markdown, _, _ = build_report(recommender_results=pd.DataFrame(rows))
    main, rest = markdown.split("**Same, history not masked")
    assert "0.3000 ± 0.0100" in main and "0.1000" not in main
    assert "0.1000 ± 0.0100" in rest.split("##")[0]
    assert "n/a (no users)" in markdown


def test_statistics_are_formatted_for_people():
    markdown, _, _ = build_report(
        dataset_statistics={"interactions": 32154, "sparsity": 0.991814, "k": {"core": 5}}
    )
    assert "32,154" in markdown and "0.9918" in markdown and "| k " in markdown and "core: 5" in markdown


def test_alignment_results_become_one_row_per_variant_with_users_and_weights():
    rows = []
    segments = {"all": 4, "cold_start_users": 0, "llm_rated_users": 2}
    weights = {"base": np.nan, "rerank_embedding": 0.6, "rerank_llm": 0.0}
    for (variant, weight), (segment, users), metric, k in itertools.product(
        weights.items(), segments.items(), ["ndcg", "recall"], [10, 20]
    ):
        rows.append(
            {
                "variant": variant,
                "segment": segment,
                "metric": metric,
                "k": k,
                "mean": np.nan
                if users == 0
                else 0.1 + 0.01 * k + (0.05 if variant == "rerank_embedding" else 0),
                "std": np.nan if users == 0 else 0.01,
                "n_seeds": 3,
                "n_users": users,
                "fusion_weight": weight,
            }
        )
    markdown, _, figures = build_report(alignment_results=pd.DataFrame(rows))
    assert "alignment_segments.png" in figures
    table_lines = [
        line for line in markdown.splitlines() if line.startswith("| rerank_") or line.startswith("| base")
    ]
    assert len(table_lines) == 3  # one row per variant, not per segment x metric x k
    header = next(line for line in markdown.splitlines() if line.startswith("| variant"))
    assert "all (4 users) ndcg@10" in header and "llm_rated_users (2 users) recall@10" in header
    assert "@20" not in header
    embedding = next(line for line in table_lines if line.startswith("| rerank_embedding"))
    assert "| 0.6 " in embedding and "0.2500 ± 0.0100" in embedding  # weight and NDCG@10 of 'all'
    assert "n/a (no users)" in embedding
    base = next(line for line in table_lines if line.startswith("| base"))
    assert "| n/a " in base  # the base list has no fusion weight


def test_efficiency_section_says_how_it_was_timed():
    efficiency = pd.DataFrame(
        {
            "variant": ["sasrec", "momorec"],
            "parameters": [10, 12],
            "inference_seconds_per_1000_users": [0.1, 0.2],
        }
    )
    markdown, _, _ = build_report(recommender_efficiency=efficiency)
    section = markdown.split("## Efficiency (paper Table 5)", 1)[1]
    assert "bench_recommender.py" in section.split("|", 1)[0]  # the note comes before the table
