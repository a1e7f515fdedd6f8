"""Nodes of the recommender pipeline: sequences, one training/evaluation node per variant, results, registry.

Protocol (docs/design.md, "Evaluation protocol"): leave-one-out; models train on the training prefixes only;
validation scoring sees the training prefix, test scoring sees the training prefix plus the validation item;
full ranking over all items in chunks; history masking is the ``mask_history`` parameter (default: mask
every item of the user's input history); every variant goes through the same evaluator, over several seeds.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch

from momorec.evaluation.evaluator import evaluate_split, segment_metrics
from momorec.evaluation.ranking import ScoreFn
from momorec.evaluation.segments import long_tail_flags, user_segments
from momorec.models.momorec import MoMoREC, semantic_id_matrix
from momorec.models.sasrec import SASRec
from momorec.models.sequences import UserSequences
from momorec.models.trainer import TrainingConfig, fit, model_score_fn, resolve_device

logger = logging.getLogger(__name__)

# Every variant the pipeline knows: which model it builds and which dataset feeds it (None = none).
VARIANT_SPECS: dict[str, dict[str, Any]] = {
    "sasrec": {"model": "sasrec", "input": None},
    "most_popular": {"model": "most_popular", "input": None},
    "sasrec_text_init": {"model": "sasrec", "input": "item_text_embeddings"},
    "momorec": {"model": "momorec", "input": "item_semantic_ids"},
    "sid_text_only": {"model": "momorec", "input": "text_item_semantic_ids"},
    "momorec_no_spreading": {"model": "momorec", "input": "nospread_item_semantic_ids"},
    "momorec_no_residual": {"model": "momorec", "input": "cluster_item_semantic_ids"},
    # Built from full sequences (validation/test included) on purpose: measures leakage, never the headline.
    "leak_canary": {"model": "momorec", "input": "leak_canary_item_semantic_ids", "canary": True},
}

RESULT_COLUMNS = [
    "variant",
    "segment",
    "metric",
    "k",
    "mean",
    "std",
    "n_seeds",
    "history_masked",
    "is_canary",
    "n_users",
]
EFFICIENCY_COLUMNS = [
    "variant",
    "parameters",
    "inference_seconds_per_1000_users",
    "train_seconds_per_epoch",
    "is_canary",
]


def build_user_sequences(interactions: pd.DataFrame, items: pd.DataFrame) -> UserSequences:
    """Per-user training prefixes and validation/test targets from ``interactions`` (with the split column)."""
    if "item_idx" not in items.columns:
        raise ValueError("items: missing column item_idx")
    n_items = int(items["item_idx"].max()) + 1 if len(items) else 0
    if n_items != len(items):
        raise ValueError(f"items.item_idx: expected contiguous ids 0..{len(items) - 1}, max is {n_items - 1}")
    return UserSequences.from_interactions(interactions, n_items=n_items)


def text_init_vectors(
    item_text_embeddings: np.ndarray, n_items: int, hidden_size: int, seed: int = 0
) -> np.ndarray:
    """PCA of the item text embeddings to ``hidden_size`` dims, scaled to the std of the default init (0.02)."""
    embeddings = np.asarray(item_text_embeddings, dtype=np.float64)
    if embeddings.ndim != 2 or embeddings.shape[0] != n_items:
        raise ValueError(f"item_text_embeddings: shape {embeddings.shape}, expected ({n_items}, d)")
    if embeddings.shape[1] < hidden_size:
        raise ValueError(f"item_text_embeddings: {embeddings.shape[1]} dims < hidden_size {hidden_size}")
    centred = embeddings - embeddings.mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ components[:hidden_size].T
    projected *= 0.02 / max(projected.std(), 1e-12)
    return projected.astype(np.float32)


def _build_model(variant: str, data: UserSequences, side_input: Any, params: dict, seed: int) -> SASRec:
    spec = VARIANT_SPECS[variant]
    architecture = dict(params["model"])
    torch.manual_seed(seed)
    if spec["model"] == "sasrec":
        initial = None
        if spec["input"] == "item_text_embeddings":
            initial = text_init_vectors(side_input, data.n_items, architecture["hidden_size"], seed)
        return SASRec(data.n_items, initial_item_embeddings=initial, **architecture)
    sid = params["semantic_ids"]
    codes = semantic_id_matrix(
        side_input, data.n_items, sid.get("n_layers_used"), bool(sid.get("use_dedup", False))
    )
    return MoMoREC(data.n_items, codes, code_embedding_size=sid["code_embedding_size"], **architecture)


def _popularity_score_fn(data: UserSequences, device: str) -> ScoreFn:
    popularity = torch.as_tensor(data.item_train_frequency(), device=device)

    def score(sequences: torch.Tensor) -> torch.Tensor:
        return popularity.expand(sequences.shape[0], -1)  # a view: the evaluator copies before masking

    return score


def _same(value: Any) -> Any:
    return value


def _timed_test_pass(make_score_fn, data: UserSequences, params: dict, device: str) -> float:
    """Seconds per 1,000 users of one full-ranking test pass (best of ``efficiency_repeats``).

    The scorer is rebuilt inside the timed region, so the item-representation pass (the semantic-ID MLP of
    MoMoREC) counts as inference time.
    """
    evaluation = params["evaluation"]
    best = float("inf")
    for _ in range(int(evaluation.get("efficiency_repeats", 3))):
        started = time.perf_counter()
        ranks = evaluate_split(
            make_score_fn(),
            data,
            "test",
            params["model"]["max_length"],
            params["mask_history"],
            evaluation["chunk_size"],
            device,
        ).ranks
        best = min(best, time.perf_counter() - started)
    return best / max(len(ranks), 1) * 1000.0


def train_and_evaluate_variant(
    user_sequences: UserSequences, item_stats: pd.DataFrame, side_input: Any, params: dict, variant: str
) -> dict[str, Any]:
    """Train ``variant`` once per seed, evaluate on the test targets (masked and unmasked), measure efficiency.

    Returns an outcome dict; a variant missing from ``params['variants']`` returns ``{"skipped": True}``
    without training. The best seed's model (by validation NDCG@10) is kept for the registry.
    """
    if variant not in VARIANT_SPECS:
        raise ValueError(f"unknown recommender variant {variant!r}; known: {sorted(VARIANT_SPECS)}")
    spec = VARIANT_SPECS[variant]
    outcome: dict[str, Any] = {
        "variant": variant,
        "is_canary": bool(spec.get("canary", False)),
        "skipped": False,
    }
    if variant not in params["variants"]:
        logger.info("recommender variant %s is switched off in params:recommender.variants", variant)
        return {**outcome, "skipped": True}
    if spec["input"] is not None and side_input is None:
        raise ValueError(f"variant {variant}: its input dataset {spec['input']} is missing")
    torch.set_num_threads(int(params["runtime"]["num_threads"]))
    device = resolve_device(params["runtime"]["device"])
    data = user_sequences
    max_length = params["model"]["max_length"]
    long_tail = long_tail_flags(item_stats, data.n_items)
    cold_start_below = int(params["evaluation"]["cold_start_below"])
    ks = [int(k) for k in params["evaluation"]["ks"]]
    rows, curves, valid_scores = [], {}, {}
    best: dict[str, Any] = {"valid_ndcg_at_10": float("-inf")}
    epoch_seconds: list[float] = []
    for seed in params["seeds"]:
        seed = int(seed)
        if spec["model"] == "most_popular":
            model, score_fn = None, _popularity_score_fn(data, device)
            valid_ranks = evaluate_split(
                score_fn,
                data,
                "valid",
                max_length,
                params["mask_history"],
                params["evaluation"]["chunk_size"],
                device,
                max(ks),
            ).ranks
            valid_ndcg = float(np.where(valid_ranks < 10, 1 / np.log2(valid_ranks + 2.0), 0).mean())
        else:
            model = _build_model(variant, data, side_input, params, seed)
            config = TrainingConfig(
                **params["training"],
                mask_history=params["mask_history"],
                eval_chunk_size=params["evaluation"]["chunk_size"],
                seed=seed,
                device=device,
            )
            result = fit(model, data, config)
            curves[seed] = result.history
            epoch_seconds += [record["train_seconds"] for record in result.history]
            valid_ndcg = result.best_valid_ndcg_at_10
            score_fn = model_score_fn(model)
        valid_scores[seed] = valid_ndcg
        for masked in (True, False):
            split = evaluate_split(
                score_fn,
                data,
                "test",
                max_length,
                masked,
                params["evaluation"]["chunk_size"],
                device,
                max(ks),
            )
            segments = user_segments(
                split.targets, data.train_lengths[split.rows], long_tail, cold_start_below
            )
            for row in segment_metrics(split.ranks, segments, ks):
                rows.append({**row, "seed": seed, "history_masked": masked})
        if seed == int(params["seeds"][0]):
            outcome["inference_seconds_per_1000_users"] = _timed_test_pass(
                partial(_same, score_fn) if model is None else partial(model_score_fn, model),
                data,
                params,
                device,
            )
            outcome["parameters"] = 0 if model is None else model.n_parameters()
        if model is not None and valid_ndcg > best["valid_ndcg_at_10"]:
            best = {"valid_ndcg_at_10": valid_ndcg, "seed": seed, "model": model.cpu()}
        logger.info("recommender %s seed %d: best validation NDCG@10 %.4f", variant, seed, valid_ndcg)
    outcome.update(
        rows=rows,
        curves=curves,
        valid_ndcg_at_10=valid_scores,
        train_seconds_per_epoch=float(np.mean(epoch_seconds)) if epoch_seconds else 0.0,
        best_model=best.get("model"),
        best_seed=best.get("seed"),
        semantic_ids=side_input if spec["model"] == "momorec" else None,
    )
    return outcome


def train_and_evaluate_variant_without_input(
    user_sequences: UserSequences, item_stats: pd.DataFrame, params: dict, variant: str
) -> dict[str, Any]:
    """:func:`train_and_evaluate_variant` for variants that read no extra dataset (SASRec, most popular)."""
    return train_and_evaluate_variant(user_sequences, item_stats, None, params, variant)


def _ran(outcomes: tuple[dict, ...]) -> list[dict]:
    return [o for o in outcomes if not o.get("skipped")]


def summarise_results(*outcomes: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``recommender_results`` (mean ± sample std over seeds) and ``recommender_efficiency`` tables."""
    ran = _ran(outcomes)
    if not ran:
        raise ValueError(
            "no recommender variant ran: params:recommender.variants selects none of the pipeline's"
        )
    per_seed = pd.DataFrame(
        [{**row, "variant": o["variant"], "is_canary": o["is_canary"]} for o in ran for row in o["rows"]]
    )
    keys = ["variant", "is_canary", "history_masked", "segment", "metric", "k"]
    results = (
        per_seed.groupby(keys, sort=False)
        .agg(
            mean=("value", "mean"),
            std=("value", lambda v: float(v.std(ddof=1)) if len(v) > 1 else 0.0),
            n_seeds=("seed", "nunique"),
            n_users=("n_users", "first"),
        )
        .reset_index()
    )
    results["k"] = results["k"].astype("int64")
    results["n_seeds"] = results["n_seeds"].astype("int64")
    efficiency = pd.DataFrame(
        [
            {
                "variant": o["variant"],
                "parameters": int(o["parameters"]),
                "inference_seconds_per_1000_users": float(o["inference_seconds_per_1000_users"]),
                "train_seconds_per_epoch": float(o["train_seconds_per_epoch"]),
                "is_canary": o["is_canary"],
            }
            for o in ran
        ],
        columns=EFFICIENCY_COLUMNS,
    )
    return results[RESULT_COLUMNS], efficiency


