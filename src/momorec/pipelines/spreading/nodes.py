"""Nodes of the spreading pipeline: encoder → embeddings → motivation clusters → spreading → evaluation.

The logic lives in ``momorec.embeddings`` and ``momorec.clustering``; these nodes read parameters, check what
crosses the pipeline boundary and log.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from momorec.clustering.assignment import (
    assign_clusters,
    head_motivation_table,
    main_item_motivations,
    motivation_support_table,
    true_head_motivations,
    true_motivation_labels,
)
from momorec.clustering.motivation_clusters import cluster_motivation_table
from momorec.clustering.spreading_evaluation import none_if_nan, score_assignment, spreading_report
from momorec.data.problems import require_columns
from momorec.embeddings.cache import EmbeddingCache, encode_with_cache
from momorec.embeddings.contrastive_tuning import build_training_pairs, tune_and_measure
from momorec.embeddings.encoder import EncoderBundle, item_texts_by_idx, text_field_coverage
from momorec.embeddings.settings import EncoderSettings
from momorec.io.mlflow_metrics import as_mlflow_metrics

logger = logging.getLogger(__name__)

# ``motivation_table``: distinct generated motivations with their summed support (no parameters to read).
build_motivation_table = motivation_support_table


def _item_texts(items: pd.DataFrame, settings: EncoderSettings) -> pd.Series:
    return item_texts_by_idx(items, settings.text_fields, settings.text_separator, settings.field_max_chars)


def _encode(encoder: EncoderBundle, texts: list[str], settings: EncoderSettings) -> np.ndarray:
    return encoder.encode(texts, settings.batch_size, settings.show_progress_bar)


def _vote_settings(vote_params: dict[str, Any]) -> dict[str, Any]:
    return {
        "top_k": int(vote_params.get("top_k", 3)),
        "min_similarity": float(vote_params.get("min_similarity", 0.0)),
    }


def _score_settings(vote_params: dict[str, Any], evaluation_params: dict[str, Any]) -> dict[str, Any]:
    return {
        **_vote_settings(vote_params),
        "holdout_fraction": float(evaluation_params.get("holdout_fraction", 0.2)),
        "seed": int(evaluation_params.get("seed", 42)),
    }


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
    # The first node that reads spreading.encoder: an unknown field or encoder stops the run here.
    settings = EncoderSettings.from_params(encoder_params)
    model_name = settings.model
    if not tuning_params.get("enabled", False):
        return EncoderBundle(base_model=model_name, tuned=False), {"enabled": False}
    model, report = tune_and_measure(
        model_name,
        build_training_pairs(_item_texts(items, settings), item_motivations),
        eval_fraction=float(tuning_params.get("eval_fraction", 0.2)),
        epochs=int(tuning_params.get("epochs", 3)),
        learning_rate=float(tuning_params.get("learning_rate", 5e-5)),
        batch_size=int(tuning_params.get("batch_size", 32)),
        encode_batch_size=settings.batch_size,
        seed=int(tuning_params.get("seed", 42)),
    )
    report = {key: none_if_nan(value) for key, value in report.items()}
    logger.info("contrastive tuning: %s", report)
    return EncoderBundle(base_model=model_name, tuned=True, model=model), report


def embed_item_texts(
    items: pd.DataFrame,
    encoder: EncoderBundle,
    encoder_params: dict[str, Any],
    text_embedding_cache: EmbeddingCache | None = None,
) -> np.ndarray:
    """``item_text_embeddings``: one unit row per item_idx (zero row when the item's text is empty).

    Texts already in ``text_embedding_cache`` for this encoder are read, not encoded (``None``: no cache).
    """
    require_columns(items, ["item_idx"], "items")
    item_idx = items["item_idx"].to_numpy()
    if len(items) and not np.array_equal(np.sort(item_idx), np.arange(len(items))):
        raise ValueError("items.item_idx must be the contiguous ids 0..n_items-1")
    settings = EncoderSettings.from_params(encoder_params, check_model=False)
    _log_field_coverage(items, settings.text_fields)
    texts = _item_texts(items, settings).sort_index()
    n_empty = int((texts == "").sum())
    if n_empty:
        logger.warning("%d of %d items have an empty text; they get zero embeddings", n_empty, len(texts))
    vectors, _ = encode_with_cache(
        texts.tolist(),
        lambda missing: _encode(encoder, missing, settings),
        text_embedding_cache,
        encoder.cache_identity(),
    )
    return vectors


def _log_field_coverage(items: pd.DataFrame, text_fields: tuple[str, ...]) -> None:
    """How many items have each text field; a field no item has (MovieLens' description) is a warning."""
    filled = text_field_coverage(items, text_fields)
    logger.info("item text fields, items with a value out of %d: %s", len(items), filled)
    for field, count in filled.items():
        if len(items) and count == 0:
            logger.warning("text field %r is empty for every item: it adds nothing to the item texts", field)


def embed_motivations(
    motivation_table: pd.DataFrame, encoder: EncoderBundle, encoder_params: dict[str, Any]
) -> np.ndarray:
    """``motivation_embeddings``: one unit row per motivation, in ``motivation_table`` order."""
    if len(motivation_table) == 0:
        logger.warning("no generated motivations: motivation_embeddings is empty")
        return encoder.encode([])
    settings = EncoderSettings.from_params(encoder_params, check_model=False)
    return _encode(encoder, motivation_table["motivation"].tolist(), settings)


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
    main = main_item_motivations(item_motivations)
    assignment = assign_clusters(
        len(items), main, motivation_clusters, item_text_embeddings, **_vote_settings(vote_params)
    )
    logger.info("motivation assignment by source: %s", assignment["source"].value_counts().to_dict())
    return assignment


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
    truth = true_motivation_labels(items, item_true_motivations)
    main = main_item_motivations(item_motivations)
    return score_assignment(
        len(items),
        main,
        motivation_clusters,
        item_text_embeddings,
        truth,
        **_score_settings(vote_params, evaluation_params),
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
    truth = true_motivation_labels(items, item_true_motivations)
    main = true_head_motivations(truth, main_item_motivations(item_motivations)["item_idx"])
    if len(main) == 0:
        return {"available": False}
    table = head_motivation_table(main)
    embeddings = encoder.encode(table["motivation"].tolist(), int(encoder_params.get("batch_size", 64)))
    clusters = cluster_motivations(table, embeddings, clustering_params)
    scores = score_assignment(
        len(items),
        main,
        clusters,
        item_text_embeddings,
        truth,
        **_score_settings(vote_params, evaluation_params),
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
    report, values = spreading_report(
        generated_scores,
        ground_truth_input_scores,
        tuning_report,
        item_motivation_assignment["source"],
        evaluation_params.get("target_nmi_ground_truth_input", 0.8),
    )
    return report, as_mlflow_metrics(values)
