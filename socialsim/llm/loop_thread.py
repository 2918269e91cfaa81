"""An asyncio event loop served by a daemon thread, started on first use.

The LLM client runs every model call on such a loop, so that its synchronous entry points
work from anywhere (a plain script or inside a running loop such as Jupyter) and HTTP
sessions are reused across calls.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An event loop running forever in a daemon thread of the given name, started once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, its thread started on the first call (thread-safe)."""
        if self._loop is None:
            with self._start_lock:
                if self._loop is None:
                    loop = asyncio.new_event_loop()
                    ready = threading.Event()

                    def serve() -> None:
                        asyncio.set_event_loop(loop)
                        loop.call_soon(ready.set)
                        loop.run_forever()

                    thread = threading.Thread(target=serve, name=self.name, daemon=True)
                    thread.start()
                    ready.wait()
                    self._thread = thread
                    self._loop = loop
        return self._loop

    def is_current(self) -> bool:
        """True when called from the loop's own thread."""
        return threading.current_thread() is self._thread

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` on the loop, from the loop itself or from any other running loop."""
        loop = self.loop()
        if asyncio.get_running_loop() is loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    def stop(self, shutdown: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run `shutdown()` on the loop, then stop the loop and join its thread.

        Does nothing when the loop never started, and from the loop's own thread.
        """
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            if threading.current_thread() is not thread:
                asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=10)
                loop.close()
