"""Kedro's OmegaConfigLoader plus ``${project_path:}`` and this machine's LLM settings under every environment.

A relative path in configuration means "relative to the working directory" to the library that reads it;
the MLflow store (``sqlite:///mlflow.db``) then followed whoever started Python (a notebook kernel in
``notebooks/`` made a second, empty store there). ``${project_path:}`` pins such paths to the project: the
folder holding the configuration folder (``<project>/conf``), wherever Kedro or a kernel starts.

Kedro reads ``conf/base`` and the run's environment only, so ``kedro run --env scientific`` never saw the
endpoint and key a user had put into ``conf/local``, and quietly ran the embedded 135M model. This machine's
LLM settings are therefore read from ``conf/local`` on top of every environment: ``credentials*.yml`` (the
keys) and ``parameters_llm*.yml`` (the endpoints and which agents use them); everything else in
``conf/local`` stays what Kedro makes it, the default environment's overrides
(docs/configuration.md, "Your data and your LLM").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException, OmegaConfigLoader
from omegaconf import OmegaConf

LOCAL_ENV = "local"
# Files of conf/local read after any environment, by configuration key.
MACHINE_PATTERNS: dict[str, list[str]] = {
    "credentials": ["credentials*", "credentials*/**"],
    "parameters": ["parameters_llm*", "parameters_llm*/**"],
}


class ProjectConfigLoader(OmegaConfigLoader):
    """:class:`OmegaConfigLoader` that also resolves ``${project_path:}`` (POSIX, absolute) and reads
    ``conf/local``'s LLM files (``MACHINE_PATTERNS``) on top of any environment.

    The resolver is registered per loader, as Kedro registers ``${globals:}``: the last loader created
    (the session's) answers.
    """

    def __init__(self, conf_source: str | Path, *args: Any, **kwargs: Any) -> None:
        super().__init__(conf_source, *args, **kwargs)
        root = Path(conf_source).expanduser().resolve().parent.as_posix()
        OmegaConf.register_new_resolver("project_path", lambda: root, replace=True)

    def __getitem__(self, key: str) -> dict[str, Any]:
        run_env = self.env or self.default_run_env
        if key not in MACHINE_PATTERNS or run_env == LOCAL_ENV or key in self.data:
            # conf/local is the default environment (Kedro reads all of it); a value set on the loader stays
            return super().__getitem__(key)
        machine = self._machine_config(key)
        try:
            config = super().__getitem__(key)
        except MissingConfigException:
            if not machine:  # neither base, the environment nor conf/local has such a file
                raise
            return machine
        local_path = self._get_conf_env_path(LOCAL_ENV)
        return self._merge_configs(config, machine, key, local_path) if machine else config

    def _machine_config(self, key: str) -> dict[str, Any]:
        """``conf/local``'s files of ``MACHINE_PATTERNS[key]``, merged ({} when there are none)."""
        local_path = self._get_conf_env_path(LOCAL_ENV)
        if self._protocol != "file" or not Path(local_path).is_dir():
            return {}
        return self.load_and_merge_dir_config(
            local_path, MACHINE_PATTERNS[key], key, set(), read_environment_variables=key == "credentials"
        )
