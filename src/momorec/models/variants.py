"""The recommender variants and the one factory that builds their models.

A variant is one entry of :data:`VARIANT_SPECS`: the kind of model it builds (a key of :data:`MODEL_KINDS`),
the dataset it reads besides the sequences (``None`` = none; a tuple of names for a kind that reads several,
:func:`variant_inputs`) and whether it is the leakage canary
(``canary``) or reads ground truth (``oracle``); both are evaluation only (:func:`evaluation_only`). A new
model class (a fusion option, say) registers one :class:`ModelKind`; a new variant of an existing kind is
one more spec entry. Every semantic-ID variant (kind ``momorec``) builds the fusion class that
``recommender.semantic_ids.fusion`` names (:data:`FUSION_CLASSES`). The recommender, the layer sweep and the alignment's base model all build through
:func:`build_model`; :func:`rebuild_model` restores a trained one from its variant name, the recommender
parameters and its state dict (plus the semantic-ID table for the kinds that read one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from momorec.data.sequences import UserSequences
from momorec.models.adaptor_code_fusion import AdaptorCodeFusion
from momorec.models.adaptor_fusion import AdaptorFusion
from momorec.models.additive_fusion import AdditiveFusion
from momorec.models.gated_fusion import GatedFusion
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
    # Frozen item vectors through AdaptorFusion's whitening experts, added to the ID embedding (issue 13).
    "sasrec_adaptor_text": {"model": "adaptor", "input": "item_text_embeddings"},
    "momorec_adaptor": {"model": "adaptor", "input": "text_motivation_item_vectors"},
    # The text adaptor and the additive code term side by side (AdaptorCodeFusion): item text through the
    # adaptor, plus the codes of the text-only IDs or of the motivation stage's IDs.
    "sasrec_adaptor_text_codes": {
        "model": "adaptor_codes",
        "input": ("item_text_embeddings", "text_item_semantic_ids"),
    },
    "momorec_adaptor_codes": {
        "model": "adaptor_codes",
        "input": ("item_text_embeddings", "item_semantic_ids"),
    },
    # Built from full sequences (validation/test included) on purpose: measures leakage, never the headline.
    "leak_canary": {"model": "momorec", "input": "leak_canary_item_semantic_ids", "canary": True},
    # IDs from the shop's ground-truth motivations: the bound of a perfect motivation model, evaluation only
    # (skipped where the data set has no ground truth, i.e. an empty table).
    "momorec_oracle": {"model": "momorec", "input": "oracle_item_semantic_ids", "oracle": True},
}
# ``recommender.semantic_ids.fusion``: the model class of every semantic-ID variant (kind ``momorec``).
FUSION_CLASSES: dict[str, type[SASRec]] = {"mlp": MoMoREC, "additive": AdditiveFusion, "gated": GatedFusion}

ModelBuilder = Callable[[UserSequences, Mapping[str, Any], Any], nn.Module]
"""``(user_sequences, recommender_params, side_input) -> model``, before any training."""


@dataclass(frozen=True)
class ModelKind:
    """How to build one kind of model; ``reads_semantic_ids``: its side input is (or, for a kind with
    several inputs, ends with) an ``item_semantic_ids`` table, which then travels with the registered model
    (it is needed to rebuild it).

    A kind with ``n_inputs`` > 1 gets its datasets as one tuple, in the order of its variants' spec.
    """

    build: ModelBuilder
    reads_semantic_ids: bool = False
    # For kinds whose (first) side input is stored in the state dict (frozen vectors): that input read back
    # from it, so a trained model rebuilds from its state dict (and its semantic-ID table, if any) alone.
    side_input_from_state: Callable[[Mapping[str, Any]], Any] | None = None
    n_inputs: int = 1

    def semantic_id_table(self, side_input: Any) -> Any:
        """The ``item_semantic_ids`` table inside ``side_input`` (``None`` for a kind that reads none)."""
        if not self.reads_semantic_ids:
            return None
        return side_input[-1] if self.n_inputs > 1 else side_input

    def pack(self, datasets: Sequence[Any]) -> Any:
        """``datasets`` (in the spec's order) as :attr:`build` takes them: nothing, the one dataset, or a
        tuple for a kind with several inputs."""
        if self.n_inputs > 1:
            return tuple(datasets)
        return datasets[0] if datasets else None

    def rebuild_input(self, state_dict: Mapping[str, Any], item_semantic_ids: Any) -> Any:
        """The side input that rebuilds a trained model: what its state dict stores, then its IDs."""
        parts = []
        if self.side_input_from_state is not None:
            parts.append(self.side_input_from_state(state_dict))
        if self.reads_semantic_ids:
            parts.append(item_semantic_ids)
        return self.pack(parts)


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


def fusion_class(params: Mapping[str, Any]) -> type[SASRec]:
    """The model class ``recommender.semantic_ids.fusion`` selects (default ``mlp``, the paper's fusion)."""
    fusion = (params.get("semantic_ids") or {}).get("fusion") or "mlp"
    if fusion not in FUSION_CLASSES:
        raise ValueError(f"recommender.semantic_ids.fusion: {fusion!r}; known: {sorted(FUSION_CLASSES)}")
    return FUSION_CLASSES[fusion]


def _item_codes(data: UserSequences, params: Mapping[str, Any], item_semantic_ids: Any) -> np.ndarray:
    # Missing settings take MoMoREC's defaults (all layers, no dedup digit).
    sid = params.get("semantic_ids") or {}
    return semantic_id_matrix(
        item_semantic_ids, data.n_items, sid.get("n_layers_used"), bool(sid.get("use_dedup", False))
    )


def _code_embedding_size(params: Mapping[str, Any]) -> int:
    return int((params.get("semantic_ids") or {}).get("code_embedding_size", 32))


def build_semantic_id_model(data: UserSequences, params: Mapping[str, Any], item_semantic_ids: Any) -> SASRec:
    """The fusion model of ``params`` (:func:`fusion_class`) over the codes of ``item_semantic_ids``."""
    codes = _item_codes(data, params, item_semantic_ids)
    model_class = fusion_class(params)
    if model_class is GatedFusion:  # its code tables have the hidden size; its gate reads the frequencies
        return GatedFusion(data.n_items, codes, data.item_train_frequency(), **params["model"])
    return model_class(
        data.n_items, codes, code_embedding_size=_code_embedding_size(params), **params["model"]
    )


def _adaptor(data: UserSequences, params: Mapping[str, Any], item_vectors: Any) -> AdaptorFusion:
    return AdaptorFusion(data.n_items, np.asarray(item_vectors, dtype=np.float32), **params["model"])


def _adaptor_codes(
    data: UserSequences, params: Mapping[str, Any], vectors_and_ids: tuple[Any, Any]
) -> AdaptorCodeFusion:
    item_vectors, item_semantic_ids = vectors_and_ids
    return AdaptorCodeFusion(
        data.n_items,
        np.asarray(item_vectors, dtype=np.float32),
        _item_codes(data, params, item_semantic_ids),
        code_embedding_size=_code_embedding_size(params),
        **params["model"],
    )


def _adaptor_vectors_from_state(state_dict: Mapping[str, Any]) -> np.ndarray:
    return state_dict["item_vectors"][1:].cpu().numpy()  # row 0 is the padding token


def _most_popular(data: UserSequences, params: Mapping[str, Any], side_input: Any) -> MostPopular:
    return MostPopular(data.item_train_frequency())


MODEL_KINDS: dict[str, ModelKind] = {
    "sasrec": ModelKind(_sasrec),
    "momorec": ModelKind(build_semantic_id_model, reads_semantic_ids=True),
    "adaptor": ModelKind(_adaptor, side_input_from_state=_adaptor_vectors_from_state),
    "adaptor_codes": ModelKind(
        _adaptor_codes, reads_semantic_ids=True, side_input_from_state=_adaptor_vectors_from_state, n_inputs=2
    ),
    "most_popular": ModelKind(_most_popular),
}


def variant_spec(variant: str) -> dict[str, Any]:
    """The spec of ``variant``; an unknown name is an error listing the known ones."""
    if variant not in VARIANT_SPECS:
        raise ValueError(f"unknown recommender variant {variant!r}; known: {sorted(VARIANT_SPECS)}")
    return VARIANT_SPECS[variant]


VARIANT_SETTING_SECTIONS = ("model", "training")


def variant_params(params: Mapping[str, Any], variant: str) -> dict[str, Any]:
    """``params:recommender`` as ``variant`` trains with it: the shared ``model`` and ``training`` sections,
    each key overridden by ``recommender.variant_settings.<variant>`` (a tuned variant's own sizes, dropout,
    learning rate, temperature; the tuning pipeline writes them). A variant without an entry gets ``params``."""
    overrides = (params.get("variant_settings") or {}).get(variant) or {}
    unknown = set(overrides) - set(VARIANT_SETTING_SECTIONS)
    if unknown:
        raise ValueError(
            f"recommender.variant_settings.{variant}: unknown section(s) {sorted(unknown)}; "
            f"known: {list(VARIANT_SETTING_SECTIONS)}"
        )
    merged = dict(params)
    for section, values in overrides.items():
        merged[section] = {**(params.get(section) or {}), **(values or {})}
    return merged


def variant_inputs(variant: str) -> tuple[str, ...]:
    """The datasets ``variant`` reads besides the sequences, in the order its model kind takes them."""
    names = variant_spec(variant)["input"]
    if names is None:
        return ()
    return (names,) if isinstance(names, str) else tuple(names)


def evaluation_only(variant: str) -> bool:
    """True for a variant flagged ``canary`` or ``oracle``: reported, never the headline or the registered
    model (an unknown name is not flagged)."""
    spec = VARIANT_SPECS.get(variant, {})
    return bool(spec.get("canary") or spec.get("oracle"))


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
    inputs = variant_inputs(variant)
    kind = MODEL_KINDS[spec["model"]]
    given = side_input if kind.n_inputs > 1 and isinstance(side_input, tuple) else (side_input,)
    if inputs and (len(given) != len(inputs) or any(part is None for part in given)):
        raise ValueError(f"variant {variant}: its input dataset(s) {', '.join(inputs)} missing")
    if seed is not None:
        torch.manual_seed(seed)
    return kind.build(data, params, side_input)


def rebuild_model(
    variant: str,
    data: UserSequences,
    params: Mapping[str, Any],
    state_dict: Mapping[str, Any],
    item_semantic_ids: Any = None,
) -> nn.Module:
    """A trained model of ``variant`` restored from its ``state_dict`` (eval mode).

    Only the kinds whose structure depends on the semantic-ID table need ``item_semantic_ids`` (built with
    the fusion class of ``params``, so it must be the training run's); text initialisation, popularity
    counts, gate features and the adaptor's frozen vectors are part of the state dict.
    """
    kind = model_kind(variant)
    if kind.reads_semantic_ids and item_semantic_ids is None:
        raise ValueError(f"variant {variant}: rebuilding its model needs the item_semantic_ids table")
    model = kind.build(data, params, kind.rebuild_input(state_dict, item_semantic_ids))
    model.load_state_dict(state_dict)
    return model.eval()
