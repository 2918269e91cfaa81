"""Fixtures for the LLM layer: an OpenAI-compatible stub server on 127.0.0.1 in its own thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web

Reply = tuple[int, Any]  # (HTTP status, JSON body or answer text)


def completion_body(
    text: str, prompt_tokens: int = 7, completion_tokens: int = 3
) -> dict[str, Any]:
    """A minimal chat completion response."""
    return {
        "id": "stub",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class StubServer:
    """Chat completions answered by `behaviour(body, n)`; counts calls and peak concurrency."""

    def __init__(self) -> None:
        self.behaviour: Callable[[dict[str, Any], int], Reply] = lambda body, n: (200, "hello")
        self.delay = 0.0
        self.delay_of: Callable[[dict[str, Any]], float] | None = None  # per request, else delay
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def calls(self) -> int:
        """Requests received so far."""
        return len(self.bodies)

    @property
    def api_base(self) -> str:
        """The server's base URL, as LLMConfig.api_base."""
        return f"http://127.0.0.1:{self.port}/v1"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        n = len(self.bodies)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            delay = self.delay_of(body) if self.delay_of is not None else self.delay
            if delay:
                await asyncio.sleep(delay)
            status, payload = self.behaviour(body, n)
        finally:
            self.in_flight -= 1
        if isinstance(payload, str) and status == 200:
            payload = completion_body(payload)
        return web.json_response(
            payload if not isinstance(payload, str) else {"error": payload}, status=status
        )

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def start(self) -> StubServer:
        """Start serving in the background thread."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Stop serving and end the thread."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cache_file(tmp_path) -> str:
    return str(tmp_path / "responses.sqlite")
