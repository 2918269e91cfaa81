"""Several replicas behind one `api_base` list: least-loaded choice, failover, trial calls."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest
from aiohttp import web

import socialsim as ss
from socialsim.core.errors import ConfigError, EndpointDown
from socialsim.llm import LLMClient, LLMConfig, LLMRequest
from socialsim.llm.cache import ResponseCache
from socialsim.llm.retry import RetryPolicy
from socialsim.simulation.log import read_events
from tests.llm.conftest import StubServer
from tests.llm.fault_stub import FaultStub, free_port
from tests.llm.test_faults import ANSWER, config, run


class Replica(StubServer):
    """The loopback stub on a port of our choosing, so that it can die and come back there."""

    def __init__(self, port: int = 0) -> None:
        super().__init__()
        self.port = port
        self.behaviour = lambda body, n: (200, body["messages"][0]["content"].upper())
        self.delay = 0.01

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


@pytest.fixture
def replicas():
    servers = [Replica().start() for _ in range(3)]
    try:
        yield servers
    finally:
        for server in servers:
            if server._thread.is_alive():
                server.stop()


def client_for(api_base, cache_path: Path, **cfg) -> LLMClient:
    settings = {"model": "openai/stub", "api_base": api_base, "retries": 3, "concurrency": 4}
    settings.update(cfg)
    retry = RetryPolicy(retries=settings["retries"], base=0.01, cap=0.05, rng=random.Random(0))
    return LLMClient(LLMConfig(**settings), cache_path, retry=retry, probe_after=0.2)


def asks(prefix: str, n: int = 40) -> list[LLMRequest]:
    return [LLMRequest(messages=[{"role": "user", "content": f"{prefix}{i}"}]) for i in range(n)]


def cache_keys(path: Path) -> set[str]:
    cache = ResponseCache(path)
    try:
        return {row[0] for row in cache._conn.execute("SELECT key FROM responses")}
    finally:
        cache.close()


def test_a_replica_that_dies_is_left_out_and_comes_back_after_a_trial_call(replicas, tmp_path):
    urls = [r.api_base for r in replicas]
    dying = replicas[1]
    with client_for(urls, tmp_path / "pool.sqlite") as client:
        first = client.run(asks("a"))
        spread = [r.calls for r in replicas]

        def handle(req: LLMRequest, res):  # the replica dies once a few answers are in
            if req.messages[0]["content"] == "b10":
                threading.Thread(target=dying.stop).start()
            return res

        second = client.map(asks("b"), lambda r: r, handle)
        health = {row["url"]: row for row in client.endpoint_health}
        assert not health[dying.api_base]["up"] and health[dying.api_base]["failed"] >= 1
        before = replicas[0].calls + replicas[2].calls
        while_dead = client.run(asks("c", 20))
        after = replicas[0].calls + replicas[2].calls
        revived = Replica(dying.port).start()
        replicas[1] = revived
        time.sleep(0.3)  # the back-off of its last failed trial
        third = client.run(asks("d"))
        health = {row["url"]: row for row in client.endpoint_health}
        assert client.endpoint_down is None
    assert all(r.ok for r in first + second + while_dead + third)
    assert [r.text for r in second] == [f"B{i}" for i in range(40)]
    assert all(n > 0 for n in spread)  # the first batch went to every replica
    assert after - before == 20  # the other two answered every call while it was dead
    assert revived.calls > 0 and health[revived.api_base]["up"]


@pytest.mark.slow
def test_answers_and_cache_keys_do_not_depend_on_the_replica(replicas, tmp_path):
    reqs = asks("q", 30)
    with client_for([r.api_base for r in replicas], tmp_path / "pool.sqlite") as client:
        pooled = client.run(reqs)
    with client_for(replicas[0].api_base, tmp_path / "one.sqlite") as client:
        single = client.run(reqs)
    assert [r.text for r in pooled] == [r.text for r in single] == [f"Q{i}" for i in range(30)]
    assert all(r.ok for r in pooled + single) and min(r.calls for r in replicas[1:]) > 0
    assert cache_keys(tmp_path / "pool.sqlite") == cache_keys(tmp_path / "one.sqlite")
    assert len(cache_keys(tmp_path / "one.sqlite")) == 30


def test_concurrency_applies_per_replica(replicas, tmp_path):
    for replica in replicas:
        replica.delay = 0.05
    with client_for([r.api_base for r in replicas], tmp_path / "c.sqlite", concurrency=3) as client:
        results = client.run(asks("p", 36))
    assert all(r.ok for r in results)
    assert [r.max_in_flight for r in replicas] == [3, 3, 3]


@pytest.mark.parametrize(
    "value, problem",
    [
        ([], "the list of endpoints is empty: give at least one URL"),
        (["http://127.0.0.1:8000/v1", "127.0.0.1:8001"], "'127.0.0.1:8001' is not an http(s) URL"),
        (["http://a/v1", "http://a/v1"], "http://a/v1 is listed twice"),
        (8000, "expected a URL or a list of URLs"),
    ],
)
def test_a_bad_list_of_endpoints_is_one_config_error(value, problem):
    cfg = {"agents": {"policy": "llm", "llm": {"model": "openai/x", "api_base": value}}}
    with pytest.raises(ConfigError) as err:
        ss.ExperimentConfig.from_dict(cfg)
    message = str(err.value)
    assert "agents.llm.api_base: " + problem in message and "\n" not in message


@pytest.mark.slow
def test_a_simulation_over_three_replicas_survives_one_dying(tmp_path):
    stubs = [FaultStub(ANSWER), FaultStub(ANSWER, die_after=5), FaultStub(ANSWER)]
    try:
        urls = [s.api_base for s in stubs]
        pooled = config(tmp_path, urls, size=12, steps=3, retries=2)
        pooled["agents"]["llm"]["cache_path"] = str(tmp_path / "pool.sqlite")
        run(pooled, tmp_path / "pool")
        answered = [stubs[0].stats()["answered"], stubs[2].stats()["answered"]]
        single = config(tmp_path, urls[0], size=12, steps=3)
        single["agents"]["llm"]["cache_path"] = str(tmp_path / "one.sqlite")
        run(single, tmp_path / "one")
    finally:
        for stub in stubs:
            stub.stop()
    events = read_events(tmp_path / "pool" / "events.jsonl")
    calls = events[events.kind == "llm_call"]
    assert len(calls) == 36 and calls.payload.map(lambda p: p["error"] is None).all()
    assert (events.kind == "error").sum() == 0
    assert stubs[1].proc.returncode == 0 and sum(answered) == 36 - 5 and min(answered) > 0
    assert cache_keys(tmp_path / "pool.sqlite") == cache_keys(tmp_path / "one.sqlite")
    one = read_events(tmp_path / "one" / "events.jsonl")
    decisions = [json.dumps(p, sort_keys=True) for p in events[events.kind == "decision"].payload]
    same = [json.dumps(p, sort_keys=True) for p in one[one.kind == "decision"].payload]
    assert decisions == same


@pytest.mark.slow
def test_the_run_stops_when_every_replica_is_down(tmp_path):
    urls = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(3)]
    with pytest.raises(EndpointDown) as err:
        run(config(tmp_path, urls), tmp_path / "r")
    message = str(err.value)
    assert message.startswith(f"model endpoints {', '.join(urls)} are all down: ")
    assert "(connection refused)" in message and "\n" not in message
