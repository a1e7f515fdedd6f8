"""Metrics comparing motivation clusters and spread motivations with ground-truth motivation labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score


def purity(true_labels: np.ndarray, predicted_clusters: np.ndarray) -> float:
    """Share of items whose cluster's most frequent true label is their own (1 = every cluster is pure)."""
    true_labels = np.asarray(true_labels)
    predicted_clusters = np.asarray(predicted_clusters)
    if len(true_labels) != len(predicted_clusters):
        raise ValueError(f"{len(true_labels)} true labels but {len(predicted_clusters)} predicted clusters")
    if len(true_labels) == 0:
        return float("nan")
    joint = pd.DataFrame({"cluster": predicted_clusters, "label": true_labels}).value_counts()
    return float(joint.groupby(level="cluster").max().sum() / len(true_labels))


def nmi(true_labels: np.ndarray, predicted_clusters: np.ndarray) -> float:
    """Normalised mutual information (arithmetic normalisation, as scikit-learn's default)."""
    if len(true_labels) == 0:
        return float("nan")
    return float(normalized_mutual_info_score(true_labels, predicted_clusters))


def ami(true_labels: np.ndarray, predicted_clusters: np.ndarray) -> float:
    """Adjusted mutual information: like NMI but 0 for chance, so many tiny clusters are not rewarded."""
    if len(true_labels) == 0:
        return float("nan")
    return float(adjusted_mutual_info_score(true_labels, predicted_clusters))


def majority_label_per_cluster(clusters: np.ndarray, true_labels: np.ndarray) -> pd.Series:
    """Most frequent true label of each cluster (ties: the lower label), indexed by cluster id."""
    frame = pd.DataFrame({"cluster": np.asarray(clusters), "label": np.asarray(true_labels)})
    counts = frame.value_counts(["cluster", "label"]).rename("n").reset_index()
    counts = counts.sort_values(["cluster", "n", "label"], ascending=[True, False, True])
    return counts.drop_duplicates("cluster").set_index("cluster")["label"]


def label_accuracy(
    predicted_clusters: np.ndarray, true_labels: np.ndarray, cluster_to_label: pd.Series
) -> float:
    """Share of items whose predicted cluster maps (majority label) to their true label; unmapped = wrong."""
    if len(true_labels) == 0:
        return float("nan")
    mapped = pd.Series(np.asarray(predicted_clusters)).map(cluster_to_label)
    return float((mapped.to_numpy() == np.asarray(true_labels)).mean())


def pairwise_agreement(labels_a: np.ndarray, labels_b: np.ndarray) -> dict[str, float]:
    """Pair-counting agreement of two partitions: Rand index, and precision/recall of 'same cluster' pairs.

    Computed from the contingency table (no n² loop). Recall = share of pairs together in ``labels_b`` that
    ``labels_a`` also puts together (``b`` is the reference).
    """
    a = np.asarray(labels_a)
    b = np.asarray(labels_b)
    n = len(a)
    if n < 2:
        return {"rand_index": 1.0, "pair_precision": 1.0, "pair_recall": 1.0}
    # Sparse contingency counts: only the (a, b) combinations that occur.
    joint = pd.DataFrame({"a": a, "b": b}).value_counts().to_numpy(dtype=np.float64)
    size_a = pd.Series(a).value_counts().to_numpy(dtype=np.float64)
    size_b = pd.Series(b).value_counts().to_numpy(dtype=np.float64)
    together_both = (joint * (joint - 1) / 2).sum()
    together_a = (size_a * (size_a - 1) / 2).sum()
    together_b = (size_b * (size_b - 1) / 2).sum()
    total = n * (n - 1) / 2
    agree = total - together_a - together_b + 2 * together_both
    return {
        "rand_index": float(agree / total),
        "pair_precision": float(together_both / together_a) if together_a else 1.0,
        "pair_recall": float(together_both / together_b) if together_b else 1.0,
    }
