"""The co-purchase pairs the agents are asked about, and what an agent is told about each pair."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from momorec.agents.prompts import ItemText

PAIR_COLUMNS = ["rank", "item_a", "item_b", "support", "title_a", "category_a", "title_b", "category_b"]


def select_pairs(copurchase_pairs: pd.DataFrame, items: pd.DataFrame, max_pairs: int) -> pd.DataFrame:
    """The ``max_pairs`` most supported co-purchase pairs with both items' titles and categories.

    Ties in support are broken by (item_a, item_b); ``rank`` is the position in that order.
    """
    missing = {"item_a", "item_b", "support"} - set(copurchase_pairs.columns)
    if missing:
        raise ValueError(f"copurchase_pairs: missing columns {sorted(missing)}")
    missing = {"item_idx", "title", "category"} - set(items.columns)
    if missing:
        raise ValueError(f"items: missing columns {sorted(missing)}")
    if max_pairs < 1:
        raise ValueError(f"motivation.max_pairs must be >= 1, got {max_pairs}")
    pairs = copurchase_pairs.sort_values(
        ["support", "item_a", "item_b"], ascending=[False, True, True], kind="stable"
    )
    pairs = pairs.head(max_pairs).reset_index(drop=True)
    catalogue = items.set_index("item_idx")[["title", "category"]]
    unknown = ~(pairs["item_a"].isin(catalogue.index) & pairs["item_b"].isin(catalogue.index))
    if unknown.any():
        raise ValueError(
            f"copurchase_pairs: {int(unknown.sum())} pairs refer to item_idx absent from items, "
            f"e.g. {pairs.loc[unknown, ['item_a', 'item_b']].head(3).to_dict('records')}"
        )
    selected = pd.DataFrame(
        {
            "rank": np.arange(len(pairs), dtype="int32"),
            "item_a": pairs["item_a"].astype("int32").to_numpy(),
            "item_b": pairs["item_b"].astype("int32").to_numpy(),
            "support": pairs["support"].astype("int64").to_numpy(),
            "title_a": catalogue["title"].reindex(pairs["item_a"]).to_numpy(),
            "category_a": catalogue["category"].reindex(pairs["item_a"]).to_numpy(),
            "title_b": catalogue["title"].reindex(pairs["item_b"]).to_numpy(),
            "category_b": catalogue["category"].reindex(pairs["item_b"]).to_numpy(),
        }
    )
    return selected.astype({c: "string" for c in ("title_a", "category_a", "title_b", "category_b")})


def pair_budget(n_pairs: int, max_pairs: int | None, max_pairs_share: float | None) -> int:
    """How many of ``n_pairs`` training co-purchase pairs the agents are asked about.

    ``max_pairs`` is a count, ``max_pairs_share`` a share of the pairs (rounded up, so any share of a non-empty
    list asks about at least one pair); with both, the smaller budget applies. One of them must be set.
    """
    if n_pairs < 0:
        raise ValueError(f"n_pairs must be >= 0, got {n_pairs}")
    if max_pairs is None and max_pairs_share is None:
        raise ValueError(
            "set motivation.max_pairs (a count) or motivation.max_pairs_share (a share), or both"
        )
    budgets = []
    if max_pairs is not None:
        if isinstance(max_pairs, bool) or int(max_pairs) != max_pairs or max_pairs < 1:
            raise ValueError(f"motivation.max_pairs must be an integer >= 1, got {max_pairs!r}")
        budgets.append(int(max_pairs))
    if max_pairs_share is not None:
        share = float(max_pairs_share)
        if not 0.0 < share <= 1.0:
            raise ValueError(f"motivation.max_pairs_share must lie in (0, 1], got {max_pairs_share!r}")
        budgets.append(math.ceil(share * n_pairs))
    return min(budgets)


def pair_texts(pairs: pd.DataFrame) -> list[tuple[ItemText, ItemText]]:
    """What an agent is told about each pair (missing titles or categories become empty text)."""
    columns = pairs[["title_a", "category_a", "title_b", "category_b"]].fillna("").astype(str)
    return [(ItemText(ta, ca), ItemText(tb, cb)) for ta, ca, tb, cb in columns.itertuples(index=False)]
