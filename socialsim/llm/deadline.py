"""A batch of calls waited on until a deadline: the ones still running then are cancelled.

:func:`settle` awaits tasks until they are all done or the deadline passes, re-raises the
first exception a task raised, cancels whatever still runs at the deadline and returns what
the caller attached to those, so it can record them as failed calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import TypeVar

V = TypeVar("V")


async def settle(
    tasks: list[asyncio.Task], info: Mapping[asyncio.Task, V], deadline: float | None
) -> list[V]:
    """Await `tasks` until `deadline` (``time.monotonic()``); cancel the rest, return their info.

    An exception raised by a task (or the cancellation of the waiter) cancels the other
    tasks and propagates at once. The returned entries are in task order.
    """
    pending = set(tasks)
    try:
        while pending:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, pending = await asyncio.wait(
                pending, timeout=timeout, return_when=asyncio.FIRST_EXCEPTION
            )
            _raise_first(done)
            if deadline is not None and time.monotonic() >= deadline:
                break
    except BaseException:
        await _cancel(tasks)
        raise
    if not pending:
        return []
    await _cancel(pending)
    _raise_first(pending)
    return [info[task] for task in tasks if task in pending and task.cancelled()]


async def _cancel(tasks: Iterable[asyncio.Task]) -> None:
    """Cancel `tasks` and wait until each has finished."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _raise_first(tasks: Iterable[asyncio.Task]) -> None:
    """Raise the exception of the first finished task that raised one."""
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
