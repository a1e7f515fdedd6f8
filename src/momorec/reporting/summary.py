"""The report's opening section: what a reader came for, in one place, from the run's own datasets.

Every number is read from a dataset of the run (named next to each helper); a dataset the run did not
produce turns its line into "missing" with the dataset's name. Test metrics are those of the protocol's
main setting (all users, history masked); "best" among variants is decided on validation NDCG@10 only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from momorec.llm.usage import merge_usage
from momorec.reporting.sections import Section
from momorec.reporting.training_run import registered_validation_score, validation_scores

# Variants that read the LLM motivations, each with the variant that is the same model without them
# (text-only semantic IDs, or the text-only adaptor): their gap is what the motivations add.
MOTIVATION_COUNTERPARTS: dict[str, str] = {
    "momorec": "sid_text_only",
    "momorec_no_spreading": "sid_text_only",
    "momorec_no_residual": "sid_text_only",
    "momorec_adaptor": "sasrec_adaptor_text",
    "momorec_adaptor_codes": "sasrec_adaptor_text_codes",
}
BASELINE = "sasrec"
HEADLINE = (("recall", 10), ("ndcg", 10))
SEGMENTS = {"head_target": "head targets", "long_tail_target": "long-tail targets"}
# Datasets only the summary reads (besides those of sections.SECTION_SOURCES).
SUMMARY_SOURCES: dict[str, str] = {
    "report_training_run": "the registered model's MLflow run, registry version and training curves",
    "recommender_best_model_info": "the validation score that chose the best model",
    "arena_llm_usage": "LLM call latencies of the agent arena",
    "judge_llm_usage": "LLM call latencies of the judge",
    "top_agent_llm_usage": "LLM call latencies of the top agent",
    "leak_canary_arena_llm_usage": "the leak canary's LLM calls of the agent arena",
    "leak_canary_judge_llm_usage": "the leak canary's LLM calls of the judge",
    "leak_canary_top_agent_llm_usage": "the leak canary's LLM calls of the top agent",
}
STAGE_USAGES = ("arena_llm_usage", "judge_llm_usage", "top_agent_llm_usage")
# The canary's stage usages live in its namespace (``leak_canary.arena_llm_usage``); a node argument cannot
# hold a dot, so the report reads them under these names (``pipelines.reporting`` maps them).
CANARY_STAGE_USAGES = {f"leak_canary_{name}": f"leak_canary.{name}" for name in STAGE_USAGES}


def _missing(what: str, *datasets: str) -> str:
    return f"{what}: missing (not produced by this run: {', '.join(f'`{d}`' for d in datasets)})"


def metric_cells(results: pd.DataFrame, segment: str = "all") -> pd.DataFrame:
    """Per variant: mean, std and seeds of Recall@10 and NDCG@10 (``recommender_results``, history masked),
    columns ``(metric, field)``; segment ``all`` or a user/target segment."""
    rows = results[results["segment"] == segment]
    if "history_masked" in rows:
        rows = rows[rows["history_masked"].astype(bool)]
    wanted = pd.Series(
        list(zip(rows["metric"].str.lower(), rows["k"].astype(int), strict=True)), index=rows.index
    )
    rows = rows[wanted.isin(HEADLINE)]
    table = rows.pivot_table(
        index="variant", columns="metric", values=["mean", "std", "n_seeds"], aggfunc="first"
    )
    return table.swaplevel(axis=1).sort_index(axis=1)


def _cell(cells: pd.DataFrame, variant: str, metric: str, field: str) -> float:
    """One number of ``metric_cells``; NaN when the variant or the metric is not in the results."""
    if variant not in cells.index or (metric, field) not in cells.columns:
        return float("nan")
    return float(cells.loc[variant, (metric, field)])


def mean_std(cells: pd.DataFrame, variant: str, metric: str) -> str:
    """``mean ± std`` of a variant's metric, ``—`` when it was not measured."""
    mean, std = _cell(cells, variant, metric, "mean"), _cell(cells, variant, metric, "std")
    return "—" if np.isnan(mean) else f"{mean:.4f} ± {0.0 if np.isnan(std) else std:.4f}"


