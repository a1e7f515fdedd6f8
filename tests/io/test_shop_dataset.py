"""ensure_shop and BuiltinShopDataset: generation on demand, regeneration, reading back as Amazon 2023."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError

from momorec.data import shop
from momorec.data.raw_log import RawLog
from momorec.io.builtin_shop import BuiltinShopDataset

TINY = {"n_users": 150, "n_items": 120, "interactions_per_user": 6.0, "n_motivations": 12, "seed": 3}
FILES = (shop.REVIEWS_FILENAME, shop.META_FILENAME, shop.TRUTH_FILENAME)


def _snapshot(folder) -> dict[str, tuple[int, bytes]]:
    return {name: ((folder / name).stat().st_mtime_ns, (folder / name).read_bytes()) for name in FILES}


def test_ensure_shop_writes_once_and_reuses_matching_files(tmp_path):
    folder = tmp_path / "shop"
    assert shop.ensure_shop(folder, TINY) is True
    manifest = json.loads((folder / shop.MANIFEST_FILENAME).read_text())
    assert manifest["fingerprint"] == shop.ShopSettings.from_mapping(TINY).fingerprint()
    before = _snapshot(folder)
    assert shop.ensure_shop(folder, TINY) is False
    assert _snapshot(folder) == before
    # No temporary files are left behind.
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FILES, shop.MANIFEST_FILENAME])


def test_ensure_shop_regenerates_when_settings_change(tmp_path):
    folder = tmp_path / "shop"
    shop.ensure_shop(folder, TINY)
    before = _snapshot(folder)
    assert shop.ensure_shop(folder, {**TINY, "seed": 4}) is True
    after = _snapshot(folder)
    assert after[shop.REVIEWS_FILENAME][1] != before[shop.REVIEWS_FILENAME][1]
    assert shop.read_manifest(folder)["settings"]["seed"] == 4


@pytest.mark.parametrize("damage", ["delete_file", "truncate_file", "delete_manifest", "corrupt_manifest"])
def test_ensure_shop_repairs_incomplete_folders(tmp_path, damage):
    folder = tmp_path / "shop"
    shop.ensure_shop(folder, TINY)
    original = (folder / shop.REVIEWS_FILENAME).read_bytes()
    if damage == "delete_file":
        (folder / shop.META_FILENAME).unlink()
    elif damage == "truncate_file":
        (folder / shop.REVIEWS_FILENAME).write_bytes(original[: len(original) // 2])
    elif damage == "delete_manifest":
        (folder / shop.MANIFEST_FILENAME).unlink()
    else:
        (folder / shop.MANIFEST_FILENAME).write_text("{not json")
    assert shop.ensure_shop(folder, TINY) is True
    assert (folder / shop.REVIEWS_FILENAME).read_bytes() == original
    assert shop.shop_is_current(folder, shop.ShopSettings.from_mapping(TINY))


def test_a_failed_write_leaves_no_manifest_so_the_next_load_regenerates(tmp_path, monkeypatch):
    folder = tmp_path / "shop"
    shop.ensure_shop(folder, TINY)
    calls = {"n": 0}
    real_replace = shop.os.replace

    def crash_on_second_rename(source, target):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (simulated)")
        real_replace(source, target)

    monkeypatch.setattr(shop.os, "replace", crash_on_second_rename)
    with pytest.raises(OSError, match="simulated"):
        shop.ensure_shop(folder, {**TINY, "seed": 9})
    monkeypatch.undo()
    assert shop.read_manifest(folder) is None
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert shop.ensure_shop(folder, {**TINY, "seed": 9}) is True


def test_dataset_loads_the_log_through_the_amazon_2023_reader(tmp_path):
    catalog = DataCatalog.from_config(
        {
            "raw_log": {
                "type": "momorec.io.builtin_shop.BuiltinShopDataset",
                "path": str(tmp_path / "shop"),
                "settings": TINY,
            },
            "item_true_motivations": {
                "type": "momorec.io.builtin_shop.BuiltinShopDataset",
                "path": str(tmp_path / "shop"),
                "settings": TINY,
                "part": "truth",
            },
        }
    )
    raw_log = catalog.load("raw_log")
    assert isinstance(raw_log, RawLog)
    tables = shop.generate_shop(TINY)
    assert len(raw_log.interactions) == len(tables.reviews)
    assert len(raw_log.items) == TINY["n_items"]
    # Milliseconds in the file, seconds in the common table.
    assert raw_log.interactions["timestamp"].max() == tables.reviews["timestamp"].max() // 1000
    assert set(raw_log.interactions["item_id"]) <= set(raw_log.items["item_id"])
    assert raw_log.items["title"].notna().all() and raw_log.items["brand"].notna().all()

    truth = catalog.load("item_true_motivations")
    assert dict(truth.dtypes.astype(str)) == {
        "item_id": "string",
        "motivation_id": "int64",
        "motivation": "string",
    }
    assert set(truth["item_id"]) == set(raw_log.items["item_id"])
    pd.testing.assert_frame_equal(truth, tables.item_true_motivations.astype(truth.dtypes.to_dict()))


def test_dataset_describe_shows_path_and_settings_and_saving_is_refused(tmp_path):
    dataset = BuiltinShopDataset(path=str(tmp_path), settings=TINY, part="truth")
    description = dataset._describe()
    assert description["path"] == str(tmp_path) and description["part"] == "truth"
    assert description["settings"]["n_users"] == TINY["n_users"]
    assert description["settings"]["skew"] == shop.ShopSettings().skew  # defaults fill the gaps
    assert dataset.exists()
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(pd.DataFrame())


def test_dataset_rejects_bad_part_and_unknown_settings(tmp_path):
    with pytest.raises(DatasetError, match="part must be one of"):
        BuiltinShopDataset(path=str(tmp_path), settings=TINY, part="everything")
    with pytest.raises(DatasetError, match="unknown builtin_shop settings \\['users'\\]"):
        BuiltinShopDataset(path=str(tmp_path), settings={"users": 5})


def test_globals_yml_settings_are_all_known_to_the_generator(repo_root):
    import yaml

    globals_config = yaml.safe_load((repo_root / "conf" / "base" / "globals.yml").read_text())
    settings = shop.ShopSettings.from_mapping(globals_config["builtin_shop"])
    assert settings == shop.ShopSettings()  # the code defaults mirror the configured defaults


def test_noisy_shop_is_read_with_its_bad_lines_counted_not_hidden(tmp_path):
    raw_log = BuiltinShopDataset(path=str(tmp_path), settings={**TINY, "noise": 0.05}).load()
    clean_rows = len(shop.generate_shop(TINY).reviews)
    report = raw_log.parse_report[str(tmp_path / shop.REVIEWS_FILENAME)]
    assert report["rows_read"] == clean_rows + round(0.05 * clean_rows)
    assert report["problems"]["malformed_json"]["count"] >= 1
    assert report["problems"]["missing_user_id"]["count"] >= 1
    assert len(raw_log.interactions) < report["rows_read"]
