"""Fusion options of issue 13 (how semantic IDs / frozen item vectors join SASRec), on a finished run's data.

Reads the persisted datasets of a finished ``kedro run`` (paths from that project's own catalog, environment
``--env``): interactions with their leave-one-out split, items, item_stats, the motivation semantic IDs
(``item_semantic_ids``), the text-only IDs (``text_item_semantic_ids``), the item text embeddings and each
item's motivation vector (its cluster representative's embedding, as the semantic-ID stage builds it). Every
option trains with the project's trainer (``models.trainer.fit``: early stopping on validation NDCG@10) and
is scored by the project's evaluator (full ranking, leave-one-out, history masked as the run's
``recommender.mask_history``), with the run's own model sizes, training settings and seeds.

Options: ``sasrec``, ``sasrec_text_init``, ``mlp`` (the paper's fusion, models/momorec.py), ``additive``
(models/additive_fusion.py) on the LLM motivation IDs and on the text-only IDs, ``gated``
(models/gated_fusion.py), ``adaptor`` (models/adaptor_fusion.py) on text, motivation, or both. With ground
truth (the built-in shop), ``oracle_mlp`` / ``oracle_additive`` use IDs built from the items' TRUE
motivations (embedded with the run's encoder, residual k-means with the run's semantic_id settings): an
upper bound for a perfect motivation model, evaluation-only, never a candidate for the default.

Inference overhead: one full-ranking test pass over all users per option (item-representation pass
included), the options' passes alternating, best of ``--repeats``, relative to SASRec.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_fusion.py --project /work/baseline [--env scientific]

Per-seed results are appended to ``--runs`` (resumable: an (option, seed) already there is not retrained).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import write_section  # noqa: E402

from momorec.clustering.residual_kmeans import collision_rate  # noqa: E402
from momorec.data.sequences import UserSequences  # noqa: E402
from momorec.evaluation.evaluator import evaluate_split, segment_metrics  # noqa: E402
from momorec.evaluation.segments import long_tail_flags, user_segments  # noqa: E402
from momorec.models.adaptor_code_fusion import AdaptorCodeFusion  # noqa: E402
from momorec.models.adaptor_fusion import AdaptorFusion  # noqa: E402
from momorec.models.additive_fusion import AdditiveFusion  # noqa: E402
from momorec.models.gated_fusion import GatedFusion  # noqa: E402
from momorec.models.momorec import MoMoREC, semantic_id_matrix  # noqa: E402
from momorec.models.sasrec import SASRec  # noqa: E402
from momorec.models.trainer import TrainingConfig, fit, model_score_fn  # noqa: E402

SECTIONS = {"base": "fusion options, built-in shop", "scientific": "fusion options, Amazon Scientific"}


class RunData:
    """The finished run's datasets, each loaded on first use (an option reads only what it needs)."""

    def __init__(self, catalog, parameters: dict) -> None:
        self.catalog = catalog
        self.parameters = parameters
        self.params = parameters["recommender"]
        self.id_tables: dict[str, pd.DataFrame | None] = {}

    @cached_property
    def items(self) -> pd.DataFrame:
        return self.catalog.load("items")

    @cached_property
    def data(self) -> UserSequences:
        from momorec.data.sequences import build_user_sequences

        return build_user_sequences(self.catalog.load("interactions"), self.items)

    @cached_property
    def item_is_long_tail(self) -> np.ndarray:
        return long_tail_flags(self.catalog.load("item_stats"), self.data.n_items)

    @cached_property
    def text_vectors(self) -> np.ndarray:
        """The item text embeddings (n_items, d)."""
        return np.asarray(self.catalog.load("item_text_embeddings"), dtype=np.float32)

    @cached_property
    def motivation_vectors(self) -> np.ndarray:
        """Each item's motivation vector; a zero row for an item without a motivation."""
        from momorec.clustering.semantic_ids import assemble_item_vectors

        # Exactly the vector the semantic-ID stage feeds residual k-means: the embedding of the item's
        # motivation cluster representative (NaN there for items without one).
        motivation = assemble_item_vectors(
            self.catalog.load("item_motivation_assignment"),
            self.catalog.load("motivation_clusters"),
            self.catalog.load("motivation_embeddings"),
            self.text_vectors,
            "motivation",
            False,
        )
        return np.nan_to_num(motivation, nan=0.0)

    def id_table(self, source: str) -> pd.DataFrame | None:
        """``llm`` (item_semantic_ids), ``text`` (text_item_semantic_ids), ``cluster`` (one layer: the motivation
        cluster, cluster_item_semantic_ids) or ``oracle`` (None without ground truth)."""
        if source not in self.id_tables:
            if source == "oracle":
                table = oracle_semantic_ids(self.catalog, self.parameters, self.items)
            else:
                table = self.catalog.load(
                    {
                        "llm": "item_semantic_ids",
                        "text": "text_item_semantic_ids",
                        "cluster": "cluster_item_semantic_ids",
                    }[source]
                )
            self.id_tables[source] = table
        return self.id_tables[source]

    def codes(self, source: str) -> np.ndarray:
        sid = self.params["semantic_ids"]
        return semantic_id_matrix(
            self.id_table(source), self.data.n_items, sid.get("n_layers_used"), bool(sid.get("use_dedup"))
        )


