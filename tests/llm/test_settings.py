"""The LLM settings are read once into typed settings; a wrong value is reported with its full key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from momorec.agents.stage import MotivationSettings
from momorec.llm.config import CallSettings, EndpointConfig, register_credentials
from momorec.llm.errors import LLMConfigError
from momorec.llm.settings import EmbeddedSettings, LLMSettings, alignment_llm_settings

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"
MOTIVATION = yaml.safe_load((CONF / "parameters_motivation.yml").read_text())["motivation"]
ALIGNMENT = yaml.safe_load((CONF / "parameters_alignment.yml").read_text())["alignment"]


def _with(params: dict, dotted: str, value) -> dict:
    """A copy of ``params`` with the key at ``dotted`` (a.b.c) set to ``value``."""
    changed = copy.deepcopy(params)
    *parents, last = dotted.split(".")
    node = changed
    for key in parents:
        node = node[key]
    node[last] = value
    return changed


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch):
    monkeypatch.delenv("MOMOREC_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    register_credentials({})


def test_the_shipped_parameters_parse_into_typed_settings():
    settings = MotivationSettings.from_params(MOTIVATION)
    assert settings.llm.endpoint("smollm2").is_embedded
    assert settings.llm.client.timeout_s == 45.0 and isinstance(settings.llm.client.concurrency, int)
    assert settings.llm.embedded == EmbeddedSettings(n_ctx=2048, startup_timeout_s=60.0)
    assert settings.analysis.summary.max_tokens == 32 and settings.judge.sampling.max_tokens == 40
    assert settings.called_models() == ["smollm2"] * 3  # grounding judge: the LLM judge is not asked
    settings.check()  # the embedded model needs no key
    name, alignment = alignment_llm_settings(ALIGNMENT["llm"])
    assert name == "alignment" and alignment.endpoint(name).is_embedded
    assert alignment.client.concurrency == 2


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("client.timeout_s", "fast", r"^motivation\.client\.timeout_s: expected float, got 'fast'"),
        ("client.concurrency", 0, r"^motivation\.client\.concurrency: must be >= 1, got 0"),
        ("client.concurrency", 2.5, r"^motivation\.client\.concurrency: expected int, got 2\.5"),
        ("client.show_progress", "yes", r"^motivation\.client\.show_progress: expected bool, got 'yes'"),
        ("client.max_failed_fraction", 2, r"^motivation\.client\.max_failed_fraction: must be in \[0, 1\]"),
        ("client.timeout", 5, r"^motivation\.client: unknown keys \['timeout'\]"),
        ("embedded.servers", 0, r"^motivation\.embedded\.servers: must be >= 1 or null, got 0"),
        ("embedded.n_ctx", "big", r"^motivation\.embedded\.n_ctx: expected int, got 'big'"),
        ("models.smollm2.base_url", "localhost:8000", r"^motivation\.models\.smollm2\.base_url: expected an http\(s\) URL or null, got scheme 'localhost'"),
        ("models.smollm2.base_url", "https://u:pw@host/v1", r"^motivation\.models\.smollm2\.base_url carries a pass"),
        ("models.smollm2.base_url", "https://host/v1?api-key=sk-1", r"^motivation\.models\.smollm2\.base_url carries"),
        ("models.smollm2.require_api_key", "no", r"^motivation\.models\.smollm2\.require_api_key: expected true"),
        ("models.smollm2.structured_output", "xml", r"^motivation\.models\.smollm2: .*structured_output must be"),
        ("models.smollm2.api_key", "sk-x", r"^motivation\.models\.smollm2: unknown keys \['api_key'\]"),
        ("models", {}, r"^motivation\.models: no model is configured"),
        ("generation.max_tokens", "80", r"^motivation\.generation\.max_tokens: expected int, got '80'"),
        ("generation.temprature", 0.2, r"^motivation\.generation: unknown keys \['temprature'\]"),
        ("summary.max_tokens", 0, r"^motivation\.summary\.max_tokens: must be >= 1, got 0"),
        ("summary.attempts", 0, r"^motivation\.summary\.attempts: must be >= 1, got 0"),
        ("summary.top_p", 1.5, r"^motivation\.summary\.top_p: must be in \(0, 1\]"),
        ("judge.max_tokens", None, r"^motivation\.judge\.max_tokens: expected int, got null"),
        ("judge.top_logprobs", "five", r"^motivation\.judge\.top_logprobs: expected int or null, got 'five'"),
        ("judge.model", None, r"^motivation\.judge\.model: expected str, got null"),
        ("json_mode", "true", r"^motivation\.json_mode: expected bool, got 'true'"),
        ("arena_pairs", "8", r"^motivation\.arena_pairs: expected int, got '8'"),
        ("agents.sampling", {"hot": {"temperature": "high"}},
         r"^motivation\.agents\.sampling\.hot\.temperature: expected float, got 'high'"),
    ],
)  # fmt: skip
def test_a_bad_motivation_setting_names_its_key(key, value, message):
    with pytest.raises(LLMConfigError, match=message):
        MotivationSettings.from_params(_with(MOTIVATION, key, value))


def test_an_agent_model_that_is_not_configured_names_where_models_are():
    settings = MotivationSettings.from_params(_with(MOTIVATION, "agents.models", ["gpt"]))
    with pytest.raises(LLMConfigError, match=r"model 'gpt' is not defined under motivation\.models"):
        settings.check()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("endpoint.model", None, r"^alignment\.llm\.endpoint\.model is required"),
        ("client.deadline_s", 0, r"^alignment\.llm\.client\.deadline_s: must be > 0 or null, got 0"),
        ("client.retries", 2, r"^alignment\.llm\.client: unknown keys \['retries'\]"),
        ("embedded.n_threads", "two", r"^alignment\.llm\.embedded\.n_threads: expected int or null"),
    ],
)
def test_a_bad_alignment_llm_setting_names_its_key(key, value, message):
    with pytest.raises(LLMConfigError, match=message):
        alignment_llm_settings(_with(ALIGNMENT["llm"], key, value))


def test_a_remote_endpoint_needs_a_key_unless_it_says_it_takes_none(monkeypatch):
    remote = {"model": "m", "base_url": "http://127.0.0.1:8000/v1"}
    settings = LLMSettings.from_params({"vllm": remote}, {}, {}, "motivation")
    with pytest.raises(LLMConfigError) as error:
        settings.check_api_keys(["vllm"])
    assert "conf/local/credentials.yml" in str(error.value) and "MOMOREC_LLM_API_KEY" in str(error.value)
    assert "require_api_key: false" in str(error.value)
    keyless = LLMSettings.from_params({"vllm": {**remote, "require_api_key": False}}, {}, {}, "motivation")
    keyless.check_api_keys(["vllm"])
    monkeypatch.setenv("MOMOREC_LLM_API_KEY", "sk-from-the-environment-1234")
    LLMSettings.from_params({"vllm": remote}, {}, {}, "motivation").check_api_keys(["vllm"])


def test_the_logged_base_url_carries_no_secret():
    endpoint = EndpointConfig(
        name="azure",
        model="gpt",
        base_url="https://user:pw@example.azure.com:8443/openai/v1?api-key=sk-secret#x",
    )
    assert endpoint.public_base_url == "https://example.azure.com:8443/openai/v1"
    assert endpoint.describe()["base_url"] == "https://example.azure.com:8443/openai/v1"
    settings = LLMSettings(endpoints={"azure": endpoint})
    assert settings.describe(["azure"]) == {
        "azure": {"model": "gpt", "base_url": "https://example.azure.com:8443/openai/v1"}
    }


def test_call_settings_from_params_keeps_types_and_defaults():
    settings = CallSettings.from_params({"concurrency": 8, "timeout_s": 30, "deadline_s": None}, "x.client")
    assert settings == CallSettings(concurrency=8, timeout_s=30.0, deadline_s=None)
    assert isinstance(settings.timeout_s, float)
