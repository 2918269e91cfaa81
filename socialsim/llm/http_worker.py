"""The HTTP worker: a child process that sends the parent's requests, off the parent's core.

    python -P http_worker.py FD

At thousands of calls a second the HTTP client costs about as much CPU as the simulation
itself, and both share one interpreter lock. :class:`socialsim.llm.http_process.HttpProcess`
starts this program (by path, so that it imports only the standard library and aiohttp)
and speaks to it over one end of a socket pair, in frames:

- to the worker, a :data:`TO_WORKER` head (payload length, call id, op) and its payload:
  ``SETUP`` (JSON: connections, connect_timeout, headers; sent once, first, so the API key
  is not in the worker's command line), ``POST`` (a 2-byte URL length,
  the URL, then the request body) or ``CANCEL`` (no payload: the parent stopped waiting);
- to the parent, a :data:`TO_PARENT` head (payload length, call id, status) and the
  response body, or with status ``UNREACHABLE`` the one-line reason no answer came.

The worker ignores Ctrl-C (the parent decides), and ends when the socket closes or the
parent process is gone, so it never outlives the run that started it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import struct
import sys

import aiohttp

SETUP, POST, CANCEL = 0, 1, 2
UNREACHABLE = -1
READY = -2  # status of the frame the worker sends once its session is up (call id 0)
TO_WORKER = struct.Struct("<IIB")  # payload bytes, call id, op
TO_PARENT = struct.Struct("<IIi")  # payload bytes, call id, HTTP status or UNREACHABLE
URL_LENGTH = struct.Struct("<H")


def frames(buffer: bytearray, head: struct.Struct) -> list[tuple[tuple[int, ...], bytes]]:
    """The complete frames at the start of `buffer`, taken out of it: (head's fields, payload).

    A frame is `head` (its first field the payload's length) followed by the payload.
    """
    out = []
    start, size, width = 0, len(buffer), head.size
    while size - start >= width:
        fields = head.unpack_from(buffer, start)
        end = start + width + fields[0]
        if end > size:
            break
        out.append((fields, bytes(buffer[start + width : end])))
        start = end
    del buffer[:start]
    return out


class Unreachable(Exception):
    """No HTTP answer: the connection failed, timed out or broke (the message says which)."""


def session(
    connections: int, connect_timeout: float, headers: dict[str, str]
) -> aiohttp.ClientSession:
    """The shared session: `connections` at once, a connect timeout, no total timeout."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, limit_per_host=0),
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout),
        skip_auto_headers=("User-Agent",),
    )


async def post(
    client: aiohttp.ClientSession, url: str, body: bytes, connect_timeout: float
) -> tuple[int, bytes]:
    """(status, body) of one POST; raises :class:`Unreachable` with the reason otherwise."""
    try:
        async with client.post(url, data=body) as resp:
            return resp.status, await resp.read()
    except aiohttp.ConnectionTimeoutError:
        raise Unreachable(f"connect timeout after {connect_timeout:g}s to {url}") from None
    except aiohttp.ClientConnectorError as exc:
        raise Unreachable(f"cannot reach {url}: {exc.os_error or exc}") from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:  # ValueError: a URL aiohttp refuses
        raise Unreachable(f"{type(exc).__name__} from {url}: {exc}") from None


class Worker(asyncio.Protocol):
    """The worker's end of the socket: reads frames, runs one task per request, replies."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buffer = bytearray()
        self._tasks: dict[int, asyncio.Task] = {}
        self._session: aiohttp.ClientSession | None = None
        self._connect_timeout = 10.0
        self._transport: asyncio.Transport | None = None
        self.ended = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        for (_, ident, op), payload in frames(self._buffer, TO_WORKER):
            if op == POST:
                (url_length,) = URL_LENGTH.unpack_from(payload)
                url = payload[2 : 2 + url_length].decode()
                task = self._loop.create_task(self._post(ident, url, payload[2 + url_length :]))
                self._tasks[ident] = task
            elif op == CANCEL:
                task = self._tasks.pop(ident, None)
                if task is not None:
                    task.cancel()
            elif op == SETUP:
                setup = json.loads(payload)
                self._connect_timeout = setup["connect_timeout"]
                self._session = session(
                    setup["connections"], setup["connect_timeout"], setup["headers"]
                )
                if self._transport is not None:
                    self._transport.write(TO_PARENT.pack(0, 0, READY))

    async def _post(self, ident: int, url: str, body: bytes) -> None:
        assert self._session is not None, "a POST frame before the SETUP frame"
        try:
            status, raw = await post(self._session, url, body, self._connect_timeout)
        except Unreachable as exc:
            status, raw = UNREACHABLE, str(exc).encode()
        except Exception as exc:  # noqa: BLE001 - every request gets its reply, never silence
            status, raw = UNREACHABLE, f"{type(exc).__name__} from {url}: {exc}".encode()
        finally:
            self._tasks.pop(ident, None)
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(TO_PARENT.pack(len(raw), ident, status) + raw)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ended.done():
            self.ended.set_result(None)

    async def close(self) -> None:
        """Cancel what is running and close the session."""
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        if self._session is not None:
            await self._session.close()


async def serve(fd: int) -> None:
    """Serve the parent on socket `fd` until it closes or the parent process is gone."""
    loop = asyncio.get_running_loop()
    parent = os.getppid()
    sock = socket.socket(fileno=fd)
    worker = Worker(loop)
    await loop.connect_accepted_socket(lambda: worker, sock)
    while not worker.ended.done():
        await asyncio.wait([worker.ended], timeout=1.0)
        if os.getppid() != parent:  # the parent died without closing the socket
            break
    await worker.close()


def main() -> None:
    """Entry point: ``http_worker.py FD``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(serve(int(sys.argv[1])))


if __name__ == "__main__":
    main()
