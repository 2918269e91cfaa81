"""LLMClient through litellm, offline with litellm's mock_response."""

from __future__ import annotations

import asyncio
import random

import pytest
from pydantic import BaseModel

from socialsim.llm import LLMClient, LLMConfig, LLMRequest
from socialsim.llm.litellm_route import get_litellm
from socialsim.llm.retry import RetryPolicy


class Vote(BaseModel):
    choice: str
    confidence: float


def ask(text: str = "hello", **kw) -> LLMRequest:
    return LLMRequest(messages=[{"role": "user", "content": text}], **kw)


def fast_retry(retries: int = 2) -> RetryPolicy:
    return RetryPolicy(retries=retries, base=0.001, cap=0.002, rng=random.Random(0))


@pytest.fixture
def client(tmp_path):
    c = LLMClient(
        LLMConfig(model="gpt-4o-mini", retries=2), tmp_path / "c.sqlite", retry=fast_retry()
    )
    yield c
    c.close()


def test_text_answer_with_accounting(client):
    [res] = client.run([ask(extra={"mock_response": "Hi there"}, tag="greet")])
    assert res.ok and res.text == "Hi there"
    rec = res.record
    assert rec.route == "litellm" and rec.model == "gpt-4o-mini" and rec.tag == "greet"
    assert rec.attempts == 1 and not rec.cached and rec.error is None
    assert rec.completion_tokens > 0 and rec.prompt_tokens > 0
    assert rec.cost is not None and rec.cost > 0  # gpt-4o-mini is in litellm's cost map
    assert rec.as_payload()["prompt_id"] == "greet"
    assert client.stats["calls"] == 1 and client.stats["errors"] == 0


def test_structured_answer_is_a_validated_instance(client):
    [res] = client.run(
        [ask(schema=Vote, extra={"mock_response": '{"choice": "A", "confidence": 0.8}'})]
    )
    assert res.ok and res.value == Vote(choice="A", confidence=0.8)


def test_structured_failure_is_typed_and_does_not_raise(client):
    [res] = client.run([ask(schema=Vote, extra={"mock_response": "I would pick A."})])
    assert not res.ok and res.value is None
    assert res.error.startswith("structured:")
    assert res.record.error == res.error
    assert res.record.attempts == 2  # the answer and one repair round
    assert not res.record.repaired


def test_rate_limit_is_retried_then_reported(client):
    [res] = client.run([ask(extra={"mock_response": "litellm.RateLimitError"})])
    assert res.error.startswith("transient:") and "RateLimit" in res.error
    assert res.record.attempts == 3  # 1 + retries
    assert client.stats["errors"] == 1


def test_permanent_errors_are_not_retried(client):
    lt = get_litellm()
    bad = lt.AuthenticationError("invalid key", model="gpt-4o-mini", llm_provider="openai")
    [res] = client.run([ask(extra={"mock_response": bad})])
    assert res.error.startswith("permanent:") and "AuthenticationError" in res.error
    assert res.record.attempts == 1


def test_per_request_model_and_params_override(client):
    [res] = client.run(
        [ask(model="anthropic/claude-3-haiku-20240307", extra={"mock_response": "x"})]
    )
    assert res.ok and res.record.model == "anthropic/claude-3-haiku-20240307"


def test_order_is_preserved_and_errors_stay_in_place(client):
    reqs = [ask(f"q{i}", extra={"mock_response": f"a{i}"}) for i in range(10)]
    reqs[4] = ask("q4", extra={"mock_response": "litellm.RateLimitError"})
    results = client.run(reqs)
    assert [r.text for i, r in enumerate(results) if i != 4] == [
        f"a{i}" for i in range(10) if i != 4
    ]
    assert not results[4].ok


def test_errors_are_not_cached(client):
    client.run([ask(extra={"mock_response": "litellm.RateLimitError"})])
    [again] = client.run([ask(extra={"mock_response": "litellm.RateLimitError"})])
    assert not again.record.cached and again.record.attempts == 3


def test_cached_rerun_replays_without_a_call(client):
    req = ask("same", schema=Vote, extra={"mock_response": '{"choice": "B", "confidence": 0.5}'})
    [first] = client.run([req])
    model_calls = client.stats["model_calls"]
    [second] = client.run([req])
    assert second.record.cached and second.value == first.value
    assert client.stats["model_calls"] == model_calls
    assert client.stats["cached"] == 1


async def test_async_api_and_sync_run_inside_a_running_loop(client):
    res = await client.complete(ask(extra={"mock_response": "async"}))
    assert res.text == "async"
    many = await client.complete_many(
        [ask(str(i), extra={"mock_response": str(i)}) for i in range(5)]
    )
    assert [r.text for r in many] == [str(i) for i in range(5)]
    # the sync wrapper works while this test's loop is running (as in Jupyter)
    [res] = client.run([ask(extra={"mock_response": "sync"})])
    assert res.text == "sync"
    await asyncio.sleep(0)


def test_keyless_local_server_through_litellm_gets_a_placeholder_key(monkeypatch):
    from socialsim.llm import LLMClient, LLMConfig

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    local = LLMClient(LLMConfig(model="openai/x", api_base="http://127.0.0.1:9/v1", cache=False))
    assert local._litellm_key("openai/x", "http://127.0.0.1:9/v1") == "no-key"
    assert local._litellm_key("anthropic/claude", None) is None
    monkeypatch.setenv("MY_KEY", "sk-secret")
    keyed = LLMClient(LLMConfig(model="openai/x", api_key_env="MY_KEY", cache=False))
    assert keyed._litellm_key("openai/x", "http://127.0.0.1:9/v1") == "sk-secret"
    local.close()
    keyed.close()
