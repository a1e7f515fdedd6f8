"""``momorec.recommend(history, k)``: top-k products from the project's registered champion model.

The project is found from ``project_path`` or the working directory (it, or a parent, holds the Kedro
``pyproject.toml``); its configuration gives the MLflow store (conf/base/mlflow.yml), the model's name
(``params:recommender.registry.model_name``) and the alias (``params:scoring.alias``). The loaded model is
kept per registry version, so a newly registered champion is picked up on the next call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from momorec.serving.requests import DEFAULT_K

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegistryModel:
    """Where the champion lives: the tracking URI, the registered name and the alias."""

    tracking_uri: str
    model_name: str
    alias: str

    @property
    def uri(self) -> str:
        return f"models:/{self.model_name}@{self.alias}"


def project_registry_model(project_path: str | Path | None = None, env: str | None = None) -> RegistryModel:
    """The registry model the project's configuration names.

    ``env``: a Kedro environment; ``None`` reads ``KEDRO_ENV`` as Kedro does (``kedro jupyter notebook --env
    smoke`` sets it), else the default one. Each environment registers its own model (conf/<env>/globals.yml).
    """
    from kedro.utils import find_kedro_project

    from momorec.config_loader import ProjectConfigLoader

    start = Path(project_path) if project_path is not None else Path.cwd()
    root = find_kedro_project(start.expanduser().resolve())
    if root is None:
        raise FileNotFoundError(
            f"no Kedro project at or above {start} (no pyproject.toml with [tool.kedro]); "
            "pass project_path= or model_uri= to momorec.recommend"
        )
    loader = ProjectConfigLoader(
        conf_source=str(root / "conf"),
        base_env="base",
        default_run_env="local",
        env=env or os.environ.get("KEDRO_ENV"),
        merge_strategy={"parameters": "soft"},
        config_patterns={"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]},  # as kedro-mlflow declares it
    )
    parameters = loader["parameters"]
    return RegistryModel(
        tracking_uri=loader["mlflow"]["server"]["mlflow_tracking_uri"],
        model_name=parameters["recommender"]["registry"]["model_name"],
        alias=parameters["scoring"]["alias"],
    )


@lru_cache(maxsize=4)
def _load(tracking_uri: str, model_uri: str, version: str):
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    logger.info("loading %s (version %s) from %s", model_uri, version, tracking_uri)
    return mlflow.pyfunc.load_model(model_uri)


def load_champion(project_path: str | Path | None = None, env: str | None = None):
    """The champion as a loaded pyfunc model (cached per registry version)."""
    from mlflow import MlflowClient

    registry = project_registry_model(project_path, env)
    client = MlflowClient(tracking_uri=registry.tracking_uri)
    version = client.get_model_version_by_alias(registry.model_name, registry.alias).version
    return _load(registry.tracking_uri, f"models:/{registry.model_name}/{version}", str(version))


def recommend(
    history: Sequence[str],
    k: int = DEFAULT_K,
    exclude: Sequence[str] | None = None,
    *,
    mask_history: bool = True,
    project_path: str | Path | None = None,
    env: str | None = None,
) -> pd.DataFrame:
    """Top-``k`` products after ``history`` (product ids, oldest first), from the project's champion model.

    Returns rank (1 = best), product_id, title, score. Products of ``history`` (with ``mask_history``) and
    of ``exclude`` are never recommended. Ids the model does not know are ignored, logged as a warning and
    listed in ``result.attrs["unknown_items"]``; with no known id the ranking is training popularity
    (``result.attrs["popularity_fallback"]``).
    """
    if isinstance(history, str):
        raise TypeError("history: a list of product ids, not one string")
    model = load_champion(project_path, env)
    request = pd.DataFrame({"history": [list(history)], "k": [int(k)], "exclude": [list(exclude or [])]})
    (answer,) = model.predict(request, params={"mask_history": mask_history}).to_dict("records")
    if answer["unknown_items"]:
        logger.warning("recommend: ignored product ids the model does not know: %s", answer["unknown_items"])
    result = pd.DataFrame(
        {
            "rank": range(1, len(answer["product_ids"]) + 1),
            "product_id": answer["product_ids"],
            "title": answer["titles"],
            "score": answer["scores"],
        }
    )
    result.attrs.update(
        unknown_items=list(answer["unknown_items"]), popularity_fallback=bool(answer["popularity_fallback"])
    )
    return result
