"""Kedro on a ``dask.distributed`` cluster: every node is one Dask task, started once its inputs exist.

    kedro run --env dask --runner momorec.runner.DaskRunner
    kedro run --env dask --runner momorec.runner.DaskRunner --runner-params address=tcp://scheduler:8786

The scheduler address comes from ``--runner-params address=...``, else the ``MOMOREC_DASK_ADDRESS``
environment variable, else the runner starts a ``LocalCluster`` of processes on this machine (``n_workers``,
default 2) for the run and closes it afterwards.

What crosses processes, and how (docs/scaling.md):

- Every dataset is loaded and saved on the worker that runs the node, so a dataset written by one node and
  read by another must live on storage every worker sees. The catalog of ``conf/dask`` declares the
  pipelines' intermediate results that default to in-memory datasets; the runner refuses to start when a
  ``MemoryDataset`` connects two nodes, naming the datasets. Parameters (``params:*``) travel with the catalog.
- Node and dataset hooks of plugins do not run on workers (as with Kedro's ``ParallelRunner``); the project's
  own hooks do. Pipeline hooks run here, so kedro-mlflow starts and ends the MLflow run in this process, and
  the runner hands its tracking URI and run id to the workers so MLflow datasets log into that run.
- LLM credentials registered from ``credentials.yml`` live in this process only: on workers the keys come
  from the environment (``MOMOREC_LLM_API_KEY``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from typing import TYPE_CHECKING, Any

from kedro.io import MemoryDataset
from kedro.runner import AbstractRunner
from kedro.runner.task import Task

if TYPE_CHECKING:
    from distributed import Client
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node
    from pluggy import PluginManager

ADDRESS_ENV = "MOMOREC_DASK_ADDRESS"


def _mlflow_run() -> dict[str, str]:
    """The tracking URI and id of this process's active MLflow run, as the env variables MLflow reads."""
    try:
        import mlflow
    except ImportError:  # pragma: no cover - mlflow is a project dependency
        return {}
    run = mlflow.active_run()
    if run is None:
        return {}
    return {"MLFLOW_TRACKING_URI": mlflow.get_tracking_uri(), "MLFLOW_RUN_ID": run.info.run_id}


def run_node_on_worker(
    node: Node,
    catalog: CatalogProtocol,
    is_async: bool,
    run_id: str | None,
    package_name: str,
    mlflow_env: dict[str, str],
    *upstream: Any,
) -> Node:
    """Run one node on a Dask worker: the project configured there, with the project's own hooks only.

    ``upstream`` are the futures of the nodes this one depends on; Dask passes their results only once they
    finished, which orders the nodes.
    """
    from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks
    from kedro.framework.project import PACKAGE_NAME, configure_project, settings

    if package_name != PACKAGE_NAME:
        configure_project(package_name)
    os.environ.update(mlflow_env)  # MLflow datasets log into the run started by the driver
    hook_manager = _create_hook_manager()
    _register_hooks(hook_manager, settings.HOOKS)
    return Task(
        node=node, catalog=catalog, is_async=is_async, hook_manager=hook_manager, run_id=run_id
    ).execute()


class DaskRunner(AbstractRunner):
    """Runs a pipeline's nodes as tasks on a ``dask.distributed`` cluster (the scheduler orders them).

    Args:
        address: scheduler address (``tcp://host:8786``); default ``$MOMOREC_DASK_ADDRESS``, else a
            ``LocalCluster`` started for the run.
        n_workers: worker processes of that ``LocalCluster`` (ignored with an address).
        threads_per_worker: threads per ``LocalCluster`` worker.
        is_async: load and save each node's datasets with threads (Kedro's ``--async``).
    """

    def __init__(
        self,
        address: str | None = None,
        n_workers: int = 2,
        threads_per_worker: int = 1,
        is_async: bool = False,
    ) -> None:
        super().__init__(is_async=is_async)
        self._address = address or os.environ.get(ADDRESS_ENV) or None
        self._n_workers = int(n_workers)
        self._threads_per_worker = int(threads_per_worker)
        if self._n_workers < 1 or self._threads_per_worker < 1:
            raise ValueError("DaskRunner: n_workers and threads_per_worker must be >= 1")

    def _get_executor(self, max_workers: int) -> None:
        return None  # the Dask client schedules; see _run

    @contextmanager
    def _client(self) -> Iterator[Client]:
        from distributed import Client, LocalCluster

        if self._address:
            with Client(self._address) as client:
                yield client
            return
        with (
            LocalCluster(
                n_workers=self._n_workers,
                threads_per_worker=self._threads_per_worker,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client

    @staticmethod
    def _validate_shared_storage(pipeline: Pipeline, catalog: CatalogProtocol) -> None:
        """Refuse in-memory datasets that one node writes and another node reads: workers cannot share them."""
        crossing = sorted(
            name
            for name in pipeline.all_outputs() & set(chain.from_iterable(n.inputs for n in pipeline.nodes))
            if isinstance(catalog.get(name, fallback_to_runtime_pattern=True), MemoryDataset)
        )
        if crossing:
            raise ValueError(
                f"DaskRunner: dataset(s) {crossing} are in-memory but pass between nodes, which run in "
                "different processes. Declare them with a filepath on storage every worker can read "
                "(conf/dask/catalog.yml holds the project's; run with --env dask)."
            )

    def _run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
    ) -> None:
        from distributed import as_completed
        from kedro.framework.project import PACKAGE_NAME

        self._validate_shared_storage(pipeline, catalog)
        nodes = pipeline.nodes  # topologically sorted: every dependency is submitted before its dependants
        dependencies = pipeline.node_dependencies
        load_counts = Counter(chain.from_iterable(n.inputs for n in nodes))
        mlflow_env = _mlflow_run()
        done: list[Node] = []
        with self._client() as client:
            self._logger.info("Dask scheduler %s, %d node(s)", client.scheduler.address, len(nodes))
            # One copy of the catalog per worker, instead of one pickled with every task.
            shared_catalog = client.scatter(catalog, broadcast=True, hash=False)
            futures = {}
            for node in nodes:
                futures[node] = client.submit(
                    run_node_on_worker,
                    node,
                    shared_catalog,
                    self._is_async,
                    run_id,
                    PACKAGE_NAME,
                    mlflow_env,
                    *(futures[upstream] for upstream in dependencies[node]),
                    key=f"kedro-node-{node.name}-{run_id}",
                    pure=False,
                )
            try:
                for future in as_completed(futures.values()):
                    node = future.result()  # re-raises the node's error here
                    done.append(node)
                    self._logger.info("Completed node: %s (%d of %d)", node.name, len(done), len(nodes))
                    self._release_datasets(node, catalog, load_counts, pipeline)
            except Exception:
                client.cancel(list(futures.values()))
                self._suggest_resume_scenario(pipeline, done, catalog)
                raise
