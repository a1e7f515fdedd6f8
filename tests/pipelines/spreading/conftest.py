"""A tiny shop with three motivation themes, a hashing stand-in encoder and ground truth."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from momorec.embeddings.encoder import EncoderBundle


class HashingEncoder:
    """Deterministic bag-of-words encoder: texts sharing words are similar; unit rows."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def get_embedding_dimension(self) -> int:
        return self.dim

    def encode(
        self, texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=True
    ):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace("|", " ").split():
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


# (title, category, brand, generated motivation or None, true motivation id)
SHOP = [
    ("cordless drill", "tools", "acme", "drilling holes in walls", 0),
    ("drill bit set", "tools", "acme", "drilling holes in walls easily", 0),
    ("hammer drill", "tools", "acme", None, 0),
    ("drill bit case", "tools", "acme", None, 0),
    ("paint roller", "decor", "brushco", "painting the living room", 1),
    ("paint tray", "decor", "brushco", "painting the living room walls", 1),
    ("wall paint roller", "decor", "brushco", None, 1),
    ("paint tray liner", "decor", "brushco", None, 1),
    ("garden hose", "garden", "greenco", "watering the garden", 2),
    ("hose nozzle", "garden", "greenco", "watering the garden plants", 2),
    ("garden hose reel", "garden", "greenco", None, 2),
    ("", None, None, None, 2),  # an item with no text at all
]
TRUE_TEXT = {0: "drill holes", 1: "paint a room", 2: "water plants"}


@pytest.fixture
def encoder() -> EncoderBundle:
    return EncoderBundle(base_model="hashing-test-encoder", tuned=True, model=HashingEncoder())


@pytest.fixture
def items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_idx": np.arange(len(SHOP), dtype=np.int32),
            "item_id": [f"I{i:03d}" for i in range(len(SHOP))],
            "title": [row[0] for row in SHOP],
            "category": [row[1] for row in SHOP],
            "brand": [row[2] for row in SHOP],
            "description": None,
            "price": 1.0,
        }
    )


@pytest.fixture
def item_motivations() -> pd.DataFrame:
    rows = [(idx, row[3], 3) for idx, row in enumerate(SHOP) if row[3]]
    # A second, weaker motivation for item 0: the main one is the higher support.
    rows.append((0, "a gift for dad", 1))
    return pd.DataFrame(rows, columns=["item_idx", "motivation", "support"]).astype({"item_idx": np.int32})


@pytest.fixture
def item_true_motivations() -> pd.DataFrame:
    rows = [(f"I{idx:03d}", row[4], TRUE_TEXT[row[4]]) for idx, row in enumerate(SHOP)]
    return pd.DataFrame(rows, columns=["item_id", "motivation_id", "motivation"])


@pytest.fixture
def no_truth() -> pd.DataFrame:
    return pd.DataFrame(
        {"item_id": pd.Series([], dtype=str), "motivation_id": pd.Series([], dtype=int), "motivation": []}
    )


@pytest.fixture
def encoder_params(tmp_path) -> dict:
    # A local directory passes the encoder-name check; the tests hand the nodes the hashing encoder itself.
    (tmp_path / "hashing-test-encoder").mkdir(exist_ok=True)
    return {
        "model": str(tmp_path / "hashing-test-encoder"),
        "text_fields": ["title", "category", "brand"],
        "batch_size": 8,
        "show_progress_bar": False,
    }


@pytest.fixture
def clustering_params() -> dict:
    return {
        "threshold": 0.8,
        "n_tables": 4,
        "n_planes": None,
        "max_bucket_size": 25000,
        "target_bucket_size": 2000,
        "seed": 42,
    }


@pytest.fixture
def vote_params() -> dict:
    return {"top_k": 3, "min_similarity": 0.0}


@pytest.fixture
def evaluation_params() -> dict:
    return {"holdout_fraction": 0.34, "seed": 1, "target_nmi_ground_truth_input": 0.8}


def flatten_params(prefix: str, value) -> dict:
    """{"params:spreading": {...}, "params:spreading.encoder": {...}, ...} as Kedro exposes them."""
    out = {f"params:{prefix}": value}
    if isinstance(value, dict):
        for key, inner in value.items():
            out.update(flatten_params(f"{prefix}.{key}", inner))
    return out


def run_in_memory(pipeline, inputs: dict, parameters: dict):
    """Run ``pipeline`` with SequentialRunner on MemoryDatasets that keep every output readable."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    class KeptMemoryDataset(MemoryDataset):
        def _release(self) -> None:
            pass

    datasets = {name: MemoryDataset(value) for name, value in parameters.items()}
    datasets.update({name: MemoryDataset(value, copy_mode="assign") for name, value in inputs.items()})
    datasets.update({name: KeptMemoryDataset(copy_mode="assign") for name in pipeline.all_outputs()})
    catalog = DataCatalog(datasets)
    SequentialRunner().run(pipeline, catalog)
    return catalog


@pytest.fixture
def spreading_parameters(repo_root) -> dict:
    """The project's parameters_spreading.yml, with the test encoder name and no progress bars."""
    import yaml

    config = yaml.safe_load((repo_root / "conf/base/parameters_spreading.yml").read_text())["spreading"]
    config["encoder"].update(model="hashing-test-encoder", show_progress_bar=False)
    config["clustering"]["n_tables"] = 2
    return flatten_params("spreading", config)
