"""Titles cut to a token budget (4 characters per token) before they enter a prompt."""

from __future__ import annotations

import pandas as pd
import pytest

from momorec.llm.tokens import (
    CHARS_PER_TOKEN,
    approximate_tokens,
    truncate_texts_to_token_budget,
    truncate_to_token_budget,
    with_titles_cut,
)


def test_texts_within_the_budget_are_unchanged():
    assert truncate_to_token_budget("Cordless drill 18V", 5) == "Cordless drill 18V"
    assert truncate_to_token_budget("x" * 20, 5) == "x" * 20
    assert approximate_tokens("x" * 21) == 6


def test_long_texts_are_cut_at_a_word_boundary_with_an_ellipsis():
    text = "alpha beta gamma delta epsilon zeta"  # 35 characters
    cut = truncate_to_token_budget(text, 4)  # 16 characters
    assert cut == "alpha beta…"
    assert len(cut) <= 4 * CHARS_PER_TOKEN
    # The cut falls exactly after a word: that word is kept.
    assert truncate_to_token_budget("abcdefghijklmno pqrstuvwxyz", 4) == "abcdefghijklmno…"


def test_a_text_without_spaces_is_cut_mid_word():
    cut = truncate_to_token_budget("y" * 100_000, 128)
    assert cut == "y" * (128 * CHARS_PER_TOKEN - 1) + "…"


def test_vectorised_cut_keeps_missing_values_and_short_texts():
    titles = pd.Series(["short", None, "word " * 50], dtype="string")
    cut = truncate_texts_to_token_budget(titles, 8)
    assert cut.iloc[0] == "short" and pd.isna(cut.iloc[1])
    assert cut.iloc[2].endswith("…") and len(cut.iloc[2]) <= 32
    assert titles.iloc[2] == "word " * 50  # the input is not modified


def test_items_table_helper_and_bad_budget():
    items = pd.DataFrame({"item_idx": [0, 1], "title": ["a b", "c " * 100]})
    cut = with_titles_cut(items, 4)
    assert cut["title"].iloc[0] == "a b" and len(cut["title"].iloc[1]) <= 16
    assert with_titles_cut(items, None) is items
    with pytest.raises(ValueError, match="max_tokens"):
        truncate_to_token_budget("text", 0)
