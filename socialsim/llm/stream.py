"""A batch of model calls between two threads: requests in as they are built, results out as they come.

The calls run on the client's event loop (:mod:`socialsim.llm.loop_thread`); everything
else runs on the caller's thread. :class:`Calls` lives on the loop: it starts a call for
each request handed to it (a cached answer is replayed instead), cancels the calls still
running at the batch's deadline, and hands every result to `deliver` as it completes.
:func:`results` runs on the caller's thread: it draws requests from the caller's iterator
only while fewer than a window of calls are running (so building them spreads over the
batch), hands them to the loop a slice at a time, and yields each ``(index, result)`` from a
thread-safe queue as soon as it arrives, so the caller works on answers while later calls
are still in flight.
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from socialsim.llm.types import CallRecord, LLMRequest, LLMResult

Deliver = Callable[[int, "LLMResult | BaseException"], None]

# Seconds of building requests before they are handed to the loop: short enough that a
# freed slot finds a request waiting, long enough not to wake the loop for every request.
BUILD_SLICE = 0.002


class Calls:
    """The calls of one batch on the client's loop; each result goes to `deliver(index, result)`.

    Made on the loop by the :class:`~socialsim.llm.client.LLMClient` whose calls they are
    (`client`: it plans, replays, calls and accounts). A call that raises (a fault in the
    client, never a failed model call) delivers its exception instead of a result.
    """

    def __init__(self, client: Any, deliver: Deliver, deadline: float | None) -> None:
        self._client = client
        self._deliver = deliver
        self._loop = asyncio.get_running_loop()
        self._running: dict[int, tuple[asyncio.Task, CallRecord, float]] = {}
        self.expired = False
        self._timer = None
        if deadline is not None:
            wait = max(0.0, deadline - time.monotonic())
            self._timer = self._loop.call_later(wait, self._expire)

    def add(self, start: int, requests: list[LLMRequest]) -> None:
        """Start a call for each request (indices from `start`); replay cached answers at once.

        A fault here (the cache unreadable, say) is delivered in place of the first result.
        """
        try:
            self._start(start, requests)
        except Exception as exc:  # noqa: BLE001 - raised to the caller, which waits on it
            self._deliver(start, exc)

    def _start(self, start: int, requests: list[LLMRequest]) -> None:
        client = self._client
        plans = [client._plan(r) for r in requests]
        cache = client._cache
        hits = cache.get_many([p[-1] for p in plans]) if cache is not None else {}
        replayed = 0
        for i, (request, plan) in enumerate(zip(requests, plans, strict=True), start):
            hit = hits.get(plan[-1]) if hits else None
            if hit is not None:
                replayed += 1
                self._deliver(i, client._from_cache(request, plan, hit))
                continue
            record = CallRecord(model=plan[0], route=plan[1], tag=request.tag)
            now = time.perf_counter()
            if self.expired:  # drawn after the deadline: failed without being sent
                self._deliver(i, client._late(record, now))
                continue
            task = self._loop.create_task(self._call(i, request, plan, record))
            self._running[i] = (task, record, now)
        client._stats["calls"] += replayed
        client._stats["cached"] += replayed

    async def _call(self, i: int, request: LLMRequest, plan: tuple, record: CallRecord) -> None:
        try:
            result: LLMResult | BaseException = await self._client._call(request, plan, record)
        except asyncio.CancelledError:
            raise  # at the deadline its late result comes from `_expire`; otherwise nobody waits
        except Exception as exc:  # noqa: BLE001 - a fault of the client: raised to the caller
            result = exc
        finally:
            self._running.pop(i, None)
        self._deliver(i, result)

    def _expire(self) -> None:
        """The deadline passed: cancel the calls still running; each becomes a failed result."""
        self.expired = True
        for i, (task, record, started) in list(self._running.items()):
            task.cancel()
            task.add_done_callback(lambda t, i=i, r=record, s=started: self._late(t, i, r, s))

    def _late(self, task: asyncio.Task, i: int, record: CallRecord, started: float) -> None:
        if task.cancelled():  # (a call that finished anyway has delivered its result)
            self._deliver(i, self._client._late(record, started))

    async def close(self, cancel: bool) -> None:
        """End the batch: stop its deadline, cancel what still runs when asked, commit the cache."""
        if self._timer is not None:
            self._timer.cancel()
        if cancel and self._running:
            tasks = [task for task, _, _ in self._running.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._client._save()


def results(
    loop: asyncio.AbstractEventLoop,
    calls: Calls,
    arrived: queue.SimpleQueue,
    requests: Iterable[LLMRequest],
    window: int,
) -> Iterator[tuple[int, LLMResult]]:
    """Feed `requests` to `calls` and yield ``(index, result)`` as they arrive (caller's thread).

    A request is drawn only while fewer than `window` calls are running; drawing waits until
    a few have ended, so that each hand-over to the loop carries several requests. Leaving
    the iteration early (an exception in the caller's code, or in drawing a request) cancels
    the calls still running.
    """
    source = iter(requests)
    ready: deque[tuple[int, Any]] = deque()
    sent = came = 0
    more = True
    finished = False
    at_once = max(1, min(8, window // 8))  # requests drawn at once, at least
    try:
        while True:
            while not arrived.empty():
                ready.append(arrived.get_nowait())
                came += 1
            room = window - (sent - came)
            if more and room >= at_once:
                built: list[LLMRequest] = []
                until = time.perf_counter() + BUILD_SLICE
                while len(built) < room:
                    try:
                        built.append(next(source))
                    except StopIteration:
                        more = False
                        break
                    if time.perf_counter() > until:
                        break
                if built:
                    loop.call_soon_threadsafe(calls.add, sent, built)
                    sent += len(built)
            if not ready:
                if not more and came == sent:
                    finished = True
                    return
                if more and window - (sent - came) >= at_once:
                    continue  # room for more requests
                ready.append(arrived.get())  # nothing to build: wait for the next answer
                came += 1
            i, result = ready.popleft()
            if isinstance(result, BaseException):
                raise result
            yield i, result
    finally:
        future = asyncio.run_coroutine_threadsafe(calls.close(cancel=not finished), loop)
        future.result()
