"""The data_engineering configuration: every dataset declared, real-data environments override only raw input."""

from __future__ import annotations

import pytest
from kedro.config import OmegaConfigLoader

from momorec.pipelines.data_engineering.pipeline import create_pipeline


def _config(repo_root, env: str) -> OmegaConfigLoader:
    return OmegaConfigLoader(
        conf_source=str(repo_root / "conf"), base_env="base", default_run_env=env, env=env
    )


@pytest.mark.parametrize("env", ["base", "scientific", "movielens"])
def test_every_dataset_of_the_pipeline_is_declared(repo_root, env):
    catalog = _config(repo_root, env)["catalog"]
    datasets = {name for name in create_pipeline().datasets() if not name.startswith("params:")}
    assert datasets - set(catalog) == set()
    assert "item_true_motivations" in catalog
    parameters = _config(repo_root, env)["parameters"]["data_engineering"]
    assert parameters["k_core"] == 5
    assert {"long_tail_max_interactions", "pair_window", "min_support", "max_pairs", "builtin_shop"} <= set(
        parameters
    )


@pytest.mark.parametrize(
    ("env", "reader_format", "path_key", "path"),
    [
        ("scientific", "lcrec", "interactions_path", "data/01_raw/scientific/Scientific.inter.json"),
        ("movielens", "movielens", "data_dir", "data/01_raw/movielens"),
    ],
)
def test_real_data_environments_read_their_files_and_have_no_ground_truth(
    repo_root, env, reader_format, path_key, path
):
    catalog = _config(repo_root, env)["catalog"]
    assert catalog["raw_log"]["type"] == "momorec.io.interaction_log.InteractionLogDataset"
    assert catalog["raw_log"]["format"] == reader_format
    assert catalog["raw_log"][path_key] == path
    assert catalog["item_true_motivations"]["type"] == "momorec.io.interaction_log.NoGroundTruthDataset"
    # everything else is inherited from base unchanged, under the environment's own data root
    base = _config(repo_root, "base")["catalog"]
    in_base_root = {
        **base["interactions"],
        "filepath": base["interactions"]["filepath"].replace("data/", f"data/{env}/", 1),
    }
    assert catalog["interactions"] == in_base_root
    assert base["raw_log"]["type"] == "momorec.io.builtin_shop.BuiltinShopDataset"
