"""Requests posted through the HTTP worker process (:mod:`socialsim.llm.http_worker`).

:class:`HttpProcess` has the one method the direct HTTP path needs, ``post(url, body)`` ->
``(status, body)``, and forwards each call to a child process over a socket pair, so the
HTTP client's CPU (about as much as the simulation's own per call, at thousands of calls
a second) is spent on another core. The child starts on the first call. A call that is
cancelled (a timeout, the step's deadline) is cancelled in the child too. If the child
dies, every call it held fails as unreachable (a transport failure: retried, counted by
the circuit breaker) and the next call starts a new one.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from socialsim.llm.http_worker import (
    CANCEL,
    POST,
    READY,
    SETUP,
    TO_PARENT,
    TO_WORKER,
    UNREACHABLE,
    URL_LENGTH,
    Unreachable,
    frames,
)

WORKER = str(Path(__file__).with_name("http_worker.py"))
START_LIMIT_S = 60.0  # a worker not ready by then is given up on: calls are sent inline


class HttpProcess(asyncio.Protocol):
    """POSTs sent by a child process; create and use it inside one event loop."""

    def __init__(self, connections: int, connect_timeout: float, headers: dict[str, str]) -> None:
        self._setup = json.dumps(
            {"connections": connections, "connect_timeout": connect_timeout, "headers": headers}
        ).encode()
        self._proc: subprocess.Popen | None = None
        self._transport: asyncio.Transport | None = None
        self._lock: asyncio.Lock | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._buffer = bytearray()
        self._ident = 0
        self._ready: asyncio.Future | None = None

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs, else None."""
        return self._proc.pid if self._transport is not None and self._proc else None

    async def start(self) -> None:
        """Start the worker and wait until it is ready (OSError where it cannot start).

        Callers wait for this before a call's time budget begins, so starting the worker
        (a new Python process: about half a second, more on a loaded machine) never
        counts against a model call's timeout.
        """
        if self._transport is None:
            await self._start()

    async def post(self, url: str, body: bytes) -> tuple[int, bytes]:
        """(status, body) of one POST; raises :class:`Unreachable` when no answer came."""
        if self._transport is None:
            await self._start()  # (OSError when no process can be started)
        transport = self._transport
        assert transport is not None
        self._ident = ident = (self._ident + 1) & 0xFFFFFFFF
        future = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        address = url.encode()
        head = TO_WORKER.pack(2 + len(address) + len(body), ident, POST)
        transport.write(b"".join((head, URL_LENGTH.pack(len(address)), address, body)))
        try:
            status, raw = await future
        except asyncio.CancelledError:
            if self._pending.pop(ident, None) is not None and not transport.is_closing():
                transport.write(TO_WORKER.pack(0, ident, CANCEL))
            raise
        if status == UNREACHABLE:
            raise Unreachable(raw.decode("utf-8", "replace"))
        return status, raw

    async def _start(self) -> None:
        """Start the worker (once, however many calls are waiting for it)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._transport is not None:
                return
            await self._reap()
            mine, theirs = socket.socketpair()
            try:
                fd = theirs.fileno()
                self._proc = subprocess.Popen(
                    [sys.executable, "-P", WORKER, str(fd)],
                    pass_fds=(fd,),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                )
            except BaseException:
                mine.close()
                raise
            finally:
                theirs.close()
            loop = asyncio.get_running_loop()
            self._ready = loop.create_future()
            await loop.create_connection(lambda: self, sock=mine)
            assert self._transport is not None
            self._transport.write(TO_WORKER.pack(len(self._setup), 0, SETUP) + self._setup)
            try:
                await asyncio.wait_for(asyncio.shield(self._ready), START_LIMIT_S)
            except (TimeoutError, ConnectionError) as exc:
                if self._transport is not None:
                    self._transport.close()
                    self._transport = None
                raise OSError(
                    f"the HTTP worker process did not start ({exc or 'timeout'})"
                ) from None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        pending = self._pending
        for (_, ident, status), body in frames(self._buffer, TO_PARENT):
            if status == READY:
                if self._ready is not None and not self._ready.done():
                    self._ready.set_result(None)
                continue
            future = pending.pop(ident, None)
            if future is not None and not future.done():
                future.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        pending, self._pending = self._pending, {}
        code = self._proc.poll() if self._proc is not None else None
        ended = "the HTTP worker process ended" + (f" (exit code {code})" if code else "")
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ConnectionError(ended))
        for future in pending.values():
            if not future.done():
                future.set_result((UNREACHABLE, ended.encode()))

    async def close(self) -> None:
        """Stop the worker: it sees the socket close, cancels its calls and exits."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        await self._reap()

    async def _reap(self, wait: float = 5.0) -> None:
        """Wait for the last worker to exit (killing it after `wait` seconds)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        until = time.monotonic() + wait
        while proc.poll() is None and time.monotonic() < until:
            await asyncio.sleep(0.01)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
