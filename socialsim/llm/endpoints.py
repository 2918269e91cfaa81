"""A pool of replicas serving one model: each attempt goes to the least-loaded one that is up.

``agents.llm.api_base`` may list several URLs (vLLM or llama.cpp replicas). An
:class:`EndpointPool` sends each attempt to the endpoint with the fewest attempts in
flight, at most `limit` at a time per endpoint (ties go round the list). An endpoint whose
attempt fails in transport (refused or reset connection, timeout, 5xx) leaves the
rotation; after a back-off (2 s, doubling on each failed trial, at most 30 s) one trial
attempt is sent to it, and an answer brings it back. The failed attempt is retried by the
client's retry policy, so it lands on another endpoint. Only while every endpoint is out
of rotation are attempts sent to the down ones anyway and their failures counted by the
pool's circuit breaker (:mod:`socialsim.llm.breaker`), which stops the run as it does for
one endpoint. Which endpoint served an answer is not recorded anywhere: answers and cache
keys are the same as from one endpoint.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from socialsim.llm.breaker import Breaker, short_reason
from socialsim.llm.retry import PermanentError, TransientError, TransportError

T = TypeVar("T")

Budget = Callable[[], tuple[float, str]]  # (seconds for this attempt, text of its timeout)


def endpoint_urls(api_base: str | Sequence[str] | None) -> tuple[str, ...]:
    """The endpoint URLs an ``api_base`` setting names (none, one or several)."""
    if api_base is None:
        return ()
    if isinstance(api_base, str):
        return (api_base,)
    return tuple(api_base)


def backoff(strikes: int, base: float, cap: float = 30.0) -> float:
    """Seconds an endpoint stays out of rotation after its `strikes`-th failure in a row (1-based)."""
    return min(cap, base * 2.0 ** max(0, strikes - 1))


@dataclass
class Endpoint:
    """One replica: its attempts in flight, and when it may be tried again if it is down."""

    url: str
    in_flight: int = 0
    answered: int = 0
    failed: int = 0
    strikes: int = 0  # transport failures since its last answer
    down_until: float | None = None  # out of rotation; one trial attempt from this instant on
    probing: bool = False  # its trial attempt is in flight
    reason: str = ""

    @property
    def up(self) -> bool:
        """True while the endpoint is in rotation."""
        return self.down_until is None


class EndpointPool:
    """Least-loaded choice among replicas, a failing one out of rotation until a trial answers."""

    def __init__(
        self,
        urls: Sequence[str],
        limit: int,
        breaker: Breaker,
        probe_after: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("an endpoint pool needs at least one URL")
        self.endpoints = [Endpoint(url) for url in urls]
        self.limit = limit
        self.breaker = breaker
        self.probe_after = probe_after
        self._clock = clock
        self._turn = 0  # where the next tie-break starts: ties go round the list
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def label(self) -> str:
        """The endpoints' URLs, comma-separated (how messages name the pool)."""
        return ", ".join(e.url for e in self.endpoints)

    def health(self) -> list[dict[str, Any]]:
        """Per endpoint: url, up (in rotation), in_flight, answered, failed, reason of its last failure."""
        return [
            {
                "url": e.url,
                "up": e.up,
                "in_flight": e.in_flight,
                "answered": e.answered,
                "failed": e.failed,
                "reason": e.reason,
            }
            for e in self.endpoints
        ]

    async def attempt(self, send: Callable[[str], Awaitable[T]], budget: Budget) -> T:
        """One attempt on the endpoint picked for it; its outcome moves that endpoint in or out.

        `budget` is asked once a slot is free (waiting for one does not count against the
        attempt's timeout); it may raise to give up. The pool's breaker refuses the attempt
        while open and counts transport failures only while no endpoint is in rotation.
        """
        self.breaker.check()
        endpoint, probe = await self._acquire()
        try:
            timeout, timeout_text = budget()
        except BaseException:
            self._release(endpoint, probe)
            raise
        try:
            async with asyncio.timeout(timeout):
                done = await send(endpoint.url)
        except TimeoutError:
            self._failed(endpoint, probe, timeout_text)
            raise TransportError(timeout_text) from None
        except TransportError as exc:
            self._failed(endpoint, probe, str(exc))
            raise
        except (TransientError, PermanentError):
            self._answered(endpoint)  # it answered, with an error of another kind
            raise
        finally:
            self._release(endpoint, probe)
        self._answered(endpoint)
        return done

    # ----------------------------------------------------------------- choice

    async def _acquire(self) -> tuple[Endpoint, bool]:
        """An endpoint with a free slot (its slot taken) and whether this is its trial attempt."""
        while True:
            now = self._clock()
            picked = self._pick(now)
            if picked is not None:
                endpoint, probe = picked
                endpoint.in_flight += 1
                endpoint.probing = endpoint.probing or probe
                return endpoint, probe
            await self._wait(self._next_trial(now))

    def _pick(self, now: float) -> tuple[Endpoint, bool] | None:
        """The endpoint for the next attempt, or None when none may take one now."""
        free = [(i, e) for i, e in enumerate(self.endpoints) if e.in_flight < self.limit]
        for _, e in free:  # a trial attempt that is due goes first
            if not e.up and not e.probing and now >= e.down_until:  # type: ignore[operator]
                return e, True
        if any(e.up for e in self.endpoints):
            free = [(i, e) for i, e in free if e.up]
        # else every endpoint is down: try them anyway; the breaker counts these failures
        if not free:
            return None
        n, start = len(self.endpoints), self._turn
        i, best = min(free, key=lambda item: (item[1].in_flight, (item[0] - start) % n))
        self._turn = (i + 1) % n
        return best, False

    def _next_trial(self, now: float) -> float | None:
        """Seconds until a trial attempt falls due on an endpoint with a free slot, or None."""
        due = [
            e.down_until
            for e in self.endpoints
            if not e.up and not e.probing and e.in_flight < self.limit
        ]
        return max(0.0, min(due) - now) if due else None  # type: ignore[type-var, operator]

    async def _wait(self, timeout: float | None) -> None:
        """Until a slot is released or `timeout` seconds pass."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            if timeout is None:
                await waiter
            else:
                await asyncio.wait([waiter], timeout=timeout)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake()  # the wake-up this waiter got goes to the next one
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            try:
                self._waiters.remove(waiter)
            except ValueError:
                pass

    def _wake(self) -> None:
        """Let the longest-waiting attempt look for a slot again."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _wake_all(self) -> None:
        """Let every waiting attempt look again: the endpoints it may use have changed."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    # ----------------------------------------------------------------- outcomes

    def _release(self, endpoint: Endpoint, probe: bool) -> None:
        endpoint.in_flight -= 1
        if probe:
            endpoint.probing = False
        if self._waiters:
            self._wake()

    def _answered(self, endpoint: Endpoint) -> None:
        """The endpoint answered: back in rotation; the pool's breaker closes."""
        endpoint.answered += 1
        endpoint.strikes = 0
        self.breaker.success()
        if not endpoint.up:
            endpoint.down_until = None
            self._wake_all()

    def _failed(self, endpoint: Endpoint, probe: bool, message: str) -> None:
        """A transport failure: the endpoint leaves the rotation; counted when all are down.

        The back-off grows only with failed trial attempts, not with the failures of
        attempts that were already in flight when the endpoint went down.
        """
        endpoint.failed += 1
        endpoint.reason = short_reason(message)
        if endpoint.up or probe:
            endpoint.strikes += 1
            endpoint.down_until = self._clock() + backoff(endpoint.strikes, self.probe_after)
            if not any(e.up for e in self.endpoints):
                self._wake_all()  # the down endpoints' slots are open to waiting attempts now
        if not any(e.up for e in self.endpoints):
            self.breaker.failure(message)