def difference(cells: pd.DataFrame, variant: str, other: str, metric: str, show_noise: bool = True) -> str:
    """``variant - other`` of a metric's means, absolute and relative, with a verdict against the noise: the
    difference is within noise when it is no larger than the two spreads over seeds combined
    (sqrt(std_a² + std_b²)). ``show_noise=False`` (table cells) names only a difference within noise."""
    mean_a, mean_b = _cell(cells, variant, metric, "mean"), _cell(cells, other, metric, "mean")
    if np.isnan(mean_a) or np.isnan(mean_b):
        return "—"
    stds = np.nan_to_num([_cell(cells, variant, metric, "std"), _cell(cells, other, metric, "std")])
    gap = mean_a - mean_b
    relative = f" ({gap / mean_b:+.1%})" if mean_b else ""
    noise = float(np.sqrt((stds**2).sum()))
    within = abs(gap) <= noise
    if not show_noise:
        return f"{gap:+.4f}{relative}" + (", within noise" if within else "")
    return f"{gap:+.4f}{relative}, {'within' if within else 'beyond'} noise (±{noise:.4f})"


def best_motivation_variant(validation: pd.DataFrame, ran: set[str]) -> str | None:
    """The motivation-using variant with the highest mean validation NDCG@10 among those that ran."""
    candidates = validation[validation.index.isin([v for v in MOTIVATION_COUNTERPARTS if v in ran])]
    return None if candidates.empty else str(candidates["mean"].idxmax())


def _clean_source(source: str) -> str:
    """``builtin_shop:<folder> (seed 7)`` -> ``builtin shop, `<folder>` (seed 7)``."""
    kind, _, rest = source.partition(":")
    if not rest:
        return source
    where, _, note = rest.strip().partition(" (")
    return f"{kind.replace('_', ' ')}, `{where}`" + (f" ({note}" if note else "")


def dataset_line(statistics: Mapping[str, Any] | None, validation: Mapping[str, Any] | None) -> str:
    """Data set and size (``dataset_statistics``; the source from ``validation_report``)."""
    if statistics is None:
        return _missing("**Data set**", "dataset_statistics")
    name = (
        _clean_source(str(validation["source"]))
        if validation and "source" in validation
        else "source not recorded"
    )
    sizes = [f"{statistics[key]:,} {key}" for key in ("users", "items", "interactions") if key in statistics]
    line = f"**Data set**: {name}: " + (", ".join(sizes) or "size not recorded in `dataset_statistics`")
    before, k_core = statistics.get("before_k_core"), statistics.get("k_core")
    if before and k_core:
        line += (
            f" after the {k_core}-core filter (from {before['users']:,} users, {before['items']:,} items, "
            f"{before['interactions']:,} interactions)"
        )
    if "users_evaluated" in statistics:
        line += f"; {statistics['users_evaluated']:,} users evaluated (leave-one-out: last item test, second-last validation)"
    return line + "."


def registered_line(facts: Mapping[str, Any] | None, best_model_info: Mapping[str, Any] | None) -> str:
    """The registered variant and the validation score that chose it (``report_training_run``)."""
    if facts is None:
        return _missing("**Registered model**", "recommender_registry_entry")
    entry, version = facts["entry"], facts.get("version")
    score = registered_validation_score(facts, best_model_info or {})
    chosen = (
        f"chosen by mean validation NDCG@10 over seeds = {score:.4f} (the highest of the trained variants, "
        "canary and oracle excluded; test data played no part)"
        if score is not None
        else "the validation score that chose it is missing (`recommender_best_model_info`)"
    )
    if version is None:
        where = "not in the MLflow registry" + (
            f" ({'; '.join(facts['problems'])})" if facts["problems"] else ""
        )
    else:
        aliases = ", ".join(f"`@{a}`" for a in version["aliases"]) or "no alias"
        where = f"MLflow model `{version['name']}` version {version['version']} ({aliases})"
    return f"**Registered model**: `{entry['variant']}`, {where}; {chosen}."


