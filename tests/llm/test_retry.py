"""Backoff bounds and which errors are retried."""

from __future__ import annotations

import random

import pytest

from socialsim.llm.retry import (
    CallFailed,
    PermanentError,
    RetryPolicy,
    TransientError,
    backoff_delay,
)


def test_backoff_delay_is_full_jitter_under_exponential_cap():
    assert backoff_delay(0, base=0.5, cap=20, u=1.0) == 0.5
    assert backoff_delay(3, base=0.5, cap=20, u=1.0) == 4.0
    assert backoff_delay(10, base=0.5, cap=20, u=1.0) == 20.0  # capped
    assert backoff_delay(3, base=0.5, cap=20, u=0.0) == 0.0
    assert backoff_delay(3, base=0.5, cap=20, u=0.25) == 1.0


def _recording_policy(retries: int, seed: int = 1) -> tuple[RetryPolicy, list[float]]:
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)

    return RetryPolicy(
        retries=retries, base=1.0, cap=3.0, rng=random.Random(seed), sleep=sleep
    ), sleeps


async def test_transient_errors_are_retried_until_success():
    policy, sleeps = _recording_policy(retries=5)
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise TransientError("503")
        return "ok"

    value, attempts = await policy.run(flaky)
    assert (value, attempts, calls) == ("ok", 4, 4)
    assert len(sleeps) == 3
    for i, s in enumerate(sleeps):
        assert 0.0 <= s <= min(3.0, 2.0**i)


async def test_jitter_comes_from_the_injected_rng():
    async def always() -> None:
        raise TransientError("429")

    a, sleeps_a = _recording_policy(retries=3, seed=7)
    b, sleeps_b = _recording_policy(retries=3, seed=7)
    for policy in (a, b):
        with pytest.raises(CallFailed):
            await policy.run(always)
    assert sleeps_a == sleeps_b
    u = random.Random(7)
    assert sleeps_a == [backoff_delay(i, 1.0, 3.0, u.random()) for i in range(3)]


async def test_transient_errors_give_up_after_retries():
    policy, sleeps = _recording_policy(retries=2)

    async def always() -> None:
        raise TransientError("HTTP 503")

    with pytest.raises(CallFailed) as info:
        await policy.run(always)
    assert info.value.attempts == 3
    assert info.value.transient
    assert str(info.value).startswith("transient: HTTP 503")
    assert len(sleeps) == 2


async def test_permanent_errors_are_not_retried():
    policy, sleeps = _recording_policy(retries=5)
    calls = 0

    async def bad() -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("HTTP 401")

    with pytest.raises(CallFailed) as info:
        await policy.run(bad)
    assert calls == 1 and info.value.attempts == 1 and not info.value.transient
    assert sleeps == []


async def test_no_retry_starts_that_would_begin_past_the_deadline():
    import time

    async def fail() -> str:
        raise TransientError("503")

    policy, sleeps = _recording_policy(retries=5)
    with pytest.raises(CallFailed) as caught:
        await policy.run(fail, deadline=time.monotonic())
    assert caught.value.attempts == 1 and sleeps == [] and caught.value.transient
    policy, sleeps = _recording_policy(retries=5)
    with pytest.raises(CallFailed) as caught:
        await policy.run(fail, deadline=time.monotonic() + 3600)
    assert caught.value.attempts == 6 and len(sleeps) == 5
