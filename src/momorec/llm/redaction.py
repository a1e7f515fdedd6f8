"""One redaction step for every text the LLM layer stores or logs.

An endpoint's error body, an exception message or a header dump can carry an API key: a proxy that echoes
the ``Authorization`` header, a server that repeats the request in its error. Every such text goes through
``redact`` before it reaches the cache, a dataset, MLflow or a log line. Two things are replaced:

- every key this process knows (each ``Secret`` registers its value when it is created, see
  ``momorec.llm.config``), wherever it appears;
- anything shaped like a credential even if it was never configured: ``Bearer <token>``,
  ``Authorization: <value>``, OpenAI-style ``sk-...`` keys, and ``api_key=<value>`` / ``"api_key": "<value>"``
  (also ``access_token`` and ``password``).

``RedactingFilter`` applies the same step to log records (installed on the root handlers by the Kedro hook).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

REDACTED = "[REDACTED]"
# Shorter values are not treated as secrets: replacing every "a" or "not-needed" would garble texts.
MIN_SECRET_LENGTH = 6

_CREDENTIAL_PATTERNS = (
    # Authorization header values of any scheme, and bare bearer tokens.
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+|basic\s+|token\s+)?[^\s\"',;}]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{6,}"),
    # OpenAI / Anthropic / many proxies: sk-..., sk-proj-..., sk-ant-...
    re.compile(r"()\bsk-[A-Za-z0-9_\-]{8,}"),
    # key=value and "key": "value" forms of api keys, tokens and passwords.
    re.compile(
        r"(?i)((?:api[_-]?key|x-api-key|access[_-]?token|password)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]+"
    ),
)

_known_secrets: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that ``redact`` replaces it wherever it appears."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _known_lock:
            _known_secrets.add(value)


def redact(text: Any) -> str:
    """``text`` (any object, as ``str``) with every known secret and credential-shaped value replaced."""
    result = "" if text is None else str(text)
    with _known_lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)  # longest first: a key containing another
    for secret in secrets:
        if secret in result:
            result = result.replace(secret, REDACTED)
    for pattern in _CREDENTIAL_PATTERNS:
        result = pattern.sub(lambda match: f"{match.group(1)}{REDACTED}", result)
    return result


class RedactingFilter(logging.Filter):
    """Redacts a record's message (with its arguments merged in) and its exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format: logging reports it itself
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(exc_text)
            # The formatter reuses exc_text when set; the raw exception is no longer needed for output.
            record.exc_info = None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add one ``RedactingFilter`` to every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
