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
