"""The credentials hook hands conf/<env>/credentials.yml's ``llm`` section to the key resolver."""

from types import SimpleNamespace

import pytest
from kedro.config import MissingConfigException

from momorec.llm.config import register_credentials, resolve_api_key
from momorec.llm.hooks import LLMCredentialsHook


def test_hook_registers_the_llm_credentials(monkeypatch):
    monkeypatch.delenv("MOMOREC_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    context = SimpleNamespace(
        config_loader={"credentials": {"llm": {"api_key": "sk-from-yaml"}, "other": {}}}
    )
    try:
        LLMCredentialsHook().after_context_created(context)
        assert resolve_api_key("any_model").reveal() == "sk-from-yaml"
        LLMCredentialsHook().after_context_created(SimpleNamespace(config_loader={"credentials": {}}))
        assert resolve_api_key("any_model") is None
    finally:
        register_credentials({})


@pytest.mark.parametrize("missing", [KeyError, MissingConfigException])
def test_hook_tolerates_a_project_without_credentials_files(monkeypatch, missing):
    class NoCredentials(dict):
        def __getitem__(self, key):
            raise missing(key)

    monkeypatch.delenv("MOMOREC_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    register_credentials({"api_key": "left-over-from-an-earlier-run"})
    LLMCredentialsHook().after_context_created(SimpleNamespace(config_loader=NoCredentials()))
    assert resolve_api_key("m") is None  # the hook replaced the earlier credentials with none
    register_credentials({})
