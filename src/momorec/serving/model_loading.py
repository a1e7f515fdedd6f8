"""Rebuild a trained recommender network from its variant, configuration and state dict.

The registered model stores no pickled Python object: the network is rebuilt from the classes of
``momorec.models`` and its weights are loaded into it. :func:`rebuild_network` is the one place that knows
how; once ``momorec.models.variants.build_model`` exists it becomes a call to that factory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from momorec.models.momorec import MoMoREC, semantic_id_matrix
from momorec.models.sasrec import SASRec

MODEL_KINDS = ("sasrec", "momorec")


def model_kind(network: nn.Module) -> str:
    """``momorec`` for a semantic-ID model, ``sasrec`` for a plain SASRec; anything else is an error."""
    if isinstance(network, MoMoREC):
        return "momorec"
    if isinstance(network, SASRec):
        return "sasrec"
    raise TypeError(f"cannot package a {type(network).__name__}: expected a SASRec or MoMoREC network")


def semantic_id_table(network: nn.Module) -> pd.DataFrame | None:
    """The codes a MoMoREC network was built with, as an ``item_semantic_ids`` table (``None`` otherwise).

    Read back from the network's ``item_code_tokens`` buffer, so the table always matches the weights; the
    layers actually used (and the dedup digit, when it was one) become ``code_0 … code_{m-1}``.
    """
    if not isinstance(network, MoMoREC):
        return None
    codes = network.item_code_tokens[1:].cpu().numpy().astype(np.int64) - 1  # row 0 is the padding token
    table = pd.DataFrame(codes, columns=[f"code_{layer}" for layer in range(codes.shape[1])])
    table.insert(0, "item_idx", np.arange(len(codes), dtype=np.int64))
    return table


def rebuild_network(
    config: Mapping[str, Any],
    state_dict: Mapping[str, torch.Tensor],
    item_semantic_ids: pd.DataFrame | None = None,
) -> nn.Module:
    """The network described by ``config`` with ``state_dict`` loaded (strictly), in eval mode.

    ``config``: ``model_kind`` (sasrec | momorec), ``n_items``, ``model`` (the architecture keywords of
    ``params:recommender.model``) and, for momorec, ``code_embedding_size``; ``item_semantic_ids`` is the
    table from :func:`semantic_id_table`. A mismatch between configuration and weights fails loudly.
    """
    kind = config.get("model_kind")
    n_items = int(config["n_items"])
    architecture = dict(config["model"])
    if kind == "sasrec":
        network: nn.Module = SASRec(n_items, **architecture)
    elif kind == "momorec":
        if item_semantic_ids is None:
            raise ValueError("a momorec network needs its item_semantic_ids table to be rebuilt")
        codes = semantic_id_matrix(item_semantic_ids, n_items)
        network = MoMoREC(
            n_items, codes, code_embedding_size=int(config["code_embedding_size"]), **architecture
        )
    else:
        raise ValueError(f"model_kind {kind!r} unknown; known: {list(MODEL_KINDS)}")
    network.load_state_dict(dict(state_dict), strict=True)
    return network.eval()
