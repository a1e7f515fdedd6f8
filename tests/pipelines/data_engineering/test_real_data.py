"""The pipeline on the real development data (skipped where ../shared/data is absent).

The expected counts are the ones each folder's SOURCE.md states.
"""

from __future__ import annotations

import pytest

from momorec.data.raw_log import RawLog
from momorec.io.interaction_log import InteractionLogDataset
from momorec.pipelines.data_engineering.pipeline import create_pipeline
from tests.pipelines.data_engineering.conftest import run_in_memory

pytestmark = pytest.mark.real_data


def _statistics(raw_log: RawLog, k_core: int) -> dict:
    catalog = run_in_memory(create_pipeline(), {"raw_log": raw_log}, {"k_core": k_core, "min_support": 2})
    return catalog.load("dataset_statistics")


# Each file is read once per module; the tests only read the RawLog (MemoryDataset hands out copies).
@pytest.fixture(scope="module")
def scientific(shared_data) -> RawLog:
    folder = shared_data / "amazon2018-industrial-scientific"
    return InteractionLogDataset(
        "lcrec",
        interactions_path=str(folder / "Scientific.inter.json"),
        items_path=str(folder / "Scientific.item.json"),
    ).load()


@pytest.fixture(scope="module")
def movielens(shared_data) -> RawLog:
    return InteractionLogDataset("movielens", data_dir=str(shared_data / "movielens-100k")).load()


def test_scientific_without_k_core_matches_source(scientific):
    statistics = _statistics(scientific, k_core=0)
    assert (statistics["users"], statistics["items"], statistics["interactions"]) == (8317, 4344, 58492)
    assert statistics["sequence_length"]["min"] == 5 and statistics["sequence_length"]["max"] == 78
    assert statistics["test_interactions"] == statistics["valid_interactions"] == 8317


def test_scientific_is_already_a_5_core(scientific):
    # SOURCE.md: the files were built with an iterative 5-core filter, so k=5 removes nothing.
    statistics = _statistics(scientific, k_core=5)
    assert (statistics["users"], statistics["items"], statistics["interactions"]) == (8317, 4344, 58492)


def test_movielens_without_k_core_matches_source(movielens):
    statistics = _statistics(movielens, k_core=0)
    assert (statistics["users"], statistics["items"], statistics["interactions"]) == (943, 1682, 100000)
    assert statistics["sequence_length"]["min"] == 20


def test_movielens_5_core_removes_rare_items(movielens):
    statistics = _statistics(movielens, k_core=5)
    assert statistics["users"] == 943
    assert statistics["items"] < 1682 and statistics["interactions"] < 100000
    assert statistics["before_k_core"]["items"] == 1682


def _item_text_coverage(raw_log: RawLog) -> tuple[dict[str, int], int]:
    from momorec.embeddings.encoder import text_field_coverage
    from momorec.embeddings.settings import ITEM_TEXT_FIELDS

    catalog = run_in_memory(create_pipeline(), {"raw_log": raw_log}, {"k_core": 5, "min_support": 2})
    items = catalog.load("items")
    return text_field_coverage(items, ITEM_TEXT_FIELDS), len(items)


def test_scientific_items_keep_every_text_field_for_the_encoder(scientific):
    # SOURCE.md's coverage: title 100 %, categories 4213, brand 4332, description 4221 of 4344 items.
    assert _item_text_coverage(scientific) == (
        {"title": 4344, "category": 4213, "brand": 4332, "description": 4221},
        4344,
    )


def test_movielens_items_have_a_title_and_genres_only(movielens):
    coverage, n_items = _item_text_coverage(movielens)
    # Every film has genres; one placeholder title ("unknown") may be null.
    assert coverage["category"] == n_items and coverage["title"] >= n_items - 1
    assert coverage["brand"] == coverage["description"] == 0
