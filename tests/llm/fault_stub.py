"""An OpenAI-compatible stub that injects faults on a fixed schedule, run as a subprocess.

    python tests/llm/fault_stub.py --port 8011 --answer '{...}' --faults '{"123": "500"}'

A request whose ``seed`` is in ``--faults`` gets that fault on every attempt (so one
scheduled fault is one failed call, retries or not); ``--every`` gives every request a
fault; ``--die-after N`` ends the process once N requests were answered. Faults: ``500``,
``429``, ``401`` (the body echoes the bearer key, as some servers do), ``reset`` (the
connection is dropped), ``malformed`` (a body that is not JSON), ``schema`` (an answer that
is valid JSON but not the asked-for object) and ``hang`` (accepted, never answered).
``GET /v1/stats`` counts the requests received and answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web

FAULTS = ("500", "429", "401", "reset", "malformed", "schema", "hang")


def completion(content: str) -> dict[str, Any]:
    """A chat completion whose message content is `content`."""
    return {
        "id": "stub",
        "object": "chat.completion",
        "model": "stub",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30},
    }


def make_app(
    answer: str, faults: dict[int, str], every: str | None = None, die_after: int | None = None
) -> web.Application:
    """The stub: `answer` to every request, except the scheduled faults."""
    counts = {"received": 0, "answered": 0, "faulted": 0}

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        counts["received"] += 1
        fault = every or faults.get(body.get("seed"))
        if fault is None:
            response = web.json_response(completion(answer))
            await response.prepare(request)
            await response.write_eof()  # sent before it is counted
            counts["answered"] += 1
            if die_after is not None and counts["answered"] >= die_after:
                os._exit(0)  # the server dies: later requests find the port closed
            return response
        counts["faulted"] += 1
        if fault == "hang":
            await asyncio.Event().wait()
        if fault == "reset":
            assert request.transport is not None
            request.transport.abort()
            await asyncio.sleep(0.5)
            return web.Response(status=500)
        if fault == "malformed":
            return web.Response(body=b"<html>upstream oops", content_type="application/json")
        if fault == "schema":
            return web.json_response(completion('{"unexpected": true}'))
        if fault == "401":
            key = request.headers.get("Authorization", "").removeprefix("Bearer ")
            message = f"Incorrect API key provided: {key}. Find your key at the dashboard."
            return web.json_response({"error": {"message": message}}, status=401)
        return web.json_response({"error": {"message": f"injected {fault}"}}, status=int(fault))

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(counts)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/stats", stats)
    return app


_HANDED_OUT: set[int] = set()  # ports this process was given: never the same one twice


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (nothing listens there until a server takes it), not
    one handed out before: the system may give a port it just gave again once it is closed."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


class FaultStub:
    """A running fault stub subprocess: its `api_base`, its `stats()`, `stop()`."""

    def __init__(
        self,
        answer: str,
        faults: dict[int, str] | None = None,
        every: str | None = None,
        die_after: int | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.api_base = f"http://127.0.0.1:{self.port}/v1"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--port", str(self.port),
               "--answer", answer, "--faults", json.dumps(faults or {})]  # fmt: skip
        if every:
            cmd += ["--every", every]
        if die_after is not None:
            cmd += ["--die-after", str(die_after)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the fault stub did not start")

    def stats(self) -> dict[str, int]:
        """Requests received, answered and faulted so far."""
        with urllib.request.urlopen(self.api_base + "/stats", timeout=2) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        """End the subprocess (if it has not died already)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def __enter__(self) -> FaultStub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answer", required=True, help="message content of every answer")
    parser.add_argument("--faults", default="{}", help='JSON {"<seed>": "<fault>"}')
    parser.add_argument("--every", choices=FAULTS, help="give every request this fault")
    parser.add_argument("--die-after", type=int, help="exit once this many were answered")
    args = parser.parse_args()
    faults = {int(seed): fault for seed, fault in json.loads(args.faults).items()}
    app = make_app(args.answer, faults, args.every, args.die_after)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