def segment_users(results: pd.DataFrame, segment: str) -> int | None:
    """Test users in a segment (``n_users`` of ``recommender_results``), when recorded."""
    if "n_users" not in results:
        return None
    users = results.loc[results["segment"] == segment, "n_users"].dropna()
    return None if users.empty else int(users.max())


def _users(count: int | None) -> str:
    return "users not recorded" if count is None else f"{count:,} users"


def comparison_table(
    cells: pd.DataFrame,
    roles: Mapping[str, str],
    segments: Mapping[str, pd.DataFrame],
    segment_labels: Mapping[str, str] = SEGMENTS,
) -> pd.DataFrame:
    """One row per variant (with its roles; one variant can have several): Recall@10 and NDCG@10 mean ± std,
    the difference to SASRec, and Recall@10 on head and long-tail targets."""
    by_variant: dict[str, list[str]] = {}
    for role, variant in roles.items():
        by_variant.setdefault(variant, []).append(role)
    records = []
    for variant, variant_roles in by_variant.items():
        if variant not in cells.index:
            continue
        record = {"": ", ".join(variant_roles), "variant": variant}
        for metric, k in HEADLINE:
            name = f"{metric.replace('ndcg', 'NDCG').replace('recall', 'Recall')}@{k}"
            record[name] = mean_std(cells, variant, metric)
            if variant != BASELINE:
                record[f"{name} vs SASRec"] = difference(cells, variant, BASELINE, metric, show_noise=False)
            else:
                record[f"{name} vs SASRec"] = "—"
        for segment, segment_cells in segments.items():
            if variant in segment_cells.index:
                record[f"Recall@10, {segment_labels[segment]}"] = mean_std(segment_cells, variant, "recall")
        records.append(record)
    return pd.DataFrame(records)


def contribution_line(cells: pd.DataFrame, best: str | None, validation: pd.DataFrame) -> str:
    """What the motivations add: the best motivation-using variant against the same model without them."""
    if best is None:
        return (
            "**Motivations' contribution**: no motivation-using variant with validation scores in this run "
            "(training curves or variants missing), so nothing can be said."
        )
    counterpart = MOTIVATION_COUNTERPARTS[best]
    if counterpart not in cells.index:
        return (
            f"**Motivations' contribution**: best motivation-using variant (by validation) `{best}`; its "
            f"motivation-free counterpart `{counterpart}` did not run, so the motivations' share is not measured."
        )
    parts = [
        f"{metric}@10 {difference(cells, best, counterpart, metric.lower())}" for metric in ("Recall", "NDCG")
    ]
    within = sum("within noise" in part for part in parts)
    verdict = {
        2: "both differences are within the seeds' noise: this run cannot tell the motivations' contribution "
        "from zero",
        1: "one difference is within the seeds' noise: the evidence for a contribution is weak",
        0: "both differences exceed the seeds' combined spread (a rule of thumb over few seeds, not a "
        "significance test)",
    }[within]
    valid = validation["mean"]
    return (
        f"**Motivations' contribution**: `{best}` (best motivation-using variant by validation NDCG@10, "
        f"{valid[best]:.4f}) against `{counterpart}`, the same model without motivations"
        + (f" (validation {valid[counterpart]:.4f})" if counterpart in valid else "")
        + f": test {'; '.join(parts)}. {verdict[0].upper() + verdict[1:]}."
    )


