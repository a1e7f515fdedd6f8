"""The reporting pipeline on an in-memory catalog, and its catalog entries writing real files."""

from __future__ import annotations

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.text import TextDataset

from momorec.pipelines.reporting import create_pipeline


def test_report_pipeline_writes_markdown_html_and_figures(tmp_path):
    quality = pd.DataFrame(
        {"layer": [0, 1], "codes_used_fraction": [1.0, 0.5], "relative_reconstruction_error": [0.5, 0.4]}
    )
    catalog = DataCatalog(
        {
            "semantic_id_quality": MemoryDataset(quality),
            "report_markdown": TextDataset(filepath=str(tmp_path / "report.md")),
            "report_html": TextDataset(filepath=str(tmp_path / "report.html")),
            "report_figures": MatplotlibDataset(
                filepath=str(tmp_path / "figures"), save_args={"format": "png"}
            ),
        }
    )
    SequentialRunner().run(create_pipeline(available={"semantic_id_quality"}), catalog)
    markdown = (tmp_path / "report.md").read_text()
    assert "Semantic-ID quality per layer" in markdown
    assert "`recommender_results`" in markdown  # listed as missing
    assert (tmp_path / "report.html").read_text().startswith("<!doctype html>")
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["codebook_utilisation.png"]
    assert "figures/codebook_utilisation.png" in markdown


def test_the_registered_models_run_is_described_before_the_report(tmp_path):
    """With the registry entry and the curves available, the report gets the training-curve figure and a
    Summary naming the variant; the curves arrive as kedro-mlflow loads them (prefixed keys, a one-point
    history as a dict)."""
    curves = {
        "recommender_curve.sasrec.seed_0.valid_ndcg_at_10": [
            {"step": 0, "value": 0.1},
            {"step": 1, "value": 0.2},
        ],
        "recommender_curve.sasrec.seed_1.valid_ndcg_at_10": {"step": 0, "value": 0.15},
    }
    entry = {"variant": "sasrec", "registered_model_name": "momorec-recommender", "logged": False}
    catalog = DataCatalog(
        {
            "recommender_registry_entry": MemoryDataset(entry),
            "recommender_training_curves": MemoryDataset(curves),
            "report_markdown": TextDataset(filepath=str(tmp_path / "report.md")),
            "report_html": TextDataset(filepath=str(tmp_path / "report.html")),
            "report_figures": MatplotlibDataset(
                filepath=str(tmp_path / "figures"), save_args={"format": "png"}
            ),
        }
    )
    pipeline = create_pipeline(available={"recommender_registry_entry", "recommender_training_curves"})
    assert [n.name for n in pipeline.nodes] == ["describe_training_run", "build_report"]
    SequentialRunner().run(pipeline, catalog)
    markdown = (tmp_path / "report.md").read_text()
    assert markdown.split("\n## ")[1].startswith("Summary")
    assert "**Registered model**: `sasrec`, not in the MLflow registry" in markdown
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["training_curves.png"]
    # Without the registry entry there is nothing to describe: the report alone, the run listed as missing.
    alone = create_pipeline(available={"recommender_training_curves"})
    assert [n.name for n in alone.nodes] == ["build_report"]
