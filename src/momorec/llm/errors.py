"""Errors of the LLM layer that stop a run: they always name the endpoint, never the key."""


class LLMError(RuntimeError):
    """Base class of the LLM layer's fatal errors."""


class LLMConfigError(LLMError):
    """The LLM configuration is unusable (missing key for an endpoint that needs one, unknown model, ...)."""


class LLMEndpointUnreachable(LLMError):
    """Nothing answered at the configured endpoint after every retry."""


class LLMAuthenticationError(LLMError):
    """The endpoint refused the API key (HTTP 401/403)."""
