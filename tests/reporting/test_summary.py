"""The report's Summary against its sources: recommender_results and a real (local SQLite) MLflow registry."""

from __future__ import annotations

import itertools
import re

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from momorec.pipelines.reporting.nodes import build_report
from momorec.reporting.summary import (
    MOTIVATION_COUNTERPARTS,
    best_motivation_variant,
    contribution_line,
    difference,
    llm_line,
    metric_cells,
    summary_section,
)
from momorec.reporting.tables import MACHINE_PATH
from momorec.reporting.training_run import describe_training_run, validation_scores

MODEL_NAME = "momorec-recommender-test"
# Validation NDCG@10 level of each variant's curve: momorec_adaptor is the best overall and the best
# motivation-using one; sasrec_adaptor_text is the same model without motivations.
VALIDATION_LEVELS = {
    "sasrec": 0.10,
    "sid_text_only": 0.11,
    "momorec": 0.12,
    "sasrec_adaptor_text": 0.13,
    "momorec_adaptor": 0.15,
    "leak_canary": 0.30,  # evaluation only: never registered, never the best motivation-using variant
}


def make_results(seed: int = 0) -> pd.DataFrame:
    """recommender_results of the shape summarise_results writes, with random numbers."""
    rng = np.random.default_rng(seed)
    users = {"all": 300, "head_target": 260, "long_tail_target": 40}
    rows = [
        {"variant": variant, "segment": segment, "metric": metric, "k": k, "mean": float(rng.uniform(0.02, 0.4)),
         "std": float(rng.uniform(0.001, 0.03)), "n_seeds": 2, "history_masked": masked,
         "is_canary": variant == "leak_canary", "n_users": users[segment]}
        for variant, segment, metric, k, masked in itertools.product(
            VALIDATION_LEVELS, users, ["recall", "ndcg", "mrr"], [10, 20], [True, False]
        )
    ]  # fmt: skip
    return pd.DataFrame(rows)


