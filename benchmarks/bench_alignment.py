"""Benchmark: the alignment pipeline on the project's data (default: the built-in shop), run twice.

The first run pays for every LLM call the cache does not hold yet (cold when the alignment prompts are new),
the second is answered from the LLM cache (warm), so the gap is the LLM cost. Each node is run and timed on
its own against the project's catalog (the datasets are written where `kedro run --pipeline alignment`
writes them). Prints and writes the "alignment" section of benchmarks/RESULTS.md: seconds per node, the
LLM cost per 1,000 users and the base vs re-ranked test metrics.

    .venv/bin/python benchmarks/bench_alignment.py [--env scientific] [--runs 2] [--max-users N] [--rated-users N]
        [--cold-start-history N]

Needs `data_engineering` to have run in that environment (interactions, items).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import write_section  # noqa: E402


def paid_calls(cache, users: pd.DataFrame) -> pd.DataFrame:
    """What the cached alignment calls cost when they were made (count, tokens, latency), per stage.

    Read from the LLM cache, so it holds whether this run was cold or warm: every call the alignment
    prompts (current salt) ever needed, for all users cached so far; scaled to 1,000 of this run's users.
    """
    import sqlite3

    from momorec.alignment.prompts import PROMPT_SALT

    with sqlite3.connect(f"file:{cache.path}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT request_json, prompt_tokens, completion_tokens, latency_s FROM completions "
            "WHERE request_json LIKE ?",
            (f"%{PROMPT_SALT}|%",),
        ).fetchall()
    frame = pd.DataFrame(rows, columns=["request", "prompt_tokens", "completion_tokens", "latency_s"])
    frame["stage"] = frame["request"].str.extract(rf"{PROMPT_SALT}\|(\w+)", expand=False)
    table = frame.groupby("stage").agg(
        calls=("latency_s", "size"),
        prompt_tokens=("prompt_tokens", "sum"),
        completion_tokens=("completion_tokens", "sum"),
        llm_seconds=("latency_s", "sum"),
        seconds_per_call=("latency_s", "mean"),
    )
    return table.reset_index().round(2)


# Nodes run in the first run only (deterministic given the seeds; the candidates are persisted).
TRAINING_NODES = ("select_alignment_users", "build_recommender_candidates")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None, help="Kedro environment (default: the project's default)")
    parser.add_argument("--runs", type=int, default=2, help="1 = first run only; 2 = first and cached run")
    parser.add_argument("--max-users", type=int, default=None, help="override alignment.users.max_users")
    parser.add_argument(
        "--rated-users", type=int, default=None, help="override alignment.compatibility.max_users"
    )
    parser.add_argument(
        "--cold-start-history",
        type=int,
        default=None,
        help="override alignment.users.cold_start_history (simulated cold start: keep the last N training items)",
    )
    args = parser.parse_args()
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

    from kedro.config import OmegaConfigLoader
    from kedro.framework.startup import bootstrap_project
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.pipeline import Pipeline
    from kedro.runner import SequentialRunner

    from momorec.pipelines.alignment import create_pipeline

    bootstrap_project(ROOT)
    overrides = {}
    if args.max_users is not None:
        overrides["alignment.users.max_users"] = args.max_users
    if args.rated_users is not None:
        overrides["alignment.compatibility.max_users"] = args.rated_users
    if args.cold_start_history is not None:
        overrides["alignment.users.cold_start_history"] = args.cold_start_history
    # The project's configuration, read as `kedro run` reads it (settings.py loader arguments), without the
    # session's hooks: the benchmark needs no credentials and no MLflow run.
    from momorec import settings

    loader = OmegaConfigLoader(conf_source=str(ROOT / "conf"), env=args.env, **settings.CONFIG_LOADER_ARGS)
    parameters = loader["parameters"]
    for dotted, value in overrides.items():
        *path, key = dotted.split(".")
        target = parameters
        for part in path:
            target = target[part]
        target[key] = value
    pipeline = create_pipeline()
    timings: dict[str, list[float]] = {}
    for run in range(args.runs):
        catalog = DataCatalog.from_config(loader["catalog"])
        for name in ("alignment", "recommender"):
            catalog[f"params:{name}"] = MemoryDataset(parameters[name])
        catalog["alignment_metrics"] = MemoryDataset()  # no MLflow run to log to here
        for node in pipeline.nodes:  # topologically sorted
            if run > 0 and node.name in TRAINING_NODES:
                continue  # the later runs reuse the persisted users and candidates: they time the LLM side
            started = time.perf_counter()
            SequentialRunner().run(Pipeline([node]), catalog)
            timings.setdefault(node.name, []).append(time.perf_counter() - started)
    results = catalog.load("alignment_results")
    cost = catalog.load("alignment_llm_cost")
    params = parameters["alignment"]
    paid = paid_calls(catalog.load("llm_cache"), catalog.load("alignment_users"))

    table = pd.DataFrame(
        {
            "node": list(timings),
            **{
                f"run {i + 1} s": [round(t[i], 1) if i < len(t) else None for t in timings.values()]
                for i in range(args.runs)
            },
        }
    )
    total = {"node": "total", **{c: round(table[c].sum(), 1) for c in table.columns if c != "node"}}
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)

    headline = results[(results["k"] == 10) & results["metric"].isin(["recall", "ndcg"])].copy()
    headline["value"] = headline["mean"].map("{:.4f}".format) + " ± " + headline["std"].map("{:.4f}".format)
    headline = headline.pivot_table(
        index=["segment", "variant"], columns="metric", values="value", aggfunc="first"
    ).reset_index()
    users = results.drop_duplicates("segment").set_index("segment")["n_users"].to_dict()
    cost_view = cost[
        ["stage", "requests", "calls", "cache_hits", "failures", "prompt_tokens", "completion_tokens",
         "requests_per_1000_users", "tokens_per_1000_users", "wall_seconds_per_1000_users"]
    ].round(1)  # fmt: skip
    weights = results.drop_duplicates("variant")[["variant", "fusion_weight"]]
    valid = {
        stage: f"{int((table_['status'] == 'ok').sum())}/{len(table_)}"
        for stage, table_ in (
            ("profiles", catalog.load("user_motivation_profiles")),
            ("traits", catalog.load("item_traits")),
            ("ratings", catalog.load("alignment_llm_requests")),
        )
    }
    cut = params["users"].get("cold_start_history")
    notes = (
        f"Environment `{args.env or 'default'}`: {params['users']['max_users']} users sampled, top-"
        f"{params['candidates']['n_candidates']} re-ranked, seeds {params['seeds']}, LLM ratings for "
        f"{params['compatibility']['max_users']} users, endpoint `{params['llm']['endpoint']['model']}` "
        f"({params['llm']['endpoint']['base_url'] or 'embedded llama.cpp'}). Users per segment: {users}. "
        + (
            "Full training prefixes. "
            if cut is None
            else f"Simulated cold start: last {cut} training items. "
        )
        + f"Schema-valid answers after retries: {valid}.\n\n"
        "Run 1 trains the base models and pays for the calls not yet in the LLM cache; run 2 re-runs every "
        "node after the candidates and is answered from the cache. The shared "
        "2-core machine was also running other jobs, so the seconds are upper bounds.\n\n"
        f"LLM cost of run {args.runs} (the last run; tokens count every request, cached or not):\n\n"
        f"{cost_view.to_markdown(index=False)}\n\n"
        "Every call the alignment prompts have needed so far, read from the LLM cache (what a cold run "
        f"pays; includes earlier runs' users):\n\n{paid.to_markdown(index=False)}\n\n"
        f"Chosen fusion weights (validation users only):\n\n{weights.to_markdown(index=False)}\n\n"
        f"Test metrics @10, mean ± sample std over seeds:\n\n{headline.to_markdown(index=False)}\n"
    )
    # One RESULTS.md section per environment and history setting, so a cold-start or Scientific run does not
    # overwrite the default one; the heading carries the exact command line.
    topic = "-".join(
        ["alignment"] + ([args.env] if args.env else []) + ([] if cut is None else ["cold-start"])
    )
    command = " ".join(["benchmarks/bench_alignment.py", *sys.argv[1:]])
    write_section(topic, command, table, notes)


if __name__ == "__main__":
    main()
