"""Section builders, figures without pyplot state, and no matplotlib backend forced at import."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
from matplotlib.figure import Figure

from momorec.reporting import plots
from momorec.reporting.sections import SECTION_BUILDERS, SECTION_SOURCES, table_section
from momorec.reporting.tables import as_frame, format_value


def test_every_known_dataset_has_a_builder():
    assert list(SECTION_BUILDERS) == list(SECTION_SOURCES)


def test_plain_section_is_one_table_and_special_ones_fall_back_on_odd_values():
    [section] = table_section("Title", {"a": {"b": 1234}})
    assert section.tables[0][1].to_dict("list") == {"": ["a"], "value": ["b: 1,234"]}
    # A layer sweep without n_layers (or an empty recommender table) is shown as it is, without a figure.
    [sweep] = SECTION_BUILDERS["layer_sweep_results"]("Sweep", pd.DataFrame({"x": [1]}))
    assert sweep.figures == {} and list(sweep.tables[0][1].columns) == ["x"]
    [empty] = SECTION_BUILDERS["recommender_results"]("Results", pd.DataFrame())
    assert empty.figures == {} and empty.tables[0][1].empty


def test_formatting_for_people():
    assert [format_value(v) for v in (1234.0, 0.123456, None, True, float("nan"), [1, 2], {})] == [
        "1,234",
        "0.1235",
        "—",
        "yes",
        "—",
        "1, 2",
        "none",
    ]
    assert as_frame([{"a": 1}]).to_dict("list") == {"a": [1]}


def test_codebook_figures_are_plain_figures_that_save_headless():
    quality = pd.DataFrame(
        {
            "layer": [0, 1],
            "codes_used_fraction": [1.0, 0.5],
            "perplexity": [3.0, 1.5],
            "relative_reconstruction_error": [0.6, 0.4],
        }
    )
    with_error = plots.plot_codebook_use_and_error(quality)
    with_perplexity = plots.plot_codebook_use_perplexity_and_error(quality, n_codes=4)
    assert isinstance(with_error, Figure) and len(with_error.axes) == 2  # bars + twin error axis
    assert len(with_perplexity.axes) == 1
    assert plots.png_bytes(with_perplexity).startswith(b"\x89PNG")


def test_importing_the_nodes_leaves_the_matplotlib_backend_alone():
    code = (
        "import matplotlib\n"
        "import momorec.pipelines.reporting.nodes, momorec.pipelines.semantic_id.nodes\n"
        "print(matplotlib.rcParams._get_backend_or_none())\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "None", result.stdout
