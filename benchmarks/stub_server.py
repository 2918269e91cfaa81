"""A loopback OpenAI-compatible stub: fixed answer, fixed latency, a fixed number of slots.

    python benchmarks/stub_server.py --port 8011 --latency 0.05 --slots 64

At most `slots` requests are served at once (the rest queue), each after `latency`
seconds, so the ideal throughput is slots / latency calls per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web

ANSWER = '{"choice": "A", "confidence": 0.9}'


def body(answer: str = ANSWER) -> bytes:
    """The fixed chat-completion response carrying `answer` as the message content."""
    return json.dumps(
        {
            "id": "stub",
            "object": "chat.completion",
            "created": 0,
            "model": "stub",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": answer},
                }
            ],
            "usage": {"prompt_tokens": 20, "completion_tokens": 12, "total_tokens": 32},
        }
    ).encode()


def make_app(latency: float = 0.05, slots: int = 64, answer: str = ANSWER) -> web.Application:
    """The stub's aiohttp application."""
    gate = asyncio.Semaphore(slots)
    payload = body(answer)

    async def chat(request: web.Request) -> web.Response:
        await request.read()
        async with gate:
            await asyncio.sleep(latency)
        return web.Response(body=payload, content_type="application/json")

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "stub"}]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    return app


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    latency: float = 0.05, slots: int = 64, port: int | None = None, answer: str = ANSWER
) -> tuple[subprocess.Popen, str]:
    """Start the stub in a subprocess; return (process, api_base) once it answers."""
    port = port or free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--port", str(port),
           "--latency", str(latency), "--slots", str(slots), "--answer", answer]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/models", timeout=1):
                return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("stub server did not start")


def stop(proc: subprocess.Popen) -> None:
    """Stop a stub started by :func:`start`."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def cpu_seconds(client: Any = None) -> float:
    """CPU seconds used so far by this process and by `client`'s HTTP worker process, if any."""
    total = time.process_time()
    pid = client.http_worker_pid if client is not None else None
    if pid is not None:
        import psutil

        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--slots", type=int, default=64, help="requests served at once")
    parser.add_argument("--answer", default=ANSWER, help="message content of every reply")
    args = parser.parse_args()
    web.run_app(
        make_app(args.latency, args.slots, args.answer),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
        backlog=1024,
    )


if __name__ == "__main__":
    main()
