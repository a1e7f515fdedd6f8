"""Scores of motivation clusters and spreading: cluster quality, held-out spreading and long-tail accuracy.

Used twice by the spreading pipeline: on the generated motivations, and on the shop's true motivations fed in
as if generated (which isolates clustering and spreading from the quality of the LLM). Scores that cannot be
measured (no ground truth, nothing held out) are NaN here and null in the JSON report.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from momorec.clustering.assignment import assign_clusters, generated_cluster_ids
from momorec.clustering.evaluation import ami, label_accuracy, majority_label_per_cluster, nmi, purity
from momorec.clustering.motivation_spreading import spread_clusters


def none_if_nan(value: Any) -> Any:
    """JSON has no NaN: a float NaN becomes None, anything else is returned as it is."""
    return None if isinstance(value, float) and math.isnan(value) else value


def holdout_mask(n_rows: int, fraction: float, seed: int) -> np.ndarray:
    """A random ``fraction`` of ``n_rows`` (rounded) marked True; none when that would hide none or all."""
    rng = np.random.default_rng(seed)
    n_hidden = int(round(fraction * n_rows))
    hidden = np.zeros(n_rows, dtype=bool)
    if 0 < n_hidden < n_rows:
        hidden[rng.choice(n_rows, size=n_hidden, replace=False)] = True
    return hidden


def _truth_scores(
    head: pd.DataFrame,
    kept: pd.DataFrame,
    held: pd.DataFrame,
    held_pred: np.ndarray,
    label_of: pd.Series,
    assignment: pd.DataFrame,
) -> dict[str, Any]:
    """The scores that need ground truth: cluster NMI/purity/AMI, true-motivation accuracy, long tail."""
    head_truth = head[head["item_idx"].isin(label_of.index)]
    head_labels = label_of.loc[head_truth["item_idx"]].to_numpy()
    head_clusters = head_truth["cluster_id"].to_numpy()
    scores: dict[str, Any] = {
        "head_items_with_truth": len(head_truth),
        "cluster_nmi": nmi(head_labels, head_clusters),
        "cluster_purity": purity(head_labels, head_clusters),
        "cluster_ami": ami(head_labels, head_clusters),
    }
    kept_truth = kept[kept["item_idx"].isin(label_of.index)]
    kept_map = majority_label_per_cluster(
        kept_truth["cluster_id"].to_numpy(), label_of.loc[kept_truth["item_idx"]].to_numpy()
    )
    held_has = held["item_idx"].isin(label_of.index).to_numpy()
    if held_has.any():
        scores["heldout_true_motivation_accuracy"] = label_accuracy(
            held_pred[held_has], label_of.loc[held["item_idx"][held_has]].to_numpy(), kept_map
        )
    # Real long tail: items without a head motivation, spread from every head item.
    full_map = majority_label_per_cluster(head_clusters, head_labels)
    tail = assignment[(assignment["source"] != "generated") & assignment["item_idx"].isin(label_of.index)]
    scores["longtail_items_evaluated"] = len(tail)
    scores["longtail_spread_coverage"] = float((tail["source"] == "spread").mean()) if len(tail) else None
    if len(tail):
        # Upper bound of the accuracy: a tail item can only be right if its true motivation is the
        # majority label of some head cluster.
        tail_labels = label_of.loc[tail["item_idx"]].to_numpy()
        scores["longtail_reachable_share"] = float(np.isin(tail_labels, full_map.to_numpy()).mean())
        scores["longtail_true_motivation_accuracy"] = label_accuracy(
            tail["cluster_id"].to_numpy(), tail_labels, full_map
        )
    return scores


def score_assignment(
    n_items: int,
    main: pd.DataFrame,
    motivation_clusters: pd.DataFrame,
    item_text_embeddings: np.ndarray,
    truth: pd.DataFrame,
    top_k: int,
    min_similarity: float,
    holdout_fraction: float,
    seed: int,
) -> dict[str, Any]:
    """Cluster quality, held-out spreading accuracy and long-tail accuracy for one set of head motivations.

    ``main``: item_idx, motivation of the head items; ``truth``: item_idx, label (see
    ``true_motivation_labels``), empty when there is no ground truth.
    """
    head = main.assign(cluster_id=generated_cluster_ids(main, motivation_clusters))
    # Hide the motivations of a random share of head items, spread from the rest, compare.
    hidden = holdout_mask(len(head), holdout_fraction, seed)
    kept, held = head.loc[~hidden], head.loc[hidden]
    held_pred, _ = spread_clusters(
        item_text_embeddings[held["item_idx"].to_numpy()],
        item_text_embeddings[kept["item_idx"].to_numpy()],
        kept["cluster_id"].to_numpy(),
        k=top_k,
        min_similarity=min_similarity,
    )
    result: dict[str, Any] = {
        "head_items": len(head),
        "motivations": len(motivation_clusters),
        "clusters": int(motivation_clusters["cluster_id"].nunique()),
        "heldout_items": int(hidden.sum()),
        "heldout_cluster_accuracy": float((held_pred == held["cluster_id"].to_numpy()).mean())
        if len(held)
        else float("nan"),
        "cluster_nmi": float("nan"),
        "cluster_purity": float("nan"),
        "cluster_ami": float("nan"),
        "heldout_true_motivation_accuracy": float("nan"),
        "longtail_items_evaluated": 0,
        "longtail_true_motivation_accuracy": float("nan"),
    }
    if len(truth) > 0:
        assignment = assign_clusters(
            n_items, main, motivation_clusters, item_text_embeddings, top_k, min_similarity
        )
        label_of = truth.set_index("item_idx")["label"]
        result.update(_truth_scores(head, kept, held, held_pred, label_of, assignment))
    return {key: none_if_nan(value) for key, value in result.items()}


GROUND_TRUTH_CHOICE = (
    "an item with several true motivations is labelled by its first row in item_true_motivations"
)


def spreading_report(
    generated_scores: dict[str, Any],
    ground_truth_input_scores: dict[str, Any],
    tuning_report: dict[str, Any],
    sources: pd.Series,
    target_nmi: Any,
) -> tuple[dict[str, Any], dict[str, float]]:
    """The ``spreading_evaluation`` report (nulls where not measurable) and its finite numbers by name.

    ``sources``: the assignment's ``source`` column (generated / spread / none per item).
    """
    available = bool(ground_truth_input_scores.get("available", False))
    counts = sources.value_counts()
    coverage = {f"items_{name}": int(counts.get(name, 0)) for name in ("generated", "spread", "none")}
    report = {
        "ground_truth_available": available,
        "ground_truth_choice": GROUND_TRUTH_CHOICE,
        "target_nmi_ground_truth_input": target_nmi,
        "assignment": coverage,
        "generated_motivations": generated_scores,
        "ground_truth_motivations_as_input": ground_truth_input_scores,
        "encoder_tuning": {key: none_if_nan(value) for key, value in tuning_report.items()},
    }
    values: dict[str, float] = {"ground_truth_available": float(available)}
    values.update({key: float(value) for key, value in coverage.items()})
    values.update(
        finite_metric_values(
            {"generated": generated_scores, "gt_input": ground_truth_input_scores, "tuning": tuning_report}
        )
    )
    return report, values


def finite_metric_values(blocks: dict[str, dict[str, Any]]) -> dict[str, float]:
    """``{prefix.key: value}`` for every finite number of each block (booleans and nulls left out)."""
    values: dict[str, float] = {}
    for prefix, block in blocks.items():
        for key, value in block.items():
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int | float) and math.isfinite(value):
                values[f"{prefix}.{key}"] = float(value)
    return values
