"""Rebuild a trained recommender network from its variant, configuration and state dict.

The registered model stores no pickled Python object: the network is rebuilt by the recommender's own model
factory (:func:`momorec.models.variants.rebuild_model`) from the variant's name and the settings it was
built with, and its weights are loaded into it. Whatever else an item representation reads (codes, frozen
text vectors, gate inputs) lives in the weights as buffers, except the semantic-ID table, which travels as
its own file (:func:`semantic_id_table`) because the code tables' shapes depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from momorec.data.sequences import UserSequences
from momorec.models.variants import rebuild_model, variant_params, variant_spec


def semantic_id_table(network: nn.Module) -> pd.DataFrame | None:
    """The codes a semantic-ID network was built with, as an ``item_semantic_ids`` table (``None`` if none).

    Read back from the network's ``item_code_tokens`` buffer (MoMoREC's own, or its code tables' for the
    other fusions), so the table always matches the weights; the layers actually used (and the dedup digit,
    when it was one) become ``code_0 … code_{m-1}``.
    """
    tokens = [buffer for name, buffer in network.named_buffers() if name.split(".")[-1] == "item_code_tokens"]
    if not tokens:
        return None
    if len(tokens) > 1:
        raise ValueError(f"{type(network).__name__} has {len(tokens)} code tables; expected one")
    codes = tokens[0][1:].cpu().numpy().astype(np.int64) - 1  # row 0 is the padding token
    table = pd.DataFrame(codes, columns=[f"code_{layer}" for layer in range(codes.shape[1])])
    table.insert(0, "item_idx", np.arange(len(codes), dtype=np.int64))
    return table


def network_settings(variant: str, recommender_params: Mapping[str, Any]) -> dict[str, Any]:
    """What :func:`rebuild_network` needs besides the weights: the variant, its model kind, the architecture
    and the semantic-ID settings that shape the network (fusion, code table size).

    The packaged code table already holds exactly the layers used, so ``n_layers_used`` and ``use_dedup``
    are not kept: the table is read as it is.
    """
    spec = variant_spec(variant)  # an unknown variant fails here, at packaging time, not when it is served
    recommender_params = variant_params(recommender_params, variant)
    semantic_ids = recommender_params.get("semantic_ids") or {}
    return {
        "variant": variant,
        "model_kind": spec["model"],
        "model": dict(recommender_params["model"]),
        "semantic_ids": {
            "fusion": semantic_ids.get("fusion") or "mlp",
            "code_embedding_size": int(semantic_ids.get("code_embedding_size", 32)),
        },
    }


def _settings_of_format_1(config: Mapping[str, Any]) -> dict[str, Any]:
    # Format 1 knew two network kinds, SASRec and the paper's MLP fusion, and kept the code size on its own.
    size = config.get("code_embedding_size")
    return {
        **config,
        "semantic_ids": {"fusion": "mlp", "code_embedding_size": int(size if size is not None else 32)},
    }


def rebuild_network(
    config: Mapping[str, Any],
    state_dict: Mapping[str, torch.Tensor],
    item_semantic_ids: pd.DataFrame | None = None,
) -> nn.Module:
    """The network described by ``config`` with ``state_dict`` loaded (strictly), in eval mode.

    ``config``: ``n_items`` and :func:`network_settings` (format 2), or format 1's ``model_kind`` (sasrec |
    momorec), ``model`` and ``code_embedding_size``. ``item_semantic_ids`` is the table from
    :func:`semantic_id_table`, needed by the variants that read one (``rebuild_model`` refuses to go on
    without it). A mismatch between configuration and weights fails loudly.
    """
    if config.get("format_version", 2) == 1:
        config = _settings_of_format_1(config)
    variant = config.get("variant")
    if variant is None:
        raise ValueError("the packaged config names no variant")
    params = {"model": dict(config["model"]), "semantic_ids": dict(config["semantic_ids"])}
    catalogue = UserSequences.empty(int(config["n_items"]))
    return rebuild_model(variant, catalogue, params, dict(state_dict), item_semantic_ids)
