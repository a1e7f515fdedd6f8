"""Keep texts that go into prompts within a token budget.

A catalogue title can be any length (a scraped page, a pasted description: 100 KB became 51,400 tokens, far
over the embedded model's 2,048-token context). Titles are cut before they enter a prompt.

Tokens are *approximated* as 4 characters each, the usual average of English text under the BPE vocabularies
of SmolLM2, Llama and GPT models; no tokenizer is loaded (the embedded model's would need the server, a
remote model's is unknown). The budget is therefore a soft cap: text with many digits, symbols or non-Latin
characters uses more tokens per character, so keep a margin below the context size. Texts within the
budget are returned unchanged, so their prompts (and cache keys) do not change.
"""

from __future__ import annotations

import math

import pandas as pd

CHARS_PER_TOKEN = 4
ELLIPSIS = "…"


def approximate_tokens(text: str) -> int:
    """Tokens of ``text`` at ``CHARS_PER_TOKEN`` characters per token (rounded up)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _character_budget(max_tokens: int) -> int:
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    return max_tokens * CHARS_PER_TOKEN


def truncate_to_token_budget(text: str, max_tokens: int) -> str:
    """``text`` cut to about ``max_tokens`` tokens at a word boundary, ending in "…"; unchanged if it fits."""
    return str(truncate_texts_to_token_budget(pd.Series([text], dtype="string"), max_tokens).iloc[0])


def truncate_texts_to_token_budget(texts: pd.Series, max_tokens: int) -> pd.Series:
    """Every text of ``texts`` cut like ``truncate_to_token_budget`` (vectorised; missing values stay missing).

    The cut drops the last, partial word when the kept part has a space in it; a text without spaces is cut
    mid-word. The result, ellipsis included, is at most ``max_tokens * CHARS_PER_TOKEN`` characters.
    """
    limit = _character_budget(max_tokens)
    texts = texts.astype("string")
    too_long = texts.str.len().fillna(0).to_numpy() > limit
    if not too_long.any():
        return texts
    kept = texts[too_long].str.slice(0, limit - len(ELLIPSIS) + 1)  # one more: is the cut inside a word?
    kept = kept.str.replace(r"\s+\S*$", "", regex=True).str.slice(0, limit - len(ELLIPSIS))
    cut = texts.copy()
    cut[too_long] = kept.str.rstrip() + ELLIPSIS
    return cut


def with_titles_cut(items: pd.DataFrame, max_tokens: int | None, column: str = "title") -> pd.DataFrame:
    """``items`` with its ``column`` cut to ``max_tokens`` (``None``: unchanged), for building prompts."""
    if max_tokens is None or column not in items.columns:
        return items
    return items.assign(**{column: truncate_texts_to_token_budget(items[column], int(max_tokens))})
