"""Retry with exponential backoff and full jitter, on transient errors only.

Backends raise :class:`TransientError` (rate limits, malformed bodies) or its subclass
:class:`TransportError` (the endpoint itself failed: refused or reset connections, timeouts,
5xx), or :class:`PermanentError` (bad request, bad key, unknown model). :class:`RetryPolicy`
retries the first kind and gives up at once on the second; either way a failed call ends in
:class:`CallFailed`, which carries the number of attempts made. A call may carry a deadline
(a ``time.monotonic`` instant, or a :class:`CallClock`'s end): no retry is started that
could not begin before it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

R = TypeVar("R")


class TransientError(Exception):
    """A failure worth retrying: rate limit, server error, timeout, lost connection."""

    label = "transient"


class TransportError(TransientError):
    """The endpoint itself failed: connection refused or reset, timeout, 5xx."""


class PermanentError(Exception):
    """A failure that retrying cannot fix: bad request, bad key, unknown model."""

    label = "permanent"


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
class CallClock:
    """A call's budget of `seconds`, running from :meth:`start` (when the call first gets a
    concurrency slot), not from when it was made: waiting behind other calls is not its own."""

    seconds: float
    _end: float | None = None

    def start(self) -> None:
        """Start the budget (once; later calls leave it running)."""
        if self._end is None:
            self._end = time.monotonic() + self.seconds

    def ends(self) -> float | None:
        """The ``time.monotonic`` instant the budget ends, or None before it started."""
        return self._end

    def left(self) -> float:
        """Seconds of the budget left (starting it if it has not started)."""
        self.start()
        assert self._end is not None
        return self._end - time.monotonic()


@dataclass
class RetryPolicy:
    """How often and how long to retry; `rng` is the jitter source (inject a seeded one in tests)."""

    retries: int = 3
    base: float = 0.5
    cap: float = 20.0
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def run(
        self,
        attempt_fn: Callable[[], Awaitable[R]],
        deadline: float | Callable[[], float | None] | None = None,
    ) -> tuple[R, int]:
        """Await `attempt_fn()` until it succeeds; return (value, attempts) or raise CallFailed.

        With a `deadline` (``time.monotonic()`` seconds, or a function giving them or None),
        no retry starts at or after it.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return await attempt_fn(), attempt
            except PermanentError as exc:
                raise CallFailed(f"{exc.label}: {exc}", attempt, transient=False) from exc
            except TransientError as exc:
                delay = backoff_delay(attempt - 1, self.base, self.cap, self.rng.random())
                end = deadline() if callable(deadline) else deadline
                late = end is not None and time.monotonic() + delay >= end
                if attempt > self.retries or late:
                    raise CallFailed(f"{exc.label}: {exc}", attempt, transient=True) from exc
                await self.sleep(delay)
