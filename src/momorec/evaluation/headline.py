"""A run's headline table (one row per variant) and the paired difference of two variants over seeds.

The headline table is the data behind docs/results.md's tables, written as CSV under docs/results/ by
``benchmarks/export_results.py``: test Recall@10 and NDCG@10 of the whole user set, history masked and
unmasked, as mean and sample std over seeds (read from ``recommender_results``), beside the mean validation
NDCG@10 over seeds (read from the training curves) and the variant chosen on validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from momorec.models.variants import evaluation_only

HEADLINE_METRICS = (("recall", 10), ("ndcg", 10))
HEADLINE_COLUMNS = [
    "variant",
    "tuned",
    "evaluation_only",
    *(
        f"{metric}_at_{k}_{masking}_{stat}"
        for masking in ("masked", "unmasked")
        for metric, k in HEADLINE_METRICS
        for stat in ("mean", "std")
    ),
    "n_seeds",
    "valid_ndcg_at_10_mean",
    "chosen_by_validation",
    "commit",
    "command",
]
# `recommender_training_curves` keys, as training_curves() (pipelines/recommender/nodes.py) names them.
VALID_NDCG_CURVE = re.compile(
    r"^(?:recommender_curve\.)?(?P<variant>.+)\.seed_(?P<seed>-?\d+)\.valid_ndcg_at_10$"
)


def best_validation_ndcg(curves: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Per variant and seed, the best validation NDCG@10 of its training curve (``variant``, ``seed``,
    ``valid_ndcg_at_10``): the epoch the trainer's early stopping keeps, as the registry compares them.

    ``curves`` maps curve names (``<variant>.seed_<seed>.valid_ndcg_at_10``, optionally prefixed
    ``recommender_curve.``) to their per-epoch values; other curves (loss, Recall) are ignored. A variant
    without trainable parameters (most popular) has no curve and so no row.
    """
    rows = []
    for name, values in curves.items():
        match = VALID_NDCG_CURVE.match(name)
        if match is None:
            continue
        values = np.asarray(values, dtype=float)
        if values.size == 0 or not np.isfinite(values).all():
            raise ValueError(f"validation curve {name!r} is empty or holds non-finite values: {values}")
        rows.append(
            {"variant": match["variant"], "seed": int(match["seed"]), "valid_ndcg_at_10": float(values.max())}
        )
    return pd.DataFrame(rows, columns=["variant", "seed", "valid_ndcg_at_10"])


def choose_by_validation(validation: pd.DataFrame, excluded: Callable[[str], bool] = evaluation_only) -> str:
    """The variant with the best mean validation NDCG@10 over seeds, never one that ``excluded`` flags
    (the leak canary, the oracle)."""
    candidates = validation[~validation["variant"].map(excluded).astype(bool)]
    if candidates.empty:
        raise ValueError("no validation NDCG@10 of a variant that may be chosen (not canary, not oracle)")
    return str(candidates.groupby("variant")["valid_ndcg_at_10"].mean().idxmax())


def headline_table(
    results: pd.DataFrame,
    *,
    commit: str,
    command: str,
    validation: pd.DataFrame | None = None,
    registered_variant: str | None = None,
    tuned_variants: Collection[str] = (),
    excluded: Callable[[str], bool] = evaluation_only,
) -> pd.DataFrame:
    """One row per variant of ``recommender_results`` (columns :data:`HEADLINE_COLUMNS`).

    ``chosen_by_validation`` marks ``registered_variant`` (the run's own choice, from
    ``recommender_best_model_info``) or, without it, the best mean validation NDCG@10 of ``validation``
    (:func:`best_validation_ndcg`); test numbers never choose. A canary or oracle (``is_canary`` in the
    results, or flagged by ``excluded``) is ``evaluation_only`` and can never be the chosen one: a
    registered variant of that kind is an error.

    ``tuned``: the variants in ``tuned_variants``, those the run trained with their own settings
    (``recommender.variant_settings``, e.g. the tuning pipeline's best trial); the others trained with the
    shared ``model`` / ``training`` settings.
    """
    missing = {"variant", "segment", "metric", "k", "mean", "std", "n_seeds", "history_masked", "is_canary"}
    missing -= set(results.columns)
    if missing:
        raise ValueError(f"results table lacks columns {sorted(missing)} (expected recommender_results)")
    whole = results[results["segment"] == "all"]
    variants = list(dict.fromkeys(results["variant"]))
    if not variants:
        raise ValueError("results table is empty: no variant to report")
    canary = whole.groupby("variant", sort=False)["is_canary"].any()
    only_for_evaluation = {v: bool(canary.get(v, False)) or bool(excluded(v)) for v in variants}

    chosen = registered_variant
    if chosen is None:
        if validation is None or validation.empty:
            raise ValueError(
                "neither a registered variant nor validation scores: nothing says which is chosen"
            )
        chosen = choose_by_validation(validation, lambda v: only_for_evaluation.get(v, False) or excluded(v))
    if chosen not in only_for_evaluation:
        raise ValueError(f"chosen variant {chosen!r} is not in the results table ({variants})")
    if only_for_evaluation[chosen]:
        raise ValueError(f"chosen variant {chosen!r} is a canary or oracle: it can never be chosen")

    mean_valid = (
        validation.groupby("variant")["valid_ndcg_at_10"].mean()
        if validation is not None and not validation.empty
        else pd.Series(dtype=float)
    )
    rows = []
    for variant in variants:
        own = whole[whole["variant"] == variant]
        row: dict = {"variant": variant, "tuned": variant in tuned_variants}
        row["evaluation_only"] = only_for_evaluation[variant]
        for masked, masking in ((True, "masked"), (False, "unmasked")):
            for metric, k in HEADLINE_METRICS:
                cell = own[(own["metric"] == metric) & (own["k"] == k) & (own["history_masked"] == masked)]
                if len(cell) != 1:
                    raise ValueError(
                        f"{variant}: expected one row of {metric}@{k} {masking} for segment 'all', "
                        f"found {len(cell)}"
                    )
                row[f"{metric}_at_{k}_{masking}_mean"] = float(cell["mean"].iloc[0])
                row[f"{metric}_at_{k}_{masking}_std"] = float(cell["std"].iloc[0])
        seeds = own["n_seeds"].unique()
        if len(seeds) != 1:
            raise ValueError(f"{variant}: its rows disagree on the number of seeds ({sorted(seeds)})")
        row["n_seeds"] = int(seeds[0])
        row["valid_ndcg_at_10_mean"] = float(mean_valid.get(variant, np.nan))
        row["chosen_by_validation"] = variant == chosen
        row["commit"], row["command"] = commit, command
        rows.append(row)
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