@dataclass(frozen=True)
class Option:
    name: str
    inputs: str
    build: Callable[[RunData, int], SASRec]
    uses_motivation: bool = False
    oracle: bool = False


# Settings only the adaptor models take (`--params recommender.model.adaptor_scale_init=1` times an adaptor
# option; SASRec, built for the inference baseline of every run, must not receive them): read from the
# constructors, so a new adaptor argument needs no edit here.
ADAPTOR_ONLY = frozenset(inspect.signature(AdaptorFusion).parameters) - frozenset(
    inspect.signature(SASRec).parameters
)


def _architecture(run: RunData, adaptor: bool = False) -> dict:
    return {k: v for k, v in run.params["model"].items() if adaptor or k not in ADAPTOR_ONLY}


def _code_size(run: RunData) -> int:
    return int(run.params["semantic_ids"]["code_embedding_size"])


def _text_init(run: RunData, seed: int) -> SASRec:
    from momorec.models.variants import text_init_vectors

    hidden = run.params["model"]["hidden_size"]
    vectors = text_init_vectors(run.text_vectors, run.data.n_items, hidden, seed)
    return SASRec(run.data.n_items, initial_item_embeddings=vectors, **_architecture(run))


def _mlp(source: str) -> Callable[[RunData, int], SASRec]:
    return lambda run, seed: MoMoREC(
        run.data.n_items, run.codes(source), code_embedding_size=_code_size(run), **_architecture(run)
    )


def _additive(source: str) -> Callable[[RunData, int], SASRec]:
    return lambda run, seed: AdditiveFusion(
        run.data.n_items, run.codes(source), code_embedding_size=_code_size(run), **_architecture(run)
    )


def _gated(source: str) -> Callable[[RunData, int], SASRec]:
    return lambda run, seed: GatedFusion(
        run.data.n_items, run.codes(source), run.data.item_train_frequency(), **_architecture(run)
    )


def _adaptor(*kinds: str) -> Callable[[RunData, int], SASRec]:
    return lambda run, seed: AdaptorFusion(
        run.data.n_items,
        np.hstack([getattr(run, f"{kind}_vectors") for kind in kinds]),
        **_architecture(run, adaptor=True),
    )


def _adaptor_additive(source: str) -> Callable[[RunData, int], SASRec]:
    return lambda run, seed: AdaptorCodeFusion(
        run.data.n_items,
        run.text_vectors,
        run.codes(source),
        code_embedding_size=_code_size(run),
        **_architecture(run, adaptor=True),
    )


