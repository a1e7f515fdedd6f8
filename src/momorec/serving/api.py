"""``momorec.recommend(history, k)``: top-k products from the project's registered champion model.

The project is found from ``project_path`` or the working directory (it, or a parent, holds the Kedro
``pyproject.toml``); its configuration gives the MLflow store (conf/base/mlflow.yml), the model's name
(``params:recommender.registry.model_name``) and the alias (``params:scoring.alias``). The loaded model is
kept between calls, per project, environment and registry version: a changed configuration file or a
newly registered champion is noticed on the next call by the files' modification times (a SQLite store's
file; any other store is asked on every call), so a warm call reads no configuration.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from momorec.serving.requests import DEFAULT_K, RequestError, answer_requests, boolean, whole_number

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


def _files_stamp(paths: Iterable[Path]) -> tuple:
    """(path, mtime, size) of every file under ``paths``: changes when a file is edited, added or removed."""
    stamp = []
    for path in paths:
        if path.is_file():
            status = path.stat()
            stamp.append((str(path), status.st_mtime_ns, status.st_size))
        elif path.is_dir():
            for root, _, names in os.walk(path):
                for name in sorted(names):
                    status = os.stat(os.path.join(root, name))
                    stamp.append((os.path.join(root, name), status.st_mtime_ns, status.st_size))
    return tuple(stamp)


def _sqlite_files(tracking_uri: str) -> list[Path] | None:
    """The database file (and its journals) of a ``sqlite:///`` store; None for any other store."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    return [database, *(database.with_name(database.name + suffix) for suffix in ("-wal", "-journal"))]


@dataclass
class _Resolved:
    """What one project (and environment) resolved to, with the file stamps that would invalidate it."""

    config_stamp: tuple
    registry: RegistryModel
    registry_stamp: tuple | None = None
    version: str | None = None


# The warm path of `recommend` reads no configuration and asks no registry: the project root is found once
# per starting folder, the configuration again only when a file under conf/ changes, and the alias again only
# when a SQLite store's file changes (any other store is asked on every call). Before (issue 26) about 57 ms of a
# warm 70-90 ms call went to re-reading the configuration and the registry.
_ROOTS: dict[Path, Path] = {}
_RESOLVED: dict[tuple[Path, str | None], _Resolved] = {}
_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()


def _project_root(project_path: str | Path | None) -> Path:
    from kedro.utils import find_kedro_project

    start = (Path(project_path) if project_path is not None else Path.cwd()).expanduser().resolve()
    if start not in _ROOTS:
        root = find_kedro_project(start)
        if root is None:
            raise FileNotFoundError(
                f"no Kedro project at or above {start} (no pyproject.toml with [tool.kedro]); "
                "pass project_path= to momorec.recommend"
            )
        _ROOTS[start] = Path(root)
    return _ROOTS[start]


def _client(tracking_uri: str):
    from mlflow import MlflowClient

    if tracking_uri not in _CLIENTS:  # one store (and SQLAlchemy engine) per URI, not one per call
        _CLIENTS[tracking_uri] = MlflowClient(tracking_uri=tracking_uri)
    return _CLIENTS[tracking_uri]


@lru_cache(maxsize=4)
def _load(tracking_uri: str, model_uri: str, version: str):
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    logger.info("loading %s (version %s) from %s", model_uri, version, tracking_uri)
    return mlflow.pyfunc.load_model(model_uri)


def load_champion(project_path: str | Path | None = None, env: str | None = None):
    """The champion as a loaded pyfunc model, kept between calls (see the module's docstring)."""
    root = _project_root(project_path)
    conf = root / "conf"
    config_stamp = _files_stamp([conf / "base", conf / (env or "local")])
    with _LOCK:
        resolved = _RESOLVED.get((root, env))
        if resolved is None or resolved.config_stamp != config_stamp:
            resolved = _Resolved(config_stamp, project_registry_model(root, env))
            _RESOLVED[(root, env)] = resolved
        registry = resolved.registry
        store_files = _sqlite_files(registry.tracking_uri)
        registry_stamp = None if store_files is None else _files_stamp(store_files)
        if resolved.version is None or registry_stamp is None or registry_stamp != resolved.registry_stamp:
            client = _client(registry.tracking_uri)
            resolved.version = str(
                client.get_model_version_by_alias(registry.model_name, registry.alias).version
            )
            resolved.registry_stamp = registry_stamp
        version = resolved.version
    return _load(registry.tracking_uri, f"models:/{registry.model_name}/{version}", version)


def _id_list(ids: Any, name: str) -> list:
    """``ids`` as a list for the request's checks; one string or a non-list is refused here, not split."""
    if isinstance(ids, str | bytes) or not isinstance(ids, Sequence | np.ndarray | pd.Series):
        raise RequestError(f"{name}: expected a list of product ids, got {type(ids).__name__}")
    return list(ids)


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
    (``result.attrs["popularity_fallback"]``, the scores are then purchase counts). A bad argument (an id
    that is not a non-empty string, ``k`` not a whole number >= 1, ``exclude`` not a list) raises
    :class:`~momorec.serving.requests.RequestError`; a ``k`` above the catalogue size is clamped and said so
    in ``result.attrs["notes"]``.
    """
    request = pd.DataFrame(
        {
            "history": [_id_list(history, "history")],
            "k": pd.Series([whole_number(k, "k")], dtype=object),  # kept as given: no float/int recast
            "exclude": [_id_list([] if exclude is None else exclude, "exclude")],
        }
    )
    mask_history = boolean(mask_history, "mask_history")
    recommender = load_champion(project_path, env).unwrap_python_model().recommender
    # What the served model's predict runs, without MLflow's schema pass (the columns are typed "any", so it
    # checks nothing the request checks do not) and with RequestError itself for a bad argument.
    (answer,) = answer_requests(recommender, request, mask_history=mask_history).to_dict("records")
    for note in answer.get("notes", []):
        logger.warning("recommend: %s", note)
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
        unknown_items=list(answer["unknown_items"]),
        popularity_fallback=bool(answer["popularity_fallback"]),
        notes=list(answer.get("notes", [])),
    )
    return result