def llm_line(
    usage: Mapping[str, Any] | None,
    stage_usages: list[Mapping[str, Any]],
    canary_usages: list[Mapping[str, Any]] | None = None,
) -> str:
    """LLM requests, tokens and time (``llm_usage``; summed call latency from the ``*_llm_usage`` stages),
    and the leak canary's own calls when it ran: it runs first and fills the cache the honest stages then
    read, so without it a cold run's cost would look like a few calls."""
    if usage is None:
        return _missing("**LLM**", "llm_usage")
    line = (
        f"**LLM**: {usage['requests']:,} requests, {usage['calls']:,} of them sent to the model "
        f"({usage['cache_hits']:,} answered from the cache, {usage['failures']:,} failed); "
        f"{usage['prompt_tokens']:,} prompt + {usage['completion_tokens']:,} completion tokens"
    )
    if len(stage_usages) == len(STAGE_USAGES):
        seconds = sum(float(sum(stage.get("latencies_s", []))) for stage in stage_usages)
        line += f"; {seconds:,.1f} s of call latency summed over calls (calls overlap, so the stages took less wall time)"
    else:
        line += "; call time: missing (" + ", ".join(f"`{s}`" for s in STAGE_USAGES) + " not all produced)"
    if canary_usages:
        canary = merge_usage(canary_usages)
        line += (
            f". The leak canary (the same stages on pairs of full sequences) made {canary['calls']:,} more "
            f"calls ({canary['requests']:,} requests, {canary['cache_hits']:,} from the cache, "
            f"{canary['prompt_tokens']:,} prompt + {canary['completion_tokens']:,} completion tokens); "
            f"the run sent {usage['calls'] + canary['calls']:,} calls to the model in all"
        )
    return line + "."


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{seconds:,.0f} s" + (f" ({minutes} min {rest:02d} s)" if minutes else "")


def wall_time_line(facts: Mapping[str, Any] | None) -> str:
    """The wall time of the MLflow run that trained the registered model (``report_training_run``)."""
    run = (facts or {}).get("run")
    if run is None:
        return _missing("**Run wall time**", "report_training_run")
    when = (
        "up to this report (the run is still writing it)"
        if run["in_progress"]
        else f"finished {run['ended']}"
    )
    return (
        f"**Run wall time**: {_duration(run['wall_seconds'])}, MLflow run `{run['run_name'] or run['run_id']}` "
        f"(id `{run['run_id'][:12]}`), started {run['started']}, {when}."
    )


def summary_section(sources: Mapping[str, Any]) -> Section:
    """The ``## Summary`` section from the datasets in ``sources`` (any may be absent)."""
    facts = sources.get("report_training_run")
    results = sources.get("recommender_results")
    lines = [
        dataset_line(sources.get("dataset_statistics"), sources.get("validation_report")),
        registered_line(facts, sources.get("recommender_best_model_info")),
    ]
    section_tables: list[tuple[str, pd.DataFrame]] = []
    after: list[str] = []
    validation = validation_scores((facts or {}).get("curves") or {})
    if isinstance(results, pd.DataFrame) and not results.empty:
        cells = metric_cells(results)
        ran = set(cells.index)
        best = best_motivation_variant(validation, ran)
        rows = {"registered": facts["entry"]["variant"]} if facts else {}
        rows |= {"baseline": BASELINE}
        if best is not None:
            rows |= {
                "best with motivations (by validation)": best,
                "same without motivations": MOTIVATION_COUNTERPARTS[best],
            }
        segments = {s: metric_cells(results, s) for s in SEGMENTS if s in set(results["segment"])}
        labels = {s: f"{SEGMENTS[s]} ({_users(segment_users(results, s))})" for s in segments}
        n_seeds = int(results["n_seeds"].max())
        section_tables.append(
            (
                f"Test metrics, all users, history masked (mean ± std over {n_seeds} seeds); differences "
                "to SASRec are within noise when no larger than the two spreads combined",
                comparison_table(cells, rows, segments, labels),
            )
        )
        after.append(
            "**Head and long-tail targets**: the last columns split the test users by their target item: "
            "long-tail when the item had at most `data_engineering.long_tail_max_interactions` training "
            "interactions, head otherwise (all segments: section “Long-tail and cold-start segments”)."
            if segments
            else _missing("**Head and long-tail targets**", "recommender_results segments")
        )
        after.append(contribution_line(cells, best, validation))
        if BASELINE not in ran:
            after.append(f"`{BASELINE}` did not run: no difference to SASRec can be given.")
    else:
        lines.append(_missing("**Test metrics**", "recommender_results"))
    after.append(
        llm_line(
            sources.get("llm_usage"),
            [sources[s] for s in STAGE_USAGES if s in sources],
            [sources[s] for s in CANARY_STAGE_USAGES if s in sources],
        )
    )
    after.append(wall_time_line(facts))
    return Section(
        "Summary",
        "\n".join(f"- {line}" for line in lines),
        section_tables,
        after="\n".join(f"- {line}" for line in after),
    )
