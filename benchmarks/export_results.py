"""A finished run's headline table as CSV (docs/results/<dataset>.csv): one row per recommender variant.

Reads the persisted outputs of a finished ``kedro run`` under ``--data-root`` (the environment's
``globals.data_root``): ``08_reporting/recommender_results.parquet`` (test metrics, mean ± std over seeds)
and ``07_model_output/recommender_best_model_info.json`` (the variant the run registered, chosen on
validation NDCG@10); and from the run's MLflow record (``--tracking-uri``, ``--experiment``, the latest
finished run that logged training curves unless ``--run-id``) the per-seed validation NDCG@10 curves and the
commit tag. Columns and their meaning: ``momorec.evaluation.headline.headline_table``.

    PYTHONPATH=src .venv/bin/python benchmarks/export_results.py --data-root data --dataset shop \
        --out docs/results/shop.csv --command "kedro run"

``commit``: ``--commit`` if given, else the run's ``mlflow.source.git.commit`` tag, else ``git rev-parse
HEAD`` of this checkout (``-dirty`` appended when tracked files have changes); the script says on stderr
which one it used, since a checkout's HEAD is only the run's code when the run was made from it.

``--pair A B`` (repeatable) also writes ``<out>_paired.csv`` (e.g. docs/results/shop_paired.csv): A minus B
in Recall@10 and NDCG@10, masked and unmasked, on the same seeds, with a 95 % t-interval
(``momorec.evaluation.headline.paired_differences``), from ``08_reporting/recommender_results_per_seed.parquet``;
a run older than that dataset cannot be paired.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from momorec.evaluation.headline import (  # noqa: E402
    best_validation_ndcg,
    headline_table,
    paired_differences,
)
from momorec.plots.training_curves import curves_from_mlflow_run  # noqa: E402
from momorec.tracking import COMMIT_TAG, code_commit  # noqa: E402

RESULTS_PATH = Path("08_reporting/recommender_results.parquet")
PER_SEED_PATH = Path("08_reporting/recommender_results_per_seed.parquet")
BEST_MODEL_INFO_PATH = Path("07_model_output/recommender_best_model_info.json")


VARIANT_SETTINGS_PARAM = "recommender.variant_settings."


def tuned_variants(run_params: dict[str, str]) -> set[str]:
    """The variants the run trained with their own settings: kedro-mlflow logs ``params:recommender``
    flattened, so ``recommender.variant_settings.<variant>.<section>.<key>`` names each tuned variant."""
    return {
        key.removeprefix(VARIANT_SETTINGS_PARAM).split(".")[0]
        for key in run_params
        if key.startswith(VARIANT_SETTINGS_PARAM)
    }


def run_record(
    tracking_uri: str, experiment: str, run_id: str | None
) -> tuple[str, dict[str, list[float]], dict[str, str], dict[str, str]] | None:
    """``(run_id, validation NDCG@10 curves, tags, params)`` of ``run_id`` or of the experiment's latest
    finished run with recommender training curves; None when the experiment has no such run."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    if run_id is not None:
        runs = [client.get_run(run_id)]
    else:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            return None
        runs = client.search_runs(
            [found.experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
        )
    for run in runs:
        # The project's reader of the logged curves (the report's too), kept to validation NDCG@10.
        points = curves_from_mlflow_run(client, run.info.run_id)
        curves = {
            key: [point["value"] for point in sorted(values, key=lambda point: point["step"])]
            for key, values in points.items()
            if key.endswith(".valid_ndcg_at_10")
        }
        if curves:
            return run.info.run_id, curves, dict(run.data.tags), dict(run.data.params)
    if run_id is not None:
        raise SystemExit(f"MLflow run {run_id} logged no recommender training curves")
    return None


def export(
    data_root: Path,
    command: str,
    tracking_uri: str,
    experiment: str,
    run_id: str | None = None,
    commit: str | None = None,
) -> pd.DataFrame:
    """The headline table of the run whose outputs are under ``data_root``."""
    results_file = data_root / RESULTS_PATH
    if not results_file.is_file():
        raise SystemExit(f"{results_file} not found: is {data_root} the data root of a finished run?")
    results = pd.read_parquet(results_file)
    info_file = data_root / BEST_MODEL_INFO_PATH
    info = json.loads(info_file.read_text()) if info_file.is_file() else None
    record = run_record(tracking_uri, experiment, run_id)
    validation, tuned = None, set()
    if record is None:
        print(
            f"no finished MLflow run with training curves in {experiment!r}: no validation column",
            file=sys.stderr,
        )
    else:
        found_run, curves, tags, run_params = record
        validation = best_validation_ndcg(curves)
        tuned = tuned_variants(run_params)
        print(f"validation NDCG@10 from MLflow run {found_run}", file=sys.stderr)
        if info is not None and info["variant"] in set(validation["variant"]):
            # The registered choice's score must be this run's: a data root and an MLflow run of two
            # different runs would otherwise be reported side by side.
            from_curves = validation.loc[validation["variant"] == info["variant"], "valid_ndcg_at_10"].mean()
            if abs(from_curves - float(info["mean_valid_ndcg_at_10"])) > 1e-6:
                raise SystemExit(
                    f"{info_file} says {info['variant']} scored {info['mean_valid_ndcg_at_10']:.6f} on validation, "
                    f"MLflow run {found_run} says {from_curves:.6f}: not the same run (pass --run-id)"
                )
        if commit is None and tags.get(COMMIT_TAG):
            commit = tags[COMMIT_TAG]
            print(f"commit from the run's tag {COMMIT_TAG}: {commit}", file=sys.stderr)
    if commit is None:
        commit = code_commit(ROOT)
        if commit is None:
            raise SystemExit(
                f"no commit: the run has no {COMMIT_TAG} tag and {ROOT} is no git checkout; pass --commit"
            )
        print(f"commit: this checkout's HEAD {commit} (the run has no commit tag)", file=sys.stderr)
    return headline_table(
        results,
        commit=commit,
        command=command,
        validation=validation,
        registered_variant=info["variant"] if info is not None else None,
        tuned_variants=tuned,
    )


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, required=True, help="the run's globals.data_root")
    parser.add_argument("--dataset", required=True, help="the data set's name (shop, scientific, ...)")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write, e.g. docs/results/shop.csv")
    parser.add_argument("--command", required=True, help="the command that made the run, as typed")
    parser.add_argument("--tracking-uri", default="sqlite:///mlflow.db")
    parser.add_argument("--experiment", default="momorec", help="the environment's globals.mlflow_experiment")
    parser.add_argument("--run-id", default=None)
    parser.add_argument("--commit", default=None, help="the run's code commit, when known better than a tag")
    parser.add_argument(
        "--pair",
        nargs=2,
        action="append",
        metavar=("A", "B"),
        default=[],
        help="also write <out>_paired.csv: A minus B on the same seeds (repeatable)",
    )
    args = parser.parse_args(argv)
    table = export(args.data_root, args.command, args.tracking_uri, args.experiment, args.run_id, args.commit)
    table.insert(0, "dataset", args.dataset)
    paired = None
    if args.pair:
        per_seed_file = args.data_root / PER_SEED_PATH
        if not per_seed_file.is_file():
            raise SystemExit(f"{per_seed_file} not found: the run predates per-seed results, nothing to pair")
        paired = paired_differences(pd.read_parquet(per_seed_file), [tuple(pair) for pair in args.pair])
        paired.insert(0, "dataset", args.dataset)
        paired["commit"], paired["command"] = table["commit"].iloc[0], args.command
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.6f")
    print(args.out.read_text(), end="")
    if paired is not None:
        paired_out = args.out.with_name(f"{args.out.stem}_paired.csv")
        paired.to_csv(paired_out, index=False, float_format="%.6f")
        print(paired_out.read_text(), end="")
    return table


if __name__ == "__main__":
    main()
