"""Before a run: every LLM stage the pipeline holds has valid settings and a key for each endpoint it calls.

The clients are built inside nodes, after the data stages; without this check a missing key, a typo in a
setting or an unknown model would stop the run only when the first LLM node starts. The settings are parsed
by the same functions the nodes use (``MotivationSettings``, ``alignment_llm_settings``), so the check and
the run cannot disagree.
"""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

MOTIVATION_PARAMS = "params:motivation"
ALIGNMENT_PARAMS = "params:alignment"


def check_llm_stages(dataset_names: set[str], load: Any) -> None:
    """Parse and check the LLM settings a pipeline reads (``load(name)`` loads a parameter dataset)."""
    # Imported here: settings.py imports this module, and the Kedro CLI should start without pandas.
    from momorec.agents.stage import MotivationSettings
    from momorec.llm.settings import alignment_llm_settings

    if MOTIVATION_PARAMS in dataset_names:
        MotivationSettings.from_params(load(MOTIVATION_PARAMS)).check()
    if ALIGNMENT_PARAMS in dataset_names:
        name, settings = alignment_llm_settings(load(ALIGNMENT_PARAMS)["llm"])
        settings.check_api_keys([name])


class LLMPreflightHook:
    # tryfirst: stop before kedro-mlflow's own before_pipeline_run opens a run that nothing would close.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        check_llm_stages(set(pipeline.datasets()), catalog.load)
