"""Readable tables (labels, nested dicts, no None, no machine paths) and their HTML (alignment, folding)."""

from __future__ import annotations

import pandas as pd

from momorec.reporting.render import FOLD_ROWS, _table_html, inline_html, table_html, text_html
from momorec.reporting.tables import dict_tables, label, readable, without_machine_paths


def test_labels_name_units_and_acronyms_and_leave_other_names_alone():
    assert label("latency_p50_s") == "latency p50 (s)"
    assert label("cluster_nmi") == "cluster NMI"
    assert label("ndcg@10") == "ndcg@10" and label("data/01_raw/x.gz") == "data/01_raw/x.gz"


def test_nested_dicts_become_grouped_tables_without_dotted_keys():
    usage = {
        "calls": 3,
        "failure_kinds": {},
        "stages": {
            "arena": {"calls": 2, "latency_p50_s": 1.5, "failure_kinds": {}},
            "judge": {"calls": 1, "latency_p50_s": None, "failure_kinds": {"timeout": 1}},
        },
        "small": {"a": 1, "b": 2},
        "same_keys_1": {f"metric_{i}": i for i in range(10)},
        "same_keys_2": {f"metric_{i}": 2 * i for i in range(10)},
    }
    tables = dict(dict_tables(usage, "Usage"))
    top = tables["Usage"].set_index("")["value"]
    assert top["calls"] == "3" and top["failure kinds"] == "none" and top["small"] == "a: 1, b: 2"
    stages = tables["Usage: stages"].set_index("")
    assert (
        stages.loc["judge", "latency p50 (s)"] == "—" and stages.loc["judge", "failure kinds"] == "timeout: 1"
    )
    # Two similar wide dicts: one table, keys down the rows, one column each.
    wide = tables["Usage: same keys 1, same keys 2"]
    assert list(wide.columns) == ["", "same keys 1", "same keys 2"] and len(wide) == 10
    assert not any("." in name and "@" not in name for frame in tables.values() for name in frame.iloc[:, 0])


def test_readable_cells_never_say_none_or_nan():
    frame = pd.DataFrame({"a_b": [1.0, None], "text": [None, "x"], "flag": [True, False]})
    cells = readable(frame)
    assert list(cells.columns) == ["a b", "text", "flag"]
    assert cells.to_dict("list") == {"a b": ["1", "—"], "text": ["—", "x"], "flag": ["yes", "no"]}


def test_machine_paths_are_made_relative_or_cut_to_the_file_name():
    root = "/work/some/project"
    assert (
        without_machine_paths(f"shop:{root}/data/01_raw/shop (seed 7)", root)
        == "shop:data/01_raw/shop (seed 7)"
    )
    assert without_machine_paths("model /root/.cache/hf/m.gguf, 1/3", root) == "model m.gguf, 1/3"
    assert without_machine_paths("/work/other/data/01_raw/shop", root) == "data/01_raw/shop"
    assert without_machine_paths("models:/momorec@champion", root) == "models:/momorec@champion"


def test_html_tables_align_numbers_right_and_fold_when_long():
    frame = pd.DataFrame({"variant": ["a", "b"], "recall@10": ["0.1000 ± 0.0100", "—"], "n": [1200, 3]})
    html = table_html(frame)
    assert "<th>variant</th>" in html and "<th class='num'>recall@10</th>" in html
    assert "<td class='num'>1,200</td>" in html and "<td>a</td>" in html
    long = pd.DataFrame({"x": range(FOLD_ROWS + 1)})
    assert _table_html("Long", long, True).startswith(f"<details><summary>Long ({FOLD_ROWS + 1} rows)")
    assert _table_html("Short", long.head(2), True).startswith("<h3>Short</h3>")


def test_section_text_becomes_paragraphs_and_bullets():
    html = text_html("Intro with `code`.\n- **Bold**: one\n- two <b>\nEnd.")
    assert html == (
        "<p>Intro with <code>code</code>.</p>\n<ul><li><strong>Bold</strong>: one</li><li>two &lt;b&gt;</li></ul>"
        "\n<p>End.</p>"
    )
    assert inline_html("a & b") == "a &amp; b"
