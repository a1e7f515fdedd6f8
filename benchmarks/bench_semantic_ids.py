"""Benchmark: do the semantic IDs collapse? Per-layer code use and full-ID collisions of each ID input option.

Reads the persisted spreading outputs of a run (``data/04_feature``: item_motivation_assignment,
motivation_clusters, motivation_embeddings, item_text_embeddings) and builds the IDs of every option with the
semantic_id parameters of the base configuration (L layers × K codes, same seed):

* ``motivation`` — today's default: the item's motivation-cluster representative;
* ``motivation + dedup`` — the same plus the dedup digit (unique by construction; the digit's range is the
  extra table the recommender has to learn);
* ``text`` — item text only (no motivations; the text-only ablation);
* ``motivation_text w=…`` — ``[√w · m̂, √(1−w) · t̂]`` (``concat`` of today is w = 0.5);
* ``cluster_prefix_text`` — code 0 = motivation cluster, codes 1 … L−1 = residual k-means of the text
  centred on its cluster's mean.

With ``--train-seeds 0 …`` MoMoREC (the ``momorec`` variant, ``params:recommender`` of ``--env``) is also
trained on each option's IDs from ``data/03_primary`` and its best **validation** NDCG@10 per seed is reported
(never a test metric); options with a dedup digit train with ``use_dedup``.

Run (one section of RESULTS.md per label; ``--data`` is a Kedro project's ``data`` folder):
    python benchmarks/bench_semantic_ids.py --data /work/baseline/data --label shop [--train-seeds 0]
    python benchmarks/bench_semantic_ids.py --data data --label scientific --env scientific
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _results import write_section  # noqa: E402

from momorec.clustering.id_inputs import code_usage  # noqa: E402
from momorec.clustering.residual_kmeans import collision_rate  # noqa: E402
from momorec.clustering.semantic_ids import (  # noqa: E402
    assemble_item_vectors,
    residual_codes,
    residual_fit_settings,
)

CONF = Path(__file__).resolve().parents[1] / "conf"
PARAMETERS = CONF / "base" / "parameters_semantic_id.yml"
WEIGHTS = (0.2, 0.5, 0.8)
# The rows of the results table, in this order.
OPTION_ORDER = [
    "motivation",
    "motivation + dedup",
    "text",
    *(f"motivation_text w={weight}" for weight in WEIGHTS),
    "cluster_prefix_text",
    "motivation_text w=0.5 + dedup",
    "cluster_prefix_text + dedup",
]


def load_features(data: Path) -> dict[str, object]:
    feature = data / "04_feature"
    return {
        "item_motivation_assignment": pd.read_parquet(feature / "item_motivation_assignment.parquet"),
        "motivation_clusters": pd.read_parquet(feature / "motivation_clusters.parquet"),
        "motivation_embeddings": np.load(feature / "motivation_embeddings.npy"),
        "item_text_embeddings": np.load(feature / "item_text_embeddings.npy"),
    }


def id_options(features: dict[str, object], params: dict) -> dict[str, np.ndarray]:
    """Option name -> (n_items, L [+1]) code table, -1 rows for padded items.

    Every table comes from the semantic_id stage's own functions (``momorec.clustering.semantic_ids``:
    ``assemble_item_vectors`` for the input, ``residual_codes`` for the codes and the dedup digit), with the
    base configuration's settings, one faiss thread and no progress bar.
    """
    settings = {**residual_fit_settings(params), "show_progress": False, "n_threads": 1}

    def vectors(input_kind: str, **options: float) -> np.ndarray:
        return assemble_item_vectors(**features, input_kind=input_kind, only_generated=False, **options)

    cluster_ids = features["item_motivation_assignment"].sort_values("item_idx")["cluster_id"].to_numpy()
    tables = {
        "motivation": residual_codes(vectors("motivation"), **settings)[0],
        "text": residual_codes(vectors("text"), **settings)[0],
        **{
            f"motivation_text w={weight}": residual_codes(
                vectors("motivation_text", motivation_weight=weight), **settings
            )[0]
            for weight in WEIGHTS
        },
        "cluster_prefix_text": residual_codes(
            vectors("cluster_prefix_text"), prefix_codes=cluster_ids, **settings
        )[0],
    }
    code_columns = [f"code_{layer}" for layer in range(settings["n_layers"])]
    options = {name: table[code_columns].to_numpy(np.int64) for name, table in tables.items()}
    for name in ("motivation", "motivation_text w=0.5", "cluster_prefix_text"):
        options[f"{name} + dedup"] = tables[name][[*code_columns, "dedup"]].to_numpy(np.int64)
    return dict(sorted(options.items(), key=lambda option: OPTION_ORDER.index(option[0])))


def first_code_purity(first_codes: np.ndarray, cluster_ids: np.ndarray) -> float:
    """Share of items whose first code's most common motivation cluster is their own (1 = layer 1 never mixes
    motivations)."""
    frame = pd.DataFrame({"code": first_codes, "cluster": cluster_ids})
    frame = frame[(frame["code"] >= 0) & (frame["cluster"] >= 0)]
    if frame.empty:
        return float("nan")
    return float(frame.groupby("code")["cluster"].agg(lambda c: c.value_counts().iloc[0]).sum() / len(frame))


def summarise(
    options: dict[str, np.ndarray], n_codes: int, cluster_ids: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary, per_layer = [], []
    for name, codes in options.items():
        usage = code_usage(codes, n_codes=n_codes)
        present = codes[(codes >= 0).all(axis=1)]
        summary.append(
            {
                "option": name,
                "items_with_id": len(present),
                "codes_used_per_layer": " · ".join(str(value) for value in usage["codes_used"]),
                "layers_with_one_code": int((usage["codes_used"] <= 1).sum()),
                "distinct_full_ids": len(np.unique(present, axis=0)),
                "full_id_collision_rate": collision_rate(present),
                "largest_id_group": int(np.unique(present, axis=0, return_counts=True)[1].max()),
                "first_code_motivation_purity": first_code_purity(codes[:, 0], cluster_ids),
            }
        )
        per_layer.append(usage.assign(option=name))
    per_layer_table = pd.concat(per_layer, ignore_index=True)[
        ["option", "layer", "codes_used", "utilisation", "perplexity", "prefix_collision_rate"]
    ]
    return pd.DataFrame(summary).round(4), per_layer_table.round(4)


def recommender_params(env: str) -> dict:
    """``params:recommender`` of ``env`` (an environment replaces the whole top-level key)."""
    override = CONF / env / "parameters_recommender.yml"
    source = override if override.exists() else CONF / "base" / "parameters_recommender.yml"
    return yaml.safe_load(source.read_text())["recommender"]


def validation_ndcg(data: Path, options: dict[str, np.ndarray], env: str, seeds: list[int]) -> dict[str, str]:
    """Option -> best validation NDCG@10 of MoMoREC per seed (mean ± std over seeds when more than one)."""
    from momorec.data.sequences import build_user_sequences
    from momorec.models.trainer import TrainingConfig, fit
    from momorec.models.variants import build_model

    interactions = pd.read_parquet(data / "03_primary" / "interactions.parquet")
    items = pd.read_parquet(data / "03_primary" / "items.parquet")
    sequences = build_user_sequences(interactions, items)
    base = recommender_params(env)
    scores = {}
    for name, codes in options.items():
        dedup = name.endswith("+ dedup")
        layers = codes[:, :-1] if dedup else codes
        table = pd.DataFrame(layers, columns=[f"code_{layer}" for layer in range(layers.shape[1])])
        table.insert(0, "item_idx", np.arange(len(codes)))
        table["dedup"] = codes[:, -1] if dedup else -1
        params = {**base, "semantic_ids": {**base["semantic_ids"], "use_dedup": dedup}}
        values = []
        for seed in seeds:
            model = build_model("momorec", sequences, params, table, seed)
            values.append(
                fit(model, sequences, TrainingConfig.from_params(params, seed)).best_valid_ndcg_at_10
            )
            print(name, seed, values[-1], flush=True)
        scores[name] = (
            f"{np.mean(values):.4f} ± {np.std(values):.4f}" if len(values) > 1 else f"{values[0]:.4f}"
        )
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data"), help="a project's data folder")
    parser.add_argument("--label", required=True, help="data set name (one RESULTS.md section per label)")
    parser.add_argument("--note", default="", help="how the spreading outputs were made (run, tuning)")
    parser.add_argument(
        "--env", default="base", help="Kedro environment whose params:recommender trains MoMoREC"
    )
    parser.add_argument("--train-seeds", type=int, nargs="*", default=[], help="train MoMoREC on each option")
    parser.add_argument("--train-options", nargs="*", default=None, help="only these options (default: all)")
    args = parser.parse_args()
    params = yaml.safe_load(PARAMETERS.read_text())["semantic_id"]
    features = load_features(args.data)
    start = time.perf_counter()
    options = id_options(features, params)
    seconds = time.perf_counter() - start
    assignment = features["item_motivation_assignment"].sort_values("item_idx")
    summary, per_layer = summarise(options, params["n_codes"], assignment["cluster_id"].to_numpy())
    if args.train_seeds:
        chosen = {name: codes for name, codes in options.items() if name in (args.train_options or options)}
        scores = validation_ndcg(args.data, chosen, args.env, args.train_seeds)
        summary["momorec_valid_ndcg_at_10"] = summary["option"].map(scores)
    sources = assignment["source"].value_counts().to_dict()
    notes = (
        f"{args.label}: {len(assignment):,} items (motivation source: {sources}), "
        f"{assignment['cluster_id'].max() + 1} motivation clusters; L = {params['n_layers']}, "
        f"K = {params['n_codes']}, seed {params['seed']}; {args.note} All options built in {seconds:.0f} s. "
        "Options `… + dedup` have one column more (the dedup digit): its last 'codes used' is the size of the "
        "dedup table (= the largest ID group of the same option without the digit). "
        "first_code_motivation_purity: share of items whose layer-1 code is mostly items of their own motivation "
        "cluster (1 = layer 1 separates motivations and never mixes them).\n\n"
        f"Per layer:\n\n{per_layer.to_markdown(index=False)}\n"
    )
    command = f"benchmarks/bench_semantic_ids.py --data {args.data} --label {args.label}"
    if args.train_seeds:
        command += f" --env {args.env} --train-seeds {' '.join(map(str, args.train_seeds))}"
    write_section(f"semantic_id_inputs-{args.label}", command, summary, notes)


if __name__ == "__main__":
    main()
