"""Kedro project settings for momorec."""

from momorec.config_loader import ProjectConfigLoader
from momorec.llm.hooks import LeakCanarySwitchHook, LLMCredentialsHook
from momorec.llm_preflight import LLMPreflightHook
from momorec.tracking import CloseMlflowRunsHook, CodeCommitTagHook, StaleMlflowRunsHook

# The LLM clients are built inside nodes; the first hook hands them the `llm` section of credentials.yml (and
# redacts log output), the second checks every LLM stage's settings and keys before the run starts, the third
# stops a run whose leak canary would call a paid endpoint unless leak_canary.enabled allows it. The MLflow
# ones (momorec.tracking) end kedro-mlflow's run when the pipeline ends (it stays active in the process
# otherwise), mark runs left RUNNING by killed processes as FAILED and tag the run with the code's git commit.
HOOKS = (
    LLMCredentialsHook(),
    LLMPreflightHook(),
    LeakCanarySwitchHook(),
    CloseMlflowRunsHook(),
    StaleMlflowRunsHook(),
    CodeCommitTagHook(),
)

# OmegaConfigLoader + ${project_path:}: the MLflow store is found from the project root (conf/base/mlflow.yml);
# conf/local's credentials*.yml and parameters_llm*.yml are read on top of every environment.
CONFIG_LOADER_CLASS = ProjectConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment's parameter file overrides single keys of base (e.g. `recommender.epochs`) instead of
    # replacing the whole top-level block, so `--params data_engineering.k_core=0` works in every env too.
    "merge_strategy": {"parameters": "soft"},
}
