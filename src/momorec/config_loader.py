"""Kedro's OmegaConfigLoader plus ``${project_path:}``, the project's root folder.

A relative path in configuration means "relative to the working directory" to the library that reads it;
the MLflow store (``sqlite:///mlflow.db``) then followed whoever started Python (a notebook kernel in
``notebooks/`` made a second, empty store there). ``${project_path:}`` pins such paths to the project: the
folder holding the configuration folder (``<project>/conf``), wherever Kedro or a kernel starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader
from omegaconf import OmegaConf


class ProjectConfigLoader(OmegaConfigLoader):
    """:class:`OmegaConfigLoader` that also resolves ``${project_path:}`` (POSIX, absolute).

    The resolver is registered per loader, as Kedro registers ``${globals:}``: the last loader created
    (the session's) answers.
    """

    def __init__(self, conf_source: str | Path, *args: Any, **kwargs: Any) -> None:
        super().__init__(conf_source, *args, **kwargs)
        root = Path(conf_source).expanduser().resolve().parent.as_posix()
        OmegaConf.register_new_resolver("project_path", lambda: root, replace=True)
