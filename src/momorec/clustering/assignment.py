"""Item → motivation-cluster assignment: generated motivations kept, the long tail filled by spreading.

Tables in, tables out (schemas in docs/architecture.md, "spreading"); the nodes of the spreading pipeline only
read parameters and call these functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from momorec.clustering.motivation_spreading import spread_clusters
from momorec.data.problems import require_columns


def _non_empty_motivations(item_motivations: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` of the rows whose stripped motivation text is not empty (motivation as stripped text)."""
    require_columns(item_motivations, ["item_idx", "motivation", "support"], "item_motivations")
    frame = item_motivations[columns].copy()
    frame["motivation"] = frame["motivation"].astype("string").str.strip()
    return frame[frame["motivation"].fillna("") != ""]


def main_item_motivations(item_motivations: pd.DataFrame) -> pd.DataFrame:
    """One generated motivation per item (item_idx, motivation): the highest support, ties by text."""
    frame = _non_empty_motivations(item_motivations, ["item_idx", "motivation", "support"])
    frame = frame.sort_values(["item_idx", "support", "motivation"], ascending=[True, False, True])
    main = frame.drop_duplicates("item_idx")[["item_idx", "motivation"]]
    return main.astype({"item_idx": np.int64, "motivation": str}).reset_index(drop=True)


def motivation_support_table(item_motivations: pd.DataFrame) -> pd.DataFrame:
    """Distinct generated motivations (sorted by text) with their support summed over items."""
    frame = _non_empty_motivations(item_motivations, ["motivation", "support"])
    table = frame.groupby("motivation", sort=True)["support"].sum().reset_index()
    return table.astype({"motivation": str, "support": np.int64})


def generated_cluster_ids(main: pd.DataFrame, motivation_clusters: pd.DataFrame) -> np.ndarray:
    """The cluster id of each row of ``main`` (item_idx, motivation); every motivation must be clustered."""
    cluster_of = motivation_clusters.set_index("motivation")["cluster_id"]
    clusters = main["motivation"].map(cluster_of)
    if clusters.isna().any():
        unknown = main.loc[clusters.isna(), "motivation"].head(3).tolist()
        raise ValueError(f"motivation_clusters lacks generated motivation(s) such as {unknown}")
    return clusters.to_numpy(dtype=np.int64)


def assign_clusters(
    n_items: int,
    main: pd.DataFrame,
    motivation_clusters: pd.DataFrame,
    item_text_embeddings: np.ndarray,
    top_k: int,
    min_similarity: float,
) -> pd.DataFrame:
    """Generated items keep their cluster; every other item gets the vote of its top-k motivated neighbours.

    Returns one row per item: item_idx, cluster_id (-1 none), motivation (own text if generated, the cluster
    representative if spread, null if none), source (generated/spread/none), confidence (1 generated; the
    share of the k votes the winner got if spread; 0 none).
    """
    if len(item_text_embeddings) != n_items:
        raise ValueError(f"item_text_embeddings has {len(item_text_embeddings)} rows for {n_items} items")
    bad = main["item_idx"][(main["item_idx"] < 0) | (main["item_idx"] >= n_items)]
    if len(bad):
        raise ValueError(f"item_motivations: item_idx {bad.head(3).tolist()} outside 0..{n_items - 1}")
    generated_idx = main["item_idx"].to_numpy(dtype=np.int64)
    generated_clusters = generated_cluster_ids(main, motivation_clusters)
    representative = motivation_clusters.loc[motivation_clusters["is_representative"]].set_index(
        "cluster_id"
    )["motivation"]
    is_generated = np.zeros(n_items, dtype=bool)
    is_generated[generated_idx] = True
    targets = np.flatnonzero(~is_generated)
    spread_cluster, spread_confidence = spread_clusters(
        item_text_embeddings[targets],
        item_text_embeddings[generated_idx],
        generated_clusters,
        k=top_k,
        min_similarity=min_similarity,
    )
    cluster_id = np.full(n_items, -1, dtype=np.int64)
    confidence = np.zeros(n_items, dtype=np.float64)
    motivation = pd.Series([None] * n_items, dtype=object)
    source = np.full(n_items, "none", dtype=object)
    cluster_id[generated_idx] = generated_clusters
    confidence[generated_idx] = 1.0
    motivation.iloc[generated_idx] = main["motivation"].to_numpy()
    source[generated_idx] = "generated"
    cluster_id[targets] = spread_cluster
    confidence[targets] = spread_confidence
    got = targets[spread_cluster >= 0]
    motivation.iloc[got] = pd.Series(cluster_id[got]).map(representative).to_numpy()
    source[got] = "spread"
    return pd.DataFrame(
        {
            "item_idx": np.arange(n_items, dtype=np.int32),
            "cluster_id": cluster_id,
            "motivation": motivation.astype("string"),
            "source": source.astype(str),
            "confidence": confidence,
        }
    )


def true_motivation_labels(items: pd.DataFrame, item_true_motivations: pd.DataFrame) -> pd.DataFrame:
    """item_idx, label (motivation_id), text: the first true motivation row of each item."""
    require_columns(
        item_true_motivations, ["item_id", "motivation_id", "motivation"], "item_true_motivations"
    )
    require_columns(items, ["item_idx", "item_id"], "items")
    first = item_true_motivations.drop_duplicates("item_id", keep="first")
    joined = items[["item_idx", "item_id"]].merge(first, on="item_id", how="inner")
    return pd.DataFrame(
        {
            "item_idx": joined["item_idx"].to_numpy(dtype=np.int64),
            "label": joined["motivation_id"].to_numpy(dtype=np.int64),
            "text": joined["motivation"].astype(str).to_numpy(),
        }
    )


def true_head_motivations(truth: pd.DataFrame, head_item_idx: pd.Series) -> pd.DataFrame:
    """item_idx, motivation: the true motivation text of the head items, as if it had been generated."""
    head = truth[truth["item_idx"].isin(head_item_idx)]
    return pd.DataFrame({"item_idx": head["item_idx"].to_numpy(), "motivation": head["text"].to_numpy()})


def head_motivation_table(main: pd.DataFrame) -> pd.DataFrame:
    """Distinct motivations of ``main`` (item_idx, motivation), sorted, with support = their number of items."""
    table = main.groupby("motivation", sort=True).size().rename("support").reset_index()
    return table.astype({"support": np.int64})
