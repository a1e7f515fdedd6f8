"""Time the whole default flow (`kedro run`) on the built-in shop, cold and then warm.

The project's configuration is copied into a fresh folder, so the run starts with no data, no LLM cache and
no MLflow store — what a new user gets after `make setup`. The second run shows what the caches save.

    python benchmarks/bench_full_run.py [--pipeline NAME] [--env ENV] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from _results import write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def fresh_project(target: Path) -> Path:
    """A copy of the project's configuration with empty data layers (the package itself is installed)."""
    shutil.copytree(REPO / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir(exist_ok=True)
    (target / "src").mkdir(exist_ok=True)
    shutil.copy(REPO / "pyproject.toml", target / "pyproject.toml")
    for layer in (
        "01_raw",
        "02_intermediate",
        "03_primary",
        "04_feature",
        "05_model_input",
        "06_models",
        "07_model_output",
        "08_reporting",
    ):
        (target / "data" / layer).mkdir(parents=True, exist_ok=True)
    raw_real = REPO / "data" / "01_raw"
    for name in ("scientific", "movielens"):
        if (raw_real / name).exists():
            (target / "data" / "01_raw" / name).symlink_to((raw_real / name).resolve())
    return target


def timed_run(project: Path, args: list[str]) -> tuple[float, float, int]:
    """Run `kedro run ARGS` in PROJECT; wall seconds, peak RSS (GB) of the process tree, exit code."""
    kedro = Path(sys.executable).with_name("kedro")
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    log = open(project / f"run_{int(start)}.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(kedro), "run", *args], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.5)
    log.close()
    return time.perf_counter() - start, peak / 1e9, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default=None)
    parser.add_argument("--env", default=None)
    parser.add_argument(
        "--keep", default=None, help="run in this folder and keep it (default: a temp folder)"
    )
    options = parser.parse_args()
    args = (["--pipeline", options.pipeline] if options.pipeline else []) + (
        ["--env", options.env] if options.env else []
    )
    workdir = Path(options.keep) if options.keep else Path(tempfile.mkdtemp(prefix="momorec-full-run-"))
    project = fresh_project(workdir)
    rows = []
    for label in ("cold (empty data, cache and MLflow store)", "warm (second run, same folder)"):
        seconds, peak_gb, code = timed_run(project, args)
        rows.append(
            {"run": label, "wall_s": round(seconds, 1), "peak_rss_gb": round(peak_gb, 2), "exit_code": code}
        )
        if code != 0:
            break
    table = pd.DataFrame(rows)
    topic = f"Full flow: kedro run {' '.join(args)}".strip()
    notes = f"Logs and outputs in `{project}`. Target for the default flow: under 15 minutes on 2 cores."
    write_section(topic, "benchmarks/bench_full_run.py " + " ".join(sys.argv[1:]), table, notes)
    if not options.keep:
        print(f"(kept for inspection: {project})")


if __name__ == "__main__":
    main()
