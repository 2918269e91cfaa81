"""Retry with exponential backoff and full jitter, on transient errors only.

Backends raise :class:`TransientError` (rate limits, 5xx, timeouts, lost connections) or
:class:`PermanentError` (bad request, bad key, unknown model). :class:`RetryPolicy` retries the
first kind and gives up at once on the second; either way a failed call ends in
:class:`CallFailed`, which carries the number of attempts made.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

R = TypeVar("R")


class TransientError(Exception):
    """A failure worth retrying: rate limit, server error, timeout, lost connection."""


class PermanentError(Exception):
    """A failure that retrying cannot fix: bad request, bad key, unknown model."""


class CallFailed(Exception):
    """A call that failed for good, with the attempts it took and whether the cause was transient."""

    def __init__(self, message: str, attempts: int, transient: bool) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.transient = transient


def backoff_delay(attempt: int, base: float, cap: float, u: float) -> float:
    """Seconds to wait before retry number `attempt` (0-based): full jitter, u in [0, 1)."""
    return u * min(cap, base * (2.0**attempt))


@dataclass
class RetryPolicy:
    """How often and how long to retry; `rng` is the jitter source (inject a seeded one in tests)."""

    retries: int = 3
    base: float = 0.5
    cap: float = 20.0
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def run(self, attempt_fn: Callable[[], Awaitable[R]]) -> tuple[R, int]:
        """Await `attempt_fn()` until it succeeds; return (value, attempts) or raise CallFailed."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await attempt_fn(), attempt
            except PermanentError as exc:
                raise CallFailed(f"permanent: {exc}", attempt, transient=False) from exc
            except TransientError as exc:
                if attempt > self.retries:
                    raise CallFailed(f"transient: {exc}", attempt, transient=True) from exc
                await self.sleep(backoff_delay(attempt - 1, self.base, self.cap, self.rng.random()))
