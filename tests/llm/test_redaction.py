"""One redaction step: configured keys and credential-shaped values never reach stored or logged text."""

from __future__ import annotations

import logging

import pytest

from momorec.llm.config import Secret, register_credentials
from momorec.llm.redaction import REDACTED, RedactingFilter, install_log_redaction, redact, register_secret


def test_a_secret_is_redacted_wherever_it_appears_once_created():
    value = "plain-looking-key-7f3a9"  # no recognisable shape: only registration can find it
    assert redact(f"echo {value}") == f"echo {value}"
    Secret(value)
    assert redact(f"echo {value}!") == f"echo {REDACTED}!"


def test_keys_from_the_credentials_file_are_registered():
    try:
        register_credentials({"api_key": "creds-top-level-5511", "gpt": {"api_key": "creds-per-model-6622"}})
        assert "creds" not in redact("a creds-top-level-5511 b creds-per-model-6622")
    finally:
        register_credentials({})


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefghijklmnop",
        "{'authorization': 'Bearer abcdefghijklmnop'}",
        '{"Authorization": "abcdefghijklmnop"}',
        "got bearer abcdefghijklmnop from the client",
        "key sk-proj-abcdefghijklmnop in a message",
        "url?api_key=abcdefghijklmnop&x=1",
        '{"x-api-key": "abcdefghijklmnop"}',
        "access_token=abcdefghijklmnop",
    ],
)
def test_credential_shaped_values_are_redacted_without_registration(text):
    cleaned = redact(text)
    assert "abcdefghijklmnop" not in cleaned and REDACTED in cleaned


def test_ordinary_text_is_unchanged():
    text = "HTTP 500: upstream error; the task was skipped (model smollm2, 12 tokens)"
    assert redact(text) == text
    assert redact(None) == ""


def test_short_values_are_not_treated_as_secrets():
    register_secret("abc")
    assert redact("abc def") == "abc def"


def test_the_log_filter_redacts_messages_arguments_and_exceptions(tmp_path):
    secret = "logged-secret-value-9931"
    Secret(secret)
    logger = logging.getLogger("momorec.tests.redaction")
    handler = logging.FileHandler(tmp_path / "log.txt")
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_log_redaction()
        install_log_redaction()  # idempotent: one filter per handler
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
        logger.warning("key %s in arguments", secret)
        logger.warning(f"key {secret} in the message")
        try:
            raise RuntimeError(f"error with {secret}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        root.removeHandler(handler)
        handler.close()
    written = (tmp_path / "log.txt").read_text()
    assert secret not in written
    assert written.count(REDACTED) == 3 and "RuntimeError" in written
