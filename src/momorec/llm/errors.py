"""Errors of the LLM layer that stop a run: they always name the endpoint, never the key."""

import click


class LLMError(RuntimeError):
    """Base class of the LLM layer's fatal errors."""


class LLMConfigError(LLMError):
    """The LLM configuration is unusable (missing key for an endpoint that needs one, unknown model, ...)."""


class LLMEndpointUnreachable(LLMError):
    """Nothing answered at the configured endpoint after every retry."""


class LLMAuthenticationError(LLMError):
    """The endpoint refused the API key (HTTP 401/403)."""


class LLMEndpointFailing(LLMError):
    """Several requests in a row failed on the endpoint's side (the circuit breaker opened)."""


class LLMRateLimited(LLMError):
    """The endpoint answered only HTTP 429 (rate limited) for longer than the model's ``limits.max_wait_s``."""


class LLMDryRun(LLMError, click.exceptions.Exit):
    """A dry run ends before its first LLM call: the estimate is written, nothing is asked and nothing made up.

    It stops the run like any error (no later node runs, the previous outputs stay as they were), but it is
    also click's ``Exit`` with status 0, so ``kedro run --params <stage>.dry_run=true`` ends successfully.
    """

    def __init__(self, message: str) -> None:
        LLMError.__init__(self, message)
        self.exit_code = 0


class LLMFailureBudgetExceeded(LLMError):
    """A stage's share of failed requests is above its failure budget (``max_failed_fraction``)."""


# How a failed stage can be resumed; part of every stage-stopping message.
RESUME_HINT = (
    "Answered calls are kept in the LLM cache (llm_cache): fix the endpoint and run again, and only the "
    "missing calls are made."
)
