"""Cost of the agent arena per compared pair: LLM judge calls and seconds, grounding judge seconds.

Reads what a motivation run wrote (``data/02_intermediate``: arena answers, judgments, the LLM cache, whose
verdict calls with log-probabilities carry the latency measured when they were made, and the arena agents'
usage) and times the grounding judge on the same answers in this process (encoder load apart).

    python benchmarks/bench_arena.py [--data data]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from pathlib import Path

import pandas as pd
import yaml
from _results import write_section

from momorec.agents.grounding_judge import GroundingSettings, embed, score_answers

PARAMETERS = Path(__file__).resolve().parents[1] / "conf" / "base" / "parameters_motivation.yml"


def _usage(path: Path) -> dict:
    usage = json.loads(path.read_text())
    latencies = usage.get("latencies_s", [])
    return {
        "requests": usage["requests"],
        "calls": usage["calls"],
        "cache_hits": usage["cache_hits"],
        "seconds": float(sum(latencies)),
    }


def _judge_calls(cache: Path) -> dict:
    """Calls and summed latency of the cached verdict requests that asked for log-probabilities."""
    with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as connection:
        calls, seconds = connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(latency_s), 0) FROM completions JOIN completion_logprobs USING (key)"
        ).fetchone()
    return {"calls": int(calls), "seconds": float(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="data")
    parser.add_argument("--note", default="", help="what else was measured in the same run (appended)")
    args = parser.parse_args()
    folder = Path(args.data) / "02_intermediate"
    params = yaml.safe_load(PARAMETERS.read_text())["motivation"]
    answers = pd.read_parquet(folder / "arena_answers.parquet")
    pairs = pd.read_parquet(folder / "motivation_pairs.parquet")
    judgments = pd.read_parquet(folder / "arena_judgments.parquet")
    judge, agents = _judge_calls(folder / "llm_cache.sqlite"), _usage(folder / "arena_llm_usage.json")
    judged = int(judgments["mode"].isin(["logprobs", "verdicts"]).sum())
    n_agents = answers["agent"].nunique()
    arena_pairs = answers[["item_a", "item_b"]].drop_duplicates().shape[0]

    grounding = params["judge"]["grounding"]
    started = time.perf_counter()
    embed(["warm-up"], grounding["encoder"])  # the encoder load, shared with the spreading stage
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = score_answers(answers, pairs, grounding["encoder"], params["generic_blocklist"],
                           GroundingSettings.from_params(grounding))  # fmt: skip
    grounding_s = time.perf_counter() - started
    rows = [
        {"judge": "llm (both orders, logprobs)", "comparisons": judged, "calls": judge["calls"],
         "calls_per_comparison": round(judge["calls"] / max(judged, 1), 2),
         "seconds": round(judge["seconds"], 1), "seconds_per_comparison": round(judge["seconds"] / max(judged, 1), 2)},
        {"judge": "grounding (no generation)", "comparisons": judged, "calls": 0,
         "calls_per_comparison": 0.0, "seconds": round(grounding_s, 2),
         "seconds_per_comparison": round(grounding_s / max(judged, 1), 4)},
    ]  # fmt: skip
    agent_calls_per_answer = agents["calls"] / max(len(scores), 1) if agents["calls"] else None
    # The stage's requests, whether the cache answered them or not: what one more agent costs when cold.
    requests_per_answer = agents["requests"] / max(len(answers), 1) if agents["requests"] else None
    notes = (
        f"Arena: {n_agents} agents x {arena_pairs} pairs = {judged} judged comparisons "
        f"({n_agents * (n_agents - 1) // 2} agent pairs per arena pair). LLM seconds: the summed latencies of "
        f"the verdict calls as cached when they were made (embedded SmolLM2-135M, load average now "
        f"{os.getloadavg()[0]:.1f}; the machine is shared). Arena agents in the same run: {agents['calls']} calls "
        f"({agents['cache_hits']} cache hits), {agents['seconds']:.0f} s"
        + (f", {agent_calls_per_answer:.2f} calls per scored answer" if agent_calls_per_answer else "")
        + f". Grounding: {len(scores)} answers scored, encoder load {load_s:.1f} s (once per run, shared with "
        "spreading). Adding an agent adds (agents already there) x arena_pairs comparisons, i.e. 2 judge calls "
        "each, plus its own calls per arena pair"
        + (
            f" ({requests_per_answer:.1f} in this run, cached or not: a generation, a summary, retries)."
            if requests_per_answer
            else "."
        )
    )
    write_section("arena", "benchmarks/bench_arena.py", pd.DataFrame(rows), f"{notes} {args.note}".strip())


if __name__ == "__main__":
    main()
