"""Log a trained recommender as a self-describing MLflow pyfunc model and register it under an alias.

What travels with the model: the network as config + safetensors state dict, the item table (vocabulary,
titles, training counts), the semantic-ID table when the variant reads one, the ``momorec`` package itself
(``code_paths``, so the model needs no project checkout), a signature, an input example drawn from the
catalogue, and tags/description naming the winning variant with its validation and test metrics.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn

import momorec
from momorec.serving.artifacts import write_artifacts
from momorec.serving.batch import vocabulary_fingerprint

MODEL_CODE = Path(__file__).with_name("model_code.py")
ARTIFACT_PATH = "recommender"
DEFAULT_ALIAS = "champion"
# What the model needs at serving time (the rest of the project's dependencies is for training).
SERVING_REQUIREMENTS = ("torch", "numpy", "pandas", "pyarrow", "safetensors", "tqdm", "mlflow")


def serving_requirements() -> list[str]:
    """Pinned requirements of the serving code, at the versions installed here (torch without +cpu)."""
    return [f"{name}=={version(name).split('+')[0]}" for name in SERVING_REQUIREMENTS]


def model_signature():
    """Input: history (product ids), optional k and exclude; output: lists per request; param mask_history."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema
    from mlflow.types.schema import AnyType, Array

    ids = Array(DataType.string)
    # Every input column is typed "any" and checked by predict (momorec.serving.requests): an array-of-string
    # column let MLflow recast [null, "B02YSID6YS"] to ["n", "B"] (every id cut to its first character) and
    # numbers to strings, and a record that leaves out k or exclude while another gives them arrives as NaN,
    # which a typed column rejects. `history` is optional here only so that its absence reaches predict,
    # which answers it with a 400 naming the column instead of MLflow's message that echoes the request.
    inputs = Schema(
        [
            ColSpec(AnyType(), "history", required=False),
            ColSpec(AnyType(), "k", required=False),
            ColSpec(AnyType(), "exclude", required=False),
        ]
    )
    outputs = Schema(
        [
            ColSpec(ids, "product_ids"),
            ColSpec(Array(DataType.string), "titles"),
            ColSpec(Array(DataType.double), "scores"),
            ColSpec(ids, "unknown_items"),
            ColSpec(DataType.boolean, "popularity_fallback"),
            ColSpec(Array(DataType.string), "notes"),
        ]
    )
    params = ParamSchema(
        [ParamSpec("mask_history", DataType.boolean, True), ParamSpec("default_k", DataType.long, 10)]
    )
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def input_example(items: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """A request from the catalogue itself: the two most bought products as the history."""
    popular = items.sort_values(["train_count", "item_idx"], ascending=[False, True])["item_id"]
    return pd.DataFrame({"history": [popular.head(2).tolist()], "k": [k]})


def masked_test_metrics(results: pd.DataFrame, variant: str) -> dict[str, float]:
    """``variant``'s test metrics over all users, history masked, from ``recommender_results`` (means)."""
    rows = results[
        (results["variant"] == variant)
        & (results["segment"] == "all")
        & results["history_masked"].astype(bool)
    ]
    return {f"test_{row.metric}_at_{int(row.k)}": float(row.mean) for row in rows.itertuples(index=False)}


def _description(variant: str, selection: Mapping[str, Any], test_metrics: Mapping[str, float]) -> str:
    chosen = ", ".join(f"{k}={v}" for k, v in selection.items())
    measured = ", ".join(f"{k}={v:.4f}" for k, v in sorted(test_metrics.items()))
    return (
        f"momorec recommender, variant {variant} (chosen on validation NDCG@10: {chosen}). "
        f"Test metrics, history masked: {measured or 'not measured'}. Input: history (product ids), "
        "optional k and exclude; output: product_ids, titles, scores, unknown_items, popularity_fallback, notes."
    )


def log_recommender_model(
    network: nn.Module,
    variant: str,
    recommender_params: Mapping[str, Any],
    items: pd.DataFrame,
    model_name: str,
    selection: Mapping[str, Any] | None = None,
    test_metrics: Mapping[str, float] | None = None,
    alias: str = DEFAULT_ALIAS,
) -> dict[str, Any]:
    """Log ``network`` as a pyfunc model in the active MLflow run, register it, point ``alias`` at it.

    ``recommender_params``: the ``params:recommender`` the network was built with. ``items``:
    :func:`momorec.serving.artifacts.item_table`. ``selection``: how the variant was chosen
    (seed, validation NDCG@10), ``test_metrics``: :func:`masked_test_metrics`; both become version tags and the
    description. Returns model_uri, version, alias and the registry URI (``models:/<name>@<alias>``).
    """
    import mlflow
    from mlflow import MlflowClient

    selection, test_metrics = dict(selection or {}), dict(test_metrics or {})
    with tempfile.TemporaryDirectory() as folder:
        artifacts = write_artifacts(Path(folder) / "artifacts", network, variant, recommender_params, items)
        package = Path(folder) / "code" / "momorec"
        shutil.copytree(Path(momorec.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
        info = mlflow.pyfunc.log_model(
            name=ARTIFACT_PATH,
            python_model=str(MODEL_CODE),
            artifacts=artifacts,
            code_paths=[str(package)],
            signature=model_signature(),
            input_example=input_example(items),
            pip_requirements=serving_requirements(),
            registered_model_name=model_name,
            metadata={
                "variant": variant,
                "momorec_version": momorec.__version__,
                "n_items": len(items),
                "vocabulary_fingerprint": vocabulary_fingerprint(items["item_id"]),
            },
        )
    model_version = str(info.registered_model_version)
    client = MlflowClient()
    tags = {
        "variant": variant,
        "vocabulary_fingerprint": vocabulary_fingerprint(items["item_id"]),
        **{k: str(v) for k, v in {**selection, **test_metrics}.items()},
    }
    for key, value in tags.items():
        client.set_model_version_tag(model_name, model_version, key, value)
    client.update_model_version(
        model_name, model_version, description=_description(variant, selection, test_metrics)
    )
    client.set_registered_model_alias(model_name, alias, model_version)
    return {
        "logged": True,
        "model_uri": info.model_uri,
        "version": int(model_version),
        "alias": alias,
        "registry_uri": f"models:/{model_name}@{alias}",
    }
