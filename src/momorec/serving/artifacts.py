"""The files a packaged recommender is made of, written and read without pickle.

``config.json`` (variant, model kind, item count, architecture, semantic-ID settings: what
:func:`momorec.serving.model_loading.rebuild_network` reads), ``weights.safetensors`` (the state dict),
``items.parquet`` (item_idx, item_id, title, train_count: the vocabulary, the titles and the training
counts the popularity fallback ranks by) and, for a semantic-ID model, ``item_semantic_ids.parquet``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors.torch import load_file, save_file
from torch import nn

from momorec.serving.model_loading import network_settings, rebuild_network, semantic_id_table
from momorec.serving.recommender import ITEM_COLUMNS, Recommender

# 2: any variant, rebuilt by the model factory (1: SASRec or the MLP fusion only; still read).
FORMAT_VERSION = 2
READABLE_FORMAT_VERSIONS = (1, 2)


def item_table(items: pd.DataFrame, item_stats: pd.DataFrame) -> pd.DataFrame:
    """``items`` (item_idx, item_id, title) with ``train_count`` from ``item_stats.train_frequency``."""
    for name, table, columns in (
        ("items", items, ("item_idx", "item_id", "title")),
        ("item_stats", item_stats, ("item_idx", "train_frequency")),
    ):
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"{name}: missing column(s) {missing}")
    counts = item_stats.set_index("item_idx")["train_frequency"]
    table = items[["item_idx", "item_id", "title"]].copy()
    table["item_id"] = table["item_id"].astype(str)
    table["title"] = table["title"].fillna("").astype(str)
    table["train_count"] = table["item_idx"].map(counts).fillna(0).astype(np.int64)
    table["item_idx"] = table["item_idx"].astype(np.int64)
    return table.sort_values("item_idx").reset_index(drop=True)[list(ITEM_COLUMNS)]


def write_artifacts(
    folder: Path,
    network: nn.Module,
    variant: str,
    recommender_params: Mapping[str, Any],
    items: pd.DataFrame,
) -> dict[str, str]:
    """Write the files of a packaged recommender into ``folder``; returns MLflow's ``artifacts`` mapping.

    ``recommender_params``: the ``params:recommender`` ``network`` was built with (its ``model`` and
    ``semantic_ids`` sections are kept).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "format_version": FORMAT_VERSION,
        "n_items": int(network.n_items),
        **network_settings(variant, recommender_params),
    }
    paths = {
        "config": folder / "config.json",
        "weights": folder / "weights.safetensors",
        "items": folder / "items.parquet",
    }
    paths["config"].write_text(json.dumps(config, indent=2))
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in network.state_dict().items()}
    save_file(state, str(paths["weights"]))
    items[list(ITEM_COLUMNS)].to_parquet(paths["items"], index=False)
    codes = semantic_id_table(network)
    if codes is not None:
        paths["item_semantic_ids"] = folder / "item_semantic_ids.parquet"
        codes.to_parquet(paths["item_semantic_ids"], index=False)
    return {name: str(path) for name, path in paths.items()}


def read_recommender(artifacts: Mapping[str, str], device: str = "cpu") -> Recommender:
    """The :class:`Recommender` packaged in ``artifacts`` (the mapping :func:`write_artifacts` returns)."""
    config = json.loads(Path(artifacts["config"]).read_text())
    if config.get("format_version") not in READABLE_FORMAT_VERSIONS:
        raise ValueError(
            f"{artifacts['config']}: format_version {config.get('format_version')!r} unsupported"
        )
    codes_path = artifacts.get("item_semantic_ids")
    network = rebuild_network(
        config,
        load_file(artifacts["weights"]),
        None if codes_path is None else pd.read_parquet(codes_path),
    )
    return Recommender(network, pd.read_parquet(artifacts["items"]), config["variant"], device)