def results_to_mlflow_metrics(results: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Test metrics of the whole user set and segments as MLflow metrics (means), one key per number."""
    metrics = {}
    for row in results.itertuples(index=False):
        if row.segment != "all" and not (
            row.metric in ("recall", "ndcg") and row.k == 10 and row.history_masked
        ):
            continue  # segments: Recall/NDCG@10 only, to keep the run readable
        masking = "masked" if row.history_masked else "unmasked"
        key = f"{row.variant}.test.{masking}.{row.segment}.{row.metric}_at_{row.k}"
        metrics[key] = {"value": float(row.mean), "step": 0}
    return metrics


def training_curves(*outcomes: dict) -> dict[str, list[dict[str, float]]]:
    """Per-epoch loss and validation metrics per variant and seed, as MLflow metric histories (step = epoch)."""
    curves: dict[str, list[dict[str, float]]] = {}
    for outcome in _ran(outcomes):
        for seed, history in outcome["curves"].items():
            for name in ("loss", "valid_ndcg_at_10", "valid_recall_at_10"):
                points = [{"value": float(r[name]), "step": int(r["epoch"])} for r in history if name in r]
                if points:
                    curves[f"{outcome['variant']}.seed_{seed}.{name}"] = points
    return curves


def select_best_model(*outcomes: dict) -> tuple[Any, dict[str, Any]]:
    """The trained model with the best mean validation NDCG@10 over seeds (never the canary, never test data)."""
    candidates = [o for o in _ran(outcomes) if o.get("best_model") is not None and not o["is_canary"]]
    if not candidates:
        raise ValueError("no trained (non-canary) recommender variant to select a best model from")
    winner = max(candidates, key=lambda o: float(np.mean(list(o["valid_ndcg_at_10"].values()))))
    summary = {
        "variant": winner["variant"],
        "seed": int(winner["best_seed"]),
        "mean_valid_ndcg_at_10": float(np.mean(list(winner["valid_ndcg_at_10"].values()))),
        "best_seed_valid_ndcg_at_10": float(winner["valid_ndcg_at_10"][winner["best_seed"]]),
    }
    return winner, summary


def register_best_model(params: dict, *outcomes: dict) -> tuple[SASRec, dict[str, Any]]:
    """Select the best model; returns it (for the catalog) and a summary of the choice.

    The registry entry (a pyfunc model with vocabulary, titles and metrics) is written by the scoring
    pipeline's ``register_recommender`` node (momorec.serving.packaging), which reads this choice.
    """
    winner, summary = select_best_model(*outcomes)
    summary["registered_model_name"] = params["registry"]["model_name"]
    return winner["best_model"], summary