OPTIONS = [
    Option("sasrec", "-", lambda run, seed: SASRec(run.data.n_items, **_architecture(run))),
    Option("sasrec_text_init", "text emb. (init)", _text_init),
    Option("mlp", "LLM motivation IDs", _mlp("llm"), uses_motivation=True),
    Option("additive", "LLM motivation IDs", _additive("llm"), uses_motivation=True),
    Option("additive_text_ids", "text-only IDs", _additive("text")),
    # What motivation-only IDs reduce to once they collapse (one code per motivation cluster).
    Option("additive_cluster_ids", "motivation cluster IDs", _additive("cluster"), uses_motivation=True),
    Option("gated", "LLM motivation IDs", _gated("llm"), uses_motivation=True),
    Option("adaptor_text", "text emb.", _adaptor("text")),
    Option("adaptor_motivation", "motivation emb.", _adaptor("motivation"), uses_motivation=True),
    Option("adaptor_text_motivation", "text + motivation emb.", _adaptor("text", "motivation"), True),
    # The text adaptor and an additive code term side by side (AdaptorCodeFusion).
    Option("adaptor_text_additive", "text emb. + LLM motivation IDs", _adaptor_additive("llm"), True),
    Option("adaptor_text_additive_text_ids", "text emb. + text-only IDs", _adaptor_additive("text")),
    Option("oracle_mlp", "TRUE motivation IDs", _mlp("oracle"), uses_motivation=True, oracle=True),
    Option("oracle_additive", "TRUE motivation IDs", _additive("oracle"), uses_motivation=True, oracle=True),
]
OPTION_BY_NAME = {option.name: option for option in OPTIONS}


# ------------------------------------------------------------------------------------------------ loading
def runtime_params(text: str | None) -> dict:
    """``kedro run --params`` syntax ("a.b=1,c=x", OmegaConf dot-list values) as a nested dict."""
    from omegaconf import OmegaConf

    if not text:
        return {}
    items = [item.strip() for item in text.split(",") if item.strip()]
    malformed = [item for item in items if "=" not in item or not item.partition("=")[0].strip()]
    if malformed:
        raise ValueError(f"--params: {malformed} are not key=value")
    return OmegaConf.to_container(OmegaConf.from_dotlist(items))


def load_catalog(project: Path, env: str, params: dict | None = None):
    """The finished project's catalog and parameters (its own conf/, with ``params`` over them as
    ``kedro run --params`` would put them), relative paths resolved from it."""
    from kedro.config import OmegaConfigLoader
    from kedro.io import DataCatalog

    # As the project's settings.py configures it: `local` over `base` by default, soft-merged parameters.
    loader = OmegaConfigLoader(
        conf_source=str(project / "conf"),
        base_env="base",
        default_run_env="local",
        env=None if env == "base" else env,
        merge_strategy={"parameters": "soft"},
        runtime_params=params or {},
    )
    os.chdir(project)
    return DataCatalog.from_config(loader["catalog"]), loader["parameters"]


def oracle_semantic_ids(catalog, parameters: dict, items: pd.DataFrame) -> pd.DataFrame | None:
    """The run's oracle IDs (``momorec.clustering.semantic_ids.oracle_semantic_ids``: true motivations, the
    run's encoder and semantic_id settings); None when the data set has no ground truth."""
    from momorec.clustering.semantic_ids import oracle_semantic_ids as build_oracle_ids
    from momorec.clustering.semantic_ids import residual_fit_settings

    truth = catalog.load("item_true_motivations")
    if len(truth) == 0:
        return None
    encoder = catalog.load("spreading_encoder")  # the run's encoder (tuned when the run tuned it)
    batch_size = int(parameters["spreading"]["encoder"]["batch_size"])
    settings = residual_fit_settings(
        {**parameters["semantic_id"], "show_progress": False, "faiss_threads": 1}
    )
    table = build_oracle_ids(items, truth, lambda texts: encoder.encode(texts, batch_size), **settings)
    print(f"oracle IDs: {int((table['code_0'] >= 0).sum())} of {len(items)} items have codes", flush=True)
    return table


