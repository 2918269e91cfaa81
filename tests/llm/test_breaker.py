"""The circuit breaker: open after consecutive transport failures, closed by any answer."""

from __future__ import annotations

import pytest

from socialsim.llm.breaker import Breaker, EndpointOpen, fix_for, short_reason
from socialsim.llm.retry import PermanentError, TransientError, TransportError


async def _fail(exc: Exception):
    raise exc


async def _ok():
    return "answer"


async def test_opens_after_the_threshold_and_names_the_endpoint_and_the_fix():
    breaker = Breaker("http://127.0.0.1:9/v1", threshold=3, api_base="http://127.0.0.1:9/v1")
    refused = TransportError("cannot reach http://127.0.0.1:9/v1: Connect call failed")
    for _ in range(3):
        with pytest.raises(TransportError):
            await breaker.attempt(lambda: _fail(refused), 5, "timeout after 5s")
    sent = []
    with pytest.raises(EndpointOpen) as caught:
        await breaker.attempt(lambda: sent.append(1) or _ok(), 5, "timeout after 5s")
    assert sent == []  # refused without sending
    assert str(caught.value) == (
        "model endpoint http://127.0.0.1:9/v1 failed 3 requests in a row (connection refused); "
        "check that the server is running or check agents.llm.api_base"
    )
    assert breaker.tripped == str(caught.value)


async def test_any_answer_resets_the_count_and_rate_limits_do_not_count():
    breaker = Breaker("e", threshold=2)
    for outcome in (TransportError("HTTP 503"), TransientError("HTTP 429"),
                    TransportError("HTTP 503"), PermanentError("HTTP 400"),
                    TransportError("HTTP 500")):  # fmt: skip
        with pytest.raises(type(outcome)):
            await breaker.attempt(lambda o=outcome: _fail(o), 5, "t")
    assert breaker.tripped is None and breaker.failures == 1
    assert await breaker.attempt(_ok, 5, "t") == "answer" and breaker.failures == 0


async def test_a_timeout_counts_and_after_the_cooldown_one_attempt_is_let_through():
    import asyncio

    breaker = Breaker("e", threshold=1, cooldown=0.0)

    async def hang():
        await asyncio.sleep(10)

    with pytest.raises(TransportError, match="timeout after 0.01s"):
        await breaker.attempt(hang, 0.01, "timeout after 0.01s")
    assert "(timeout after 0.01s)" in breaker.tripped
    assert await breaker.attempt(_ok, 5, "t") == "answer"  # cooldown over: tried, and closed
    assert breaker.tripped is None


def test_zero_never_opens():
    breaker = Breaker("e", threshold=0)
    for _ in range(100):
        breaker.failure("HTTP 503")
    breaker.check()
    assert breaker.tripped is None


@pytest.mark.parametrize(
    ("message", "reason", "fix"),
    [
        ("cannot reach http://h/v1: [Errno 111] Connect call failed", "connection refused",
         "check that the server is running"),
        ("timeout after 60s (timeout)", "timeout after 60s", "raise agents.llm.timeout"),
        ("HTTP 503 from http://h/v1/chat/completions: busy", "HTTP 503", "server's own log"),
        ("ServerDisconnectedError from http://h/v1: Server disconnected", "connection reset",
         "check that the server is running"),
        ("HTTP 401 from http://h/v1: bad key", "HTTP 401", "check the API key in $MY_KEY"),
    ],
)  # fmt: skip
def test_reasons_and_fixes(message, reason, fix):
    assert short_reason(message) == reason
    assert fix in fix_for(message, "http://h/v1", "MY_KEY")