@dataclass(frozen=True)
class PairedDifference:
    """``variant_a`` minus ``variant_b`` on the same seeds: mean, sample std and a t-interval."""

    variant_a: str
    variant_b: str
    mean_difference: float
    std_difference: float
    ci_low: float
    ci_high: float
    confidence: float
    n_seeds: int
    seeds: tuple[int, ...]


def paired_difference(
    per_seed: pd.DataFrame,
    variant_a: str,
    variant_b: str,
    *,
    value: str = "value",
    confidence: float = 0.95,
) -> PairedDifference:
    """Paired difference of one metric, ``variant_a`` - ``variant_b``, over the seeds both ran.

    ``per_seed``: one row per (``variant``, ``seed``) with the metric in column ``value`` (filter one metric,
    segment and masking first). The pairs share a seed, so the seed's own luck (initialisation, batch order)
    cancels; the interval is Student's t with n - 1 degrees of freedom on the n differences. Errors: a
    variant absent, a seed twice, the two variants on different seeds, fewer than 2 seeds, a non-finite value.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    missing = {"variant", "seed", value} - set(per_seed.columns)
    if missing:
        raise ValueError(f"per-seed table lacks columns {sorted(missing)}")
    if variant_a == variant_b:
        raise ValueError(f"a variant paired with itself ({variant_a!r}) says nothing")
    values = {}
    for variant in (variant_a, variant_b):
        own = per_seed[per_seed["variant"] == variant]
        if own.empty:
            raise ValueError(
                f"variant {variant!r} has no per-seed rows (variants: {sorted(set(per_seed['variant']))})"
            )
        if own["seed"].duplicated().any():
            raise ValueError(f"variant {variant!r} has a seed twice: {sorted(own['seed'])}")
        values[variant] = own.set_index("seed")[value].astype(float)
    seeds_a, seeds_b = set(values[variant_a].index), set(values[variant_b].index)
    if seeds_a != seeds_b:
        raise ValueError(
            f"seeds differ: {variant_a} ran {sorted(seeds_a)}, {variant_b} ran {sorted(seeds_b)}; "
            "a paired difference needs the same seeds"
        )
    seeds = sorted(seeds_a)
    if len(seeds) < 2:
        raise ValueError(f"a confidence interval needs at least 2 seeds, got {len(seeds)}")
    differences = values[variant_a].loc[seeds].to_numpy() - values[variant_b].loc[seeds].to_numpy()
    if not np.isfinite(differences).all():
        raise ValueError(f"non-finite per-seed values for {variant_a} or {variant_b}")
    n = len(differences)
    mean, std = float(differences.mean()), float(differences.std(ddof=1))
    half_width = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / np.sqrt(n)
    return PairedDifference(
        variant_a=variant_a,
        variant_b=variant_b,
        mean_difference=mean,
        std_difference=std,
        ci_low=mean - half_width,
        ci_high=mean + half_width,
        confidence=confidence,
        n_seeds=n,
        seeds=tuple(int(seed) for seed in seeds),
    )


PAIRED_COLUMNS = [
    "variant_a",
    "variant_b",
    "metric",
    "k",
    "history_masked",
    "mean_difference",
    "std_difference",
    "ci_low",
    "ci_high",
    "confidence",
    "n_seeds",
]


def paired_differences(
    per_seed: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    *,
    metrics: Sequence[tuple[str, int]] = HEADLINE_METRICS,
    segment: str = "all",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`paired_difference` of each (a, b) in ``pairs`` for each metric, history masked and unmasked,
    from ``recommender_results_per_seed`` rows of ``segment`` (columns :data:`PAIRED_COLUMNS`)."""
    missing = {"segment", "metric", "k", "history_masked"} - set(per_seed.columns)
    if missing:
        raise ValueError(
            f"per-seed table lacks columns {sorted(missing)} (expected recommender_results_per_seed)"
        )
    if not pairs:
        raise ValueError("no pair of variants to compare")
    rows = []
    for variant_a, variant_b in pairs:
        for metric, k in metrics:
            for masked in (True, False):
                selected = per_seed[
                    (per_seed["segment"] == segment)
                    & (per_seed["metric"] == metric)
                    & (per_seed["k"] == k)
                    & (per_seed["history_masked"] == masked)
                ]
                difference = paired_difference(selected, variant_a, variant_b, confidence=confidence)
                rows.append(
                    {
                        "variant_a": variant_a,
                        "variant_b": variant_b,
                        "metric": metric,
                        "k": k,
                        "history_masked": masked,
                        "mean_difference": difference.mean_difference,
                        "std_difference": difference.std_difference,
                        "ci_low": difference.ci_low,
                        "ci_high": difference.ci_high,
                        "confidence": confidence,
                        "n_seeds": difference.n_seeds,
                    }
                )
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)