def id_diagnostics(run: RunData) -> pd.DataFrame:
    """Per ID source: distinct codes per layer, distinct full IDs, full-ID collision rate, padded items."""
    rows = []
    for source, table in run.id_tables.items():
        if table is None:
            continue
        codes = semantic_id_matrix(table, run.data.n_items)
        present = (codes >= 0).all(axis=1)
        rows.append(
            {
                "IDs": source,
                "codes per layer": "/".join(str(len(np.unique(c[present]))) for c in codes.T),
                "distinct full IDs": len(np.unique(codes[present], axis=0)),
                "full-ID collision rate": round(collision_rate(codes[present]), 3),
                "items without codes": int((~present).sum()),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------- training / testing
def train_and_test(option: Option, run: RunData, seed: int) -> dict:
    """One seed of one option: fit with early stopping, then test metrics per segment (masked and not)."""
    params = run.params
    torch.manual_seed(seed)
    model = option.build(run, seed)
    config = TrainingConfig(
        **params["training"],
        mask_history=params["mask_history"],
        eval_chunk_size=params["evaluation"]["chunk_size"],
        seed=seed,
        device="cpu",
    )
    started = time.perf_counter()
    result = fit(model, run.data, config)
    record = {
        "option": option.name,
        "seed": seed,
        "valid_ndcg_at_10": result.best_valid_ndcg_at_10,
        "best_epoch": result.best_epoch,
        "epochs": len(result.history),
        "train_seconds_per_epoch": float(np.mean([r["train_seconds"] for r in result.history])),
        "fit_seconds": time.perf_counter() - started,
    }
    score_fn = model_score_fn(model)
    cold_start_below = int(params["evaluation"]["cold_start_below"])
    for masked in (True, False):
        split = evaluate_split(
            score_fn, run.data, "test", model.max_length, masked, params["evaluation"]["chunk_size"]
        )
        segments = user_segments(
            split.targets, run.data.train_lengths[split.rows], run.item_is_long_tail, cold_start_below
        )
        for row in segment_metrics(split.ranks, segments, ks=(10,)):
            if row["segment"] in ("all", "head_target", "long_tail_target"):
                prefix = "test" if masked else "test_unmasked"
                record[f"{prefix}.{row['segment']}.{row['metric']}_at_10"] = row["value"]
    return record


def inference_seconds(options: list[Option], run: RunData, repeats: int) -> dict[str, dict[str, float]]:
    """Per option: best full-ranking test pass (scorer rebuilt inside the timing; passes alternating) and
    best item-representation pass alone (the only work a fusion option adds to SASRec's inference)."""
    models = {}
    for option in options:
        torch.manual_seed(0)
        models[option.name] = option.build(run, 0).eval()
    chunk = run.params["evaluation"]["chunk_size"]
    best = {name: {"pass": float("inf"), "item_table": float("inf")} for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            started = time.perf_counter()
            evaluate_split(model_score_fn(model), run.data, "test", model.max_length, True, chunk)
            best[name]["pass"] = min(best[name]["pass"], time.perf_counter() - started)
            with torch.no_grad():
                for _ in range(5):
                    started = time.perf_counter()
                    model.item_representations()
                    best[name]["item_table"] = min(best[name]["item_table"], time.perf_counter() - started)
    return best


# ---------------------------------------------------------------------------------------------- reporting
def _mean_std(values: pd.Series) -> str:
    return f"{values.mean():.4f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.4f}"


COLUMNS = {
    "valid_ndcg_at_10": "valid NDCG@10",
    "test.all.recall_at_10": "R@10",
    "test.all.ndcg_at_10": "NDCG@10",
    "test.head_target.recall_at_10": "head R@10",
    "test.head_target.ndcg_at_10": "head NDCG@10",
    "test.long_tail_target.recall_at_10": "tail R@10",
    "test.long_tail_target.ndcg_at_10": "tail NDCG@10",
    "test_unmasked.all.recall_at_10": "unmasked R@10",
}


UNMASKED_COLUMNS = {
    "test_unmasked.all.recall_at_10": "R@10",
    "test_unmasked.all.ndcg_at_10": "NDCG@10",
    "test_unmasked.head_target.recall_at_10": "head R@10",
    "test_unmasked.long_tail_target.recall_at_10": "tail R@10",
}


def _change_vs_sasrec(runs: pd.DataFrame, mine: pd.DataFrame, column: str) -> dict[str, str]:
    """``{"ΔR@10 vs SASRec": "+x.y%"}`` for ``column``'s mean, or nothing when SASRec did not run."""
    sasrec = runs.loc[runs["option"] == "sasrec", column]
    if sasrec.empty:
        return {}
    return {"ΔR@10 vs SASRec": f"{mine[column].mean() / sasrec.mean() - 1:+.1%}"}


def unmasked_table(runs: pd.DataFrame, options: list[Option]) -> pd.DataFrame:
    """The same options scored with the history left in the ranking (RecBole's default protocol)."""
    rows = []
    for option in options:
        mine = runs[runs["option"] == option.name]
        if mine.empty:
            continue
        row = {"option": option.name + (" (oracle)" if option.oracle else "")}
        row.update({label: _mean_std(mine[column]) for column, label in UNMASKED_COLUMNS.items()})
        row.update(_change_vs_sasrec(runs, mine, "test_unmasked.all.recall_at_10"))
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(runs: pd.DataFrame, options: list[Option], seconds: dict[str, float]) -> pd.DataFrame:
    rows = []
    for option in options:
        mine = runs[runs["option"] == option.name]
        if mine.empty:
            continue
        row = {"option": option.name + (" (oracle)" if option.oracle else ""), "inputs": option.inputs}
        row.update({label: _mean_std(mine[column]) for column, label in COLUMNS.items()})
        row["seeds"] = len(mine)
        row.update(_change_vs_sasrec(runs, mine, "test.all.recall_at_10"))
        row["epochs"] = f"{mine['epochs'].mean():.1f}"
        row["s/epoch"] = f"{mine['train_seconds_per_epoch'].mean():.2f}"
        if option.name in seconds and "sasrec" in seconds:
            timing, base = seconds[option.name], seconds["sasrec"]
            row["full pass vs SASRec"] = f"{timing['pass'] / base['pass'] - 1:+.1%}"
            row["item table ms"] = f"{timing['item_table'] * 1000:.2f}"
            added = (timing["item_table"] - base["item_table"]) / base["pass"]
            row["added / SASRec pass"] = f"{added:+.1%}"
        rows.append(row)
    return pd.DataFrame(rows)


def recommendation(runs: pd.DataFrame, options: list[Option]) -> str:
    """The default by mean validation NDCG@10 only (never the oracle); test metrics play no part."""
    valid = runs.groupby("option")["valid_ndcg_at_10"].mean()
    eligible = [o for o in options if not o.oracle and o.name in valid.index]
    lines = []
    for label, pool in (
        ("best overall", eligible),
        ("best motivation-using", [o for o in eligible if o.uses_motivation]),
    ):
        if pool:
            winner = max(pool, key=lambda o: valid[o.name])
            lines.append(f"{label} by validation NDCG@10: **{winner.name}** ({valid[winner.name]:.4f})")
    return "; ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="root of the project that ran")
    parser.add_argument("--env", default="base")
    parser.add_argument("--options", nargs="*", default=None, help="subset of option names (default: all)")
    parser.add_argument("--seeds", nargs="*", type=int, default=None, help="default: the run's seeds")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="alternating timed inference passes")
    parser.add_argument(
        "--max-epochs", type=int, default=None, help="override training.epochs (a sensitivity check; noted)"
    )
    parser.add_argument(
        "--patience", type=int, default=None, help="override training.patience (early stopping; noted)"
    )
    parser.add_argument(
        "--params",
        default=None,
        help="the run's --params, if it had any (e.g. semantic_id.input=motivation_text): the bench then "
        "uses and reports the settings the run's datasets were built with",
    )
    parser.add_argument("--runs", type=Path, default=None, help="per-seed results file (JSON lines)")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    project = args.project.resolve()
    suffix = f"_epochs{args.max_epochs}" if args.max_epochs else ""
    suffix += f"_patience{args.patience}" if args.patience is not None else ""
    runs_path = (
        args.runs or ROOT / "data" / "08_reporting" / f"bench_fusion_{args.env}{suffix}.jsonl"
    ).resolve()
    unknown = set(args.options or []) - set(OPTION_BY_NAME)
    if unknown:
        parser.error(f"unknown option(s) {sorted(unknown)}; known: {list(OPTION_BY_NAME)}")
    wanted = [o for o in OPTIONS if args.options is None or o.name in args.options]
    try:
        overrides = runtime_params(args.params)
    except ValueError as error:
        parser.error(str(error))
    run = RunData(*load_catalog(project, args.env, overrides))
    if args.max_epochs is not None:
        run.params["training"] = {**run.params["training"], "epochs": args.max_epochs}
    if args.patience is not None:
        run.params["training"] = {**run.params["training"], "patience": args.patience}
    options = [o for o in wanted if not o.oracle or run.id_table("oracle") is not None]
    seeds = args.seeds if args.seeds is not None else [int(s) for s in run.params["seeds"]]

    runs_path.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if runs_path.exists():
        done = {(r["option"], r["seed"]) for r in map(json.loads, runs_path.read_text().splitlines())}
    for option in options:
        for seed in seeds:
            if (option.name, seed) in done:
                continue
            record = train_and_test(option, run, seed)
            print(json.dumps(record), flush=True)
            with runs_path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
    runs = pd.DataFrame(map(json.loads, runs_path.read_text().splitlines()))
    runs = runs[runs["seed"].isin(seeds)]
    print(id_diagnostics(run).to_markdown(index=False), flush=True)
    seconds = inference_seconds([OPTION_BY_NAME["sasrec"], *options], run, args.repeats)
    table = summary_table(runs, options, seconds)
    notes = [
        f"Data: the persisted datasets of `kedro run --env {args.env}` in `{project}`; "
        f"{run.data.n_users} users, {run.data.n_items} items; seeds {seeds}; the run's recommender settings "
        f"(model {run.params['model']}, training {run.params['training']}); the run's `item_semantic_ids` "
        f'("LLM motivation IDs") built from semantic_id.input = '
        f"`{run.parameters['semantic_id'].get('input', 'motivation')}`, use_dedup = "
        f"{run.params['semantic_ids'].get('use_dedup')}. Test metrics with history "
        f"masked = {run.params['mask_history']} unless marked unmasked; mean ± std over seeds.",
        recommendation(runs, options),
        "Inference: one full-ranking test pass over all users, item-representation pass included, options "
        f"alternating, best of {args.repeats}; SASRec {seconds['sasrec']['pass']:.3f} s. On a machine shared "
        "with other jobs the full-pass ratio is noise-dominated (sasrec_text_init has SASRec's exact "
        "architecture, so its ratio shows the noise); `item table ms` times the item-representation pass "
        "alone (best of 5 per round), the only computation an option adds, and `added / SASRec pass` is its "
        "extra time over SASRec's table lookup as a share of SASRec's full pass.",
        "History not masked (test):\n\n" + unmasked_table(runs, options).to_markdown(index=False),
        "ID tables used:\n\n" + id_diagnostics(run).to_markdown(index=False),
    ]
    command = f"benchmarks/bench_fusion.py --project {project} --env {args.env}"
    if args.params:
        command += f' --params "{args.params}"'
    if args.max_epochs is not None:
        command += f" --max-epochs {args.max_epochs}"
    if args.patience is not None:
        command += f" --patience {args.patience}"
    if args.no_write:
        print(table.to_markdown(index=False), "\n\n".join(notes), sep="\n\n")
    else:
        section = SECTIONS.get(args.env, f"fusion options, {args.env}")
        if args.max_epochs is not None:
            section += f", max {args.max_epochs} epochs"
        write_section(section, command, table, "\n\n".join(notes))


if __name__ == "__main__":
    main()
