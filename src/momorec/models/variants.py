"""The recommender variants and the one factory that builds their models.

A variant is one entry of :data:`VARIANT_SPECS`: the kind of model it builds (a key of :data:`MODEL_KINDS`),
the dataset it reads besides the sequences (``None`` = none) and whether it is the leakage canary. A new
model class (a fusion option, say) registers one :class:`ModelKind`; a new variant of an existing kind is
one more spec entry. The recommender, the layer sweep and the alignment's base model all build through
:func:`build_model`; :func:`rebuild_model` restores a trained one from its variant name, the recommender
parameters and its state dict (plus the semantic-ID table for the kinds that read one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from momorec.data.sequences import UserSequences
from momorec.models.momorec import MoMoREC, semantic_id_matrix
from momorec.models.most_popular import MostPopular
from momorec.models.sasrec import SASRec

# Every variant the pipeline knows: which model it builds and which dataset feeds it (None = none).
VARIANT_SPECS: dict[str, dict[str, Any]] = {
    "sasrec": {"model": "sasrec", "input": None},
    "most_popular": {"model": "most_popular", "input": None},
    "sasrec_text_init": {"model": "sasrec", "input": "item_text_embeddings"},
    "momorec": {"model": "momorec", "input": "item_semantic_ids"},
    "sid_text_only": {"model": "momorec", "input": "text_item_semantic_ids"},
    "momorec_no_spreading": {"model": "momorec", "input": "nospread_item_semantic_ids"},
    "momorec_no_residual": {"model": "momorec", "input": "cluster_item_semantic_ids"},
    # Built from full sequences (validation/test included) on purpose: measures leakage, never the headline.
    "leak_canary": {"model": "momorec", "input": "leak_canary_item_semantic_ids", "canary": True},
}

ModelBuilder = Callable[[UserSequences, Mapping[str, Any], Any], nn.Module]
"""``(user_sequences, recommender_params, side_input) -> model``, before any training."""


@dataclass(frozen=True)
class ModelKind:
    """How to build one kind of model; ``reads_semantic_ids``: its side input is an ``item_semantic_ids``
    table, which then travels with the registered model (it is needed to rebuild it)."""

    build: ModelBuilder
    reads_semantic_ids: bool = False


def text_init_vectors(
    item_text_embeddings: np.ndarray, n_items: int, hidden_size: int, seed: int = 0
) -> np.ndarray:
    """PCA of the item text embeddings to ``hidden_size`` dims, scaled to the std of the default init (0.02)."""
    embeddings = np.asarray(item_text_embeddings, dtype=np.float64)
    if embeddings.ndim != 2 or embeddings.shape[0] != n_items:
        raise ValueError(f"item_text_embeddings: shape {embeddings.shape}, expected ({n_items}, d)")
    if embeddings.shape[1] < hidden_size:
        raise ValueError(f"item_text_embeddings: {embeddings.shape[1]} dims < hidden_size {hidden_size}")
    centred = embeddings - embeddings.mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ components[:hidden_size].T
    projected *= 0.02 / max(projected.std(), 1e-12)
    return projected.astype(np.float32)


def _sasrec(data: UserSequences, params: Mapping[str, Any], item_text_embeddings: Any) -> SASRec:
    architecture = dict(params["model"])
    initial = None
    if item_text_embeddings is not None:
        initial = text_init_vectors(item_text_embeddings, data.n_items, architecture["hidden_size"])
    return SASRec(data.n_items, initial_item_embeddings=initial, **architecture)


def build_semantic_id_model(
    model_class: type[MoMoREC], data: UserSequences, params: Mapping[str, Any], item_semantic_ids: Any
) -> MoMoREC:
    """A model class with MoMoREC's constructor, over the codes of ``item_semantic_ids`` (register a new
    fusion option as ``ModelKind(partial(build_semantic_id_model, TheClass), reads_semantic_ids=True)``)."""
    # Missing settings take MoMoREC's defaults (all layers, no dedup digit, 32-dim code tables).
    sid = params.get("semantic_ids") or {}
    codes = semantic_id_matrix(
        item_semantic_ids, data.n_items, sid.get("n_layers_used"), bool(sid.get("use_dedup", False))
    )
    code_embedding_size = int(sid.get("code_embedding_size", 32))
    return model_class(data.n_items, codes, code_embedding_size=code_embedding_size, **params["model"])


def _most_popular(data: UserSequences, params: Mapping[str, Any], side_input: Any) -> MostPopular:
    return MostPopular(data.item_train_frequency())


MODEL_KINDS: dict[str, ModelKind] = {
    "sasrec": ModelKind(_sasrec),
    "momorec": ModelKind(partial(build_semantic_id_model, MoMoREC), reads_semantic_ids=True),
    "most_popular": ModelKind(_most_popular),
}


def variant_spec(variant: str) -> dict[str, Any]:
    """The spec of ``variant``; an unknown name is an error listing the known ones."""
    if variant not in VARIANT_SPECS:
        raise ValueError(f"unknown recommender variant {variant!r}; known: {sorted(VARIANT_SPECS)}")
    return VARIANT_SPECS[variant]


def model_kind(variant: str) -> ModelKind:
    """The :class:`ModelKind` that ``variant`` builds."""
    return MODEL_KINDS[variant_spec(variant)["model"]]


def build_model(
    variant: str,
    data: UserSequences,
    params: Mapping[str, Any],
    side_input: Any = None,
    seed: int | None = None,
) -> nn.Module:
    """The untrained model of ``variant`` for ``data``'s items, with ``params`` (``params:recommender``).

    ``side_input`` is the variant's input dataset (``VARIANT_SPECS[variant]["input"]``); a variant that
    needs one fails without it. ``seed`` seeds torch before the weights are drawn.
    """
    spec = variant_spec(variant)
    if spec["input"] is not None and side_input is None:
        raise ValueError(f"variant {variant}: its input dataset {spec['input']} is missing")
    if seed is not None:
        torch.manual_seed(seed)
    return MODEL_KINDS[spec["model"]].build(data, params, side_input)


def rebuild_model(
    variant: str,
    data: UserSequences,
    params: Mapping[str, Any],
    state_dict: Mapping[str, Any],
    item_semantic_ids: Any = None,
) -> nn.Module:
    """A trained model of ``variant`` restored from its ``state_dict`` (eval mode).

    Only the kinds whose structure depends on the semantic-ID table need ``item_semantic_ids``; text
    initialisation and popularity counts are part of the state dict.
    """
    kind = model_kind(variant)
    if kind.reads_semantic_ids and item_semantic_ids is None:
        raise ValueError(f"variant {variant}: rebuilding its model needs the item_semantic_ids table")
    model = kind.build(data, params, item_semantic_ids if kind.reads_semantic_ids else None)
    model.load_state_dict(state_dict)
    return model.eval()
