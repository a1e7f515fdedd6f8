"""The credentials hook hands conf/<env>/credentials.yml's ``llm`` section to the key resolver."""

from types import SimpleNamespace

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


def test_hook_tolerates_a_project_without_credentials_files():
    class NoCredentials(dict):
        def __getitem__(self, key):
            raise KeyError(key)

    LLMCredentialsHook().after_context_created(SimpleNamespace(config_loader=NoCredentials()))
    register_credentials({})