def make_curves(prefix: str = "") -> dict[str, list[dict[str, float]]]:
    """Training curves as the recommender logs them: two seeds, three epochs, a loss besides."""
    curves = {}
    for (variant, level), seed in itertools.product(VALIDATION_LEVELS.items(), (0, 1)):
        values = [level - 0.02, level + 0.001 * seed, level - 0.01]  # best epoch: the second
        curves[f"{prefix}{variant}.seed_{seed}.valid_ndcg_at_10"] = [
            {"value": v, "step": epoch} for epoch, v in enumerate(values)
        ]
        curves[f"{prefix}{variant}.seed_{seed}.loss"] = [{"value": 5.0, "step": 0}]
    return curves


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A finished MLflow run with the curves, and a registered version (tags, alias) of its model."""
    monkeypatch.chdir(tmp_path)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = MlflowClient()
    experiment = mlflow.create_experiment("report-test", artifact_location=str(tmp_path / "mlruns"))
    with mlflow.start_run(experiment_id=experiment, run_name="__default__") as run:
        for key, points in make_curves("recommender_curve.").items():
            for point in points:
                mlflow.log_metric(key, point["value"], step=int(point["step"]))
    client.create_registered_model(MODEL_NAME)
    version = client.create_model_version(
        MODEL_NAME, f"runs:/{run.info.run_id}/recommender", run_id=run.info.run_id
    )
    client.set_model_version_tag(MODEL_NAME, version.version, "variant", "momorec_adaptor")
    client.set_model_version_tag(MODEL_NAME, version.version, "mean_valid_ndcg_at_10", "0.1505")
    client.set_registered_model_alias(MODEL_NAME, "champion", version.version)
    entry = {
        "variant": "momorec_adaptor",
        "registered_model_name": MODEL_NAME,
        "logged": True,
        "version": int(version.version),
        "alias": "champion",
        "registry_uri": f"models:/{MODEL_NAME}@champion",
    }
    yield client, entry, run.info.run_id
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


def _summary(markdown: str) -> str:
    return markdown.split("## Summary", 1)[1].split("\n## ", 1)[0]


def _row(summary: str, variant: str) -> str:
    [row] = [line for line in summary.splitlines() if line.startswith("|") and f"| {variant} " in line]
    return row


def _cell(results: pd.DataFrame, variant: str, metric: str, segment: str = "all") -> pd.Series:
    return results.query(
        "variant == @variant and segment == @segment and metric == @metric and k == 10 and history_masked"
    ).iloc[0]


def test_summary_numbers_match_recommender_results_and_the_registry(registry, tmp_path):
    client, entry, run_id = registry
    results = make_results()
    facts = describe_training_run(entry, {}, client)  # this run has no curves: read from the registered run
    usage = {"requests": 30, "calls": 20, "cache_hits": 10, "failures": 1, "prompt_tokens": 4000,
             "completion_tokens": 500, "latency_p50_s": None, "stages": {}}  # fmt: skip
    stage_usages = {
        name: {"stage": name, "latencies_s": [1.5, 2.0]}
        for name in ("arena_llm_usage", "judge_llm_usage", "top_agent_llm_usage")
    }
    markdown, page, figures = build_report(
        report_training_run=facts,
        recommender_results=results,
        recommender_best_model_info={"variant": "momorec_adaptor", "mean_valid_ndcg_at_10": 0.1505},
        dataset_statistics={"users": 300, "items": 120, "interactions": 2400},
        validation_report={"source": f"builtin_shop:{tmp_path}/data/01_raw/shop (seed 7)",
                           "parse_report": {f"{tmp_path}/data/01_raw/shop/Shop.jsonl.gz": {"rows_read": 5}}},
        llm_usage=usage,
        **stage_usages,
    )  # fmt: skip
    assert re.findall(r"^## .*", markdown, re.MULTILINE)[0] == "## Summary"
    assert re.findall(r"<h2[^>]*>([^<]*)</h2>", page)[0] == "Summary"
    summary = _summary(markdown)
    registered = client.get_model_version(MODEL_NAME, str(entry["version"]))
    # The registered variant, its registry version and alias, and the validation number from the registry.
    assert (
        f"`{registered.tags['variant']}`, MLflow model `{MODEL_NAME}` version {registered.version}" in summary
    )
    assert "`@champion`" in summary
    assert f"= {float(registered.tags['mean_valid_ndcg_at_10']):.4f}" in summary
    # Recall@10 / NDCG@10 (mean ± std) of the registered = best motivation-using variant, of SASRec and of
    # the same model without motivations, with the difference to SASRec, from recommender_results.
    for variant in ("momorec_adaptor", "sasrec", "sasrec_adaptor_text"):
        row = _row(summary, variant)
        for metric in ("recall", "ndcg"):
            mine = _cell(results, variant, metric)
            assert f"{mine['mean']:.4f} ± {mine['std']:.4f}" in row
            if variant != "sasrec":
                gap = mine["mean"] - _cell(results, "sasrec", metric)["mean"]
                assert f"{gap:+.4f}" in row
        for segment in ("head_target", "long_tail_target"):
            part = _cell(results, variant, "recall", segment)
            assert f"{part['mean']:.4f} ± {part['std']:.4f}" in row
    assert _row(summary, "momorec_adaptor").startswith("| registered, best with motivations")
    assert "head targets (260 users)" in summary and "long-tail targets (40 users)" in summary
    # The motivations' contribution: best motivation-using vs the same without motivations, with the noise.
    gap = (
        _cell(results, "momorec_adaptor", "ndcg")["mean"]
        - _cell(results, "sasrec_adaptor_text", "ndcg")["mean"]
    )
    assert "against `sasrec_adaptor_text`" in summary and f"NDCG@10 {gap:+.4f}" in summary
    # LLM use, and the wall time of the MLflow run that trained the registered model.
    assert "30 requests, 20 of them sent to the model (10 answered from the cache, 1 failed)" in summary
    assert "4,000 prompt + 500 completion tokens; 10.5 s of call latency" in summary
    info = client.get_run(run_id).info
    assert f"{(info.end_time - info.start_time) / 1000:,.0f} s" in summary and "finished" in summary
    # The curves came from the registered run: the figure is in the report.
    assert "training_curves.png" in figures and f"MLflow run `{run_id[:12]}`" in markdown
    # Portable and readable: no path of this machine, no None/nan cell.
    for text in (markdown, page):
        assert str(tmp_path) not in text and not MACHINE_PATH.search(text)
        assert not re.search(r"(\|\s*|<td[^>]*>)(None|nan|NaN)\s*(\||</td>)", text)
    assert "data/01_raw/shop/Shop.jsonl.gz" in markdown


def test_summary_says_what_is_missing():
    text = summary_section({}).text + summary_section({}).after
    assert "**Data set**: missing (not produced by this run: `dataset_statistics`)" in text
    assert "**Registered model**: missing" in text and "**Test metrics**: missing" in text
    assert "**LLM**: missing" in text and "**Run wall time**: missing" in text
    assert summary_section({}).tables == []


def test_summary_without_curves_names_no_best_motivation_variant():
    results = make_results()
    facts = {"entry": {"variant": "momorec"}, "version": None, "run": None, "problems": ["not registered"],
             "curves": {}}  # fmt: skip
    section = summary_section({"recommender_results": results, "report_training_run": facts})
    assert "nothing can be said" in section.after
    assert "not in the MLflow registry (not registered)" in section.text
    table = section.tables[0][1]
    assert table["variant"].tolist() == ["momorec", "sasrec"]


def test_best_motivation_variant_is_chosen_on_validation_and_never_the_canary():
    validation = validation_scores(make_curves())
    assert validation.loc["momorec_adaptor", "mean"] == pytest.approx(0.1505)  # best epoch, mean of seeds
    assert validation.loc["momorec_adaptor", "n_seeds"] == 2
    assert best_motivation_variant(validation, set(VALIDATION_LEVELS)) == "momorec_adaptor"
    assert best_motivation_variant(validation, {"momorec", "sasrec"}) == "momorec"
    assert best_motivation_variant(validation, {"sasrec", "leak_canary"}) is None
    assert set(MOTIVATION_COUNTERPARTS.values()).isdisjoint(MOTIVATION_COUNTERPARTS)


def test_difference_says_when_it_is_within_noise():
    results = pd.DataFrame(
        {"variant": ["a", "b", "c"], "segment": "all", "metric": "ndcg", "k": 10, "mean": [0.30, 0.20, 0.21],
         "std": [0.01, 0.01, 0.02], "n_seeds": 3, "history_masked": True}
    )  # fmt: skip
    cells = metric_cells(results)
    assert difference(cells, "a", "b", "ndcg") == "+0.1000 (+50.0%), beyond noise (±0.0141)"
    assert difference(cells, "c", "b", "ndcg") == "+0.0100 (+5.0%), within noise (±0.0224)"
    assert difference(cells, "c", "b", "ndcg", show_noise=False) == "+0.0100 (+5.0%), within noise"
    assert difference(cells, "a", "missing", "ndcg") == "—"
    assert difference(cells, "a", "b", "recall") == "—"  # a metric the results do not have


def test_the_contribution_verdict_follows_the_noise():
    def cells(gap_recall: float, gap_ndcg: float) -> pd.DataFrame:
        rows = [
            {"variant": v, "segment": "all", "metric": m, "k": 10, "mean": 0.2 + (g if v == "momorec" else 0.0),
             "std": 0.01, "n_seeds": 3, "history_masked": True}
            for v in ("momorec", "sid_text_only") for m, g in (("recall", gap_recall), ("ndcg", gap_ndcg))
        ]  # fmt: skip
        return metric_cells(pd.DataFrame(rows))

    validation = pd.DataFrame({"mean": [0.3, 0.2]}, index=["momorec", "sid_text_only"])
    assert "cannot tell the motivations' contribution from zero" in contribution_line(
        cells(0.001, 0.002), "momorec", validation
    )
    assert "evidence for a contribution is weak" in contribution_line(
        cells(0.05, 0.002), "momorec", validation
    )
    assert "not a significance test" in contribution_line(cells(0.05, 0.05), "momorec", validation)
    lone = metric_cells(pd.DataFrame([{"variant": "momorec", "segment": "all", "metric": "ndcg", "k": 10, "mean": 0.2,
                                       "std": 0.0, "n_seeds": 1, "history_masked": True}]))  # fmt: skip
    assert "`sid_text_only` did not run" in contribution_line(lone, "momorec", validation)


def test_the_llm_line_adds_the_leak_canarys_calls_that_filled_the_cache():
    """A cold default run: the canary runs first, so the honest stages find most answers in the cache."""
    honest = {"requests": 137, "calls": 8, "cache_hits": 129, "failures": 0, "prompt_tokens": 2131,
              "completion_tokens": 334}  # fmt: skip
    stages = [{"stage": name, "latencies_s": [1.0]} for name in ("arena", "judge", "top")]
    canary_stage = {"stage": "arena_agents", "requests": 50, "calls": 50, "cache_hits": 0, "attempts": 50,
                    "retries": 0, "failures": 0, "prompt_tokens": 13000, "completion_tokens": 2000,
                    "latencies_s": [1.0] * 50}  # fmt: skip
    line = llm_line(honest, stages, [canary_stage])
    assert "8 of them sent to the model" in line
    assert "made 50 more calls" in line and "13,000 prompt" in line
    assert "58 calls to the model in all" in line
    assert "leak canary" not in llm_line(honest, stages)  # no canary in the run: nothing said of it
