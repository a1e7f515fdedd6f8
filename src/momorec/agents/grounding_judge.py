"""The grounding judge: how well a motivation explains both items, with no generation at all.

A motivation's grounding score is the cosine similarity of its embedding to each item's text embedding (the
sentence encoder of the run), the weaker of the two (a motivation must explain *both* items), minus

- ``generic_penalty`` when the motivation is generic (``parsing.is_generic`` with the run's blocklist), and
- ``naming_penalty`` times the share of its content words that are words of the items' titles: copying the
  product names is the cheapest way to be similar to both items without saying why they go together.

Deterministic and offline; agents are compared pairwise on it (``grounding_preference``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from momorec.agents.parsing import is_generic

GROUNDING_COLUMNS = ["item_a", "item_b", "agent", "similarity_a", "similarity_b", "generic", "naming_share", "grounding"]  # fmt: skip
_WORD = re.compile(r"[a-z]{3,}")
# Words that say nothing about a product: never counted as naming it.
_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "into",
        "your",
        "their",
        "this",
        "that",
        "these",
        "those",
        "both",
        "set",
        "pack",
        "new",
        "pro",
        "plus",
        "one",
        "two",
        "its",
    ]
)


@dataclass(frozen=True)
class GroundingSettings:
    generic_penalty: float = 0.2
    naming_penalty: float = 0.3
    # A difference of grounding scores within this margin is a tie.
    tie_margin: float = 0.01
    # Scale of the logistic that turns a score difference into a preference (for the combined judge).
    temperature: float = 0.05

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> GroundingSettings:
        known = {key: float(params[key]) for key in cls.__dataclass_fields__ if key in params}
        settings = cls(**known)
        if settings.tie_margin < 0 or settings.temperature <= 0:
            raise ValueError(f"grounding judge: tie_margin >= 0 and temperature > 0 needed, got {settings}")
        return settings


def content_words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - _STOPWORDS


def naming_share(motivation: str, titles: Iterable[str]) -> float:
    """Share of the motivation's content words that occur in the given titles (0 when it has none)."""
    words = content_words(motivation)
    if not words:
        return 0.0
    named = set().union(*(content_words(title) for title in titles))
    return len(words & named) / len(words)


def grounding_scores(
    answers: pd.DataFrame,
    motivation_embeddings: np.ndarray,
    item_a_embeddings: np.ndarray,
    item_b_embeddings: np.ndarray,
    titles: pd.DataFrame,
    blocklist: Iterable[str],
    settings: GroundingSettings,
) -> pd.DataFrame:
    """One grounding score per answer row (``GROUNDING_COLUMNS``); embeddings row-aligned, unit-normalised.

    ``titles`` holds ``title_a`` and ``title_b`` aligned with ``answers``.
    """
    n = len(answers)
    if not (
        len(motivation_embeddings) == len(item_a_embeddings) == len(item_b_embeddings) == len(titles) == n
    ):
        raise ValueError("grounding_scores: answers, embeddings and titles must have the same number of rows")
    similarity_a = np.einsum("ij,ij->i", motivation_embeddings, item_a_embeddings)
    similarity_b = np.einsum("ij,ij->i", motivation_embeddings, item_b_embeddings)
    blocklist = tuple(blocklist)
    motivations = answers["motivation"].astype(str).tolist()
    generic = np.array([is_generic(m, blocklist) for m in motivations], dtype=bool)
    naming = np.array(
        [
            naming_share(m, (a, b))
            for m, a, b in zip(motivations, titles["title_a"], titles["title_b"], strict=True)
        ],
        dtype=np.float64,
    )
    score = (
        np.minimum(similarity_a, similarity_b)
        - settings.generic_penalty * generic
        - settings.naming_penalty * naming
    )
    table = pd.DataFrame(
        {
            "item_a": answers["item_a"].to_numpy(),
            "item_b": answers["item_b"].to_numpy(),
            "agent": answers["agent"].astype(str).to_numpy(),
            "similarity_a": similarity_a.astype(np.float64),
            "similarity_b": similarity_b.astype(np.float64),
            "generic": generic,
            "naming_share": naming,
            "grounding": score.astype(np.float64),
        },
        columns=GROUNDING_COLUMNS,
    )
    return table


def grounding_preference(
    difference: np.ndarray, settings: GroundingSettings
) -> tuple[np.ndarray, np.ndarray]:
    """(preference for the first agent, its score) from ``grounding(first) - grounding(second)``."""
    difference = np.asarray(difference, dtype=np.float64)
    preference = 1.0 / (1.0 + np.exp(-difference / settings.temperature))
    score = np.where(np.abs(difference) <= settings.tie_margin, 0.5, np.where(difference > 0, 1.0, 0.0))
    return preference, score


def embed(texts: list[str], encoder_model: str) -> np.ndarray:
    """Unit embeddings of ``texts`` with the run's shared (untuned) sentence encoder, loaded once per process."""
    from momorec.embeddings.encoder import EncoderBundle, encode_texts

    model = EncoderBundle(base_model=encoder_model, tuned=False).get_model()
    unique = sorted(set(texts))
    vectors = encode_texts(model, unique, show_progress_bar=False)
    position = {text: i for i, text in enumerate(unique)}
    return vectors[[position[text] for text in texts]] if texts else vectors


def score_answers(
    answers: pd.DataFrame,
    pairs: pd.DataFrame,
    encoder_model: str,
    blocklist: Iterable[str],
    settings: GroundingSettings,
) -> pd.DataFrame:
    """Grounding scores of the usable answers (status ok) to ``pairs`` (item_a, item_b, titles, categories)."""
    usable = answers[answers["status"] == "ok"].reset_index(drop=True)
    texts = pairs[["item_a", "item_b", "title_a", "title_b", "category_a", "category_b"]]
    merged = usable[["item_a", "item_b"]].merge(
        texts, on=["item_a", "item_b"], how="left", validate="many_to_one"
    )
    if merged["title_a"].isna().any():
        raise ValueError("grounding judge: answers to pairs that are not among the motivation pairs")

    def item_text(title: pd.Series, category: pd.Series) -> list[str]:
        category = category.fillna("").astype(str)
        return [f"{t} | {c}" if c else str(t) for t, c in zip(title.astype(str), category, strict=True)]

    return grounding_scores(
        usable,
        embed(usable["motivation"].astype(str).tolist(), encoder_model),
        embed(item_text(merged["title_a"], merged["category_a"]), encoder_model),
        embed(item_text(merged["title_b"], merged["category_b"]), encoder_model),
        merged[["title_a", "title_b"]],
        blocklist,
        settings,
    )
