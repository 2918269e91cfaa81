"""The HTTP worker process: requests sent from a child, cancelled there, restarted if it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from socialsim.llm import LLMConfig
from tests.llm.test_client_http import GOOD, Vote, ask, make_client


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_by_default_a_machine_with_two_cores_sends_from_a_worker(stub, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with make_client(stub) as client:
        [res] = client.run([ask()])
        assert res.ok and client._http.worker_pid is not None
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    with make_client(stub) as client:
        [res] = client.run([ask()])
        assert res.ok and client._http.worker_pid is None
    assert LLMConfig().http_worker is None


def test_the_worker_sends_the_same_requests_and_answers_as_the_inline_client(stub, monkeypatch):
    monkeypatch.setenv("STUB_KEY", "sk-worker-secret-123456")
    stub.behaviour = lambda body, n: (200, GOOD)
    reqs = [ask(f"q{i}", schema=Vote, seed=i, temperature=0.0) for i in range(20)]
    results = {}
    for worker in (True, False):
        with make_client(stub, api_key_env="STUB_KEY", http_worker=worker) as client:
            results[worker] = client.run(reqs)
            if worker:
                pid = client._http.worker_pid
                assert pid is not None and pid != os.getpid()
                cmdline = " ".join(psutil.Process(pid).cmdline())
                assert "http_worker.py" in cmdline and "sk-worker" not in cmdline
        if worker:
            assert gone_within(pid, 5)  # closing the client stops its worker
    assert [r.value for r in results[True]] == [r.value for r in results[False]]
    assert all(r.ok and r.record.route == "http" for r in results[True])
    bodies = [b for b in stub.bodies]
    assert bodies[:20] == bodies[20:]  # byte for byte the same requests
    assert {h["Authorization"] for h in stub.headers} == {"Bearer sk-worker-secret-123456"}


def test_a_call_cut_by_its_timeout_is_cancelled_in_the_worker(stub):
    # one connection: if the worker kept waiting on the hung request, the next call could not go
    stub.delay_of = lambda body: 30.0 if body["seed"] == 1 else 0.0
    with make_client(stub, http_worker=True, concurrency=1, timeout=0.5, retries=0) as client:
        start = time.monotonic()
        hung, fine = client.run([ask("a", seed=1), ask("b", seed=2)])
        took = time.monotonic() - start
    assert not hung.ok and "timeout after 0.5s" in hung.error
    assert fine.ok and fine.text == "hello"
    assert took < 5


def test_a_worker_that_dies_fails_its_calls_in_transport_and_the_next_ones_start_a_new_one(stub):
    stub.delay = 0.3
    with make_client(stub, http_worker=True, retries=0, concurrency=8) as client:
        [first] = client.run([ask("warm")])
        pid = client._http.worker_pid
        assert first.ok and pid is not None
        timer = threading.Timer(0.1, os.kill, (pid, signal.SIGKILL))  # while the batch waits
        timer.start()
        killed = client.run([ask(f"k{i}") for i in range(4)])
        timer.join()
        assert all(not r.ok and "HTTP worker process ended" in r.error for r in killed)
        [after] = client.run([ask("after")])
        assert after.ok and client._http.worker_pid not in (None, pid)


@pytest.mark.slow
def test_the_worker_ends_when_its_parent_is_killed(stub, tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from tests.llm.test_client_http import ask, make_client
        class S: api_base = {stub.api_base!r}
        client = make_client(S, http_worker=True)
        assert client.run([ask()])[0].ok
        print(client._http.worker_pid, flush=True)
        time.sleep(60)
    """)
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        assert alive(pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert gone_within(pid, 5)
    finally:
        parent.kill()


@pytest.mark.parametrize("http_worker", [True, False])
def test_a_dead_port_is_a_transport_failure_either_way(http_worker):
    from tests.llm.fault_stub import free_port

    class Dead:
        api_base = f"http://127.0.0.1:{free_port()}/v1"

    with make_client(Dead, http_worker=http_worker, retries=0) as client:
        [res] = client.run([ask()])
    assert not res.ok and "cannot reach http://127.0.0.1:" in res.error


def test_where_no_process_can_be_started_the_calls_go_inline(stub, monkeypatch):
    from socialsim.llm import http_process

    def refuse(*args, **kwargs):
        raise OSError("fork refused")

    monkeypatch.setattr(http_process.subprocess, "Popen", refuse)
    with make_client(stub, http_worker=True) as client:
        results = client.run([ask(f"q{i}") for i in range(5)])
        assert client._http.worker_pid is None
    assert all(r.ok and r.text == "hello" for r in results) and stub.calls == 5


@pytest.mark.slow
def test_a_slow_worker_start_counts_against_no_timeout_or_deadline(stub, tmp_path, monkeypatch):
    """A worker that takes 1.5 s to start: the call (0.3 s per attempt, 0.6 s in all, a 1 s
    step deadline) still gets its answer in one attempt, through the worker."""
    from socialsim.llm import http_process

    slow = tmp_path / "slow_worker.py"
    slow.write_text(
        "import runpy, sys, time\n"
        "time.sleep(1.5)\n"
        f"sys.argv = [{http_process.WORKER!r}, *sys.argv[1:]]\n"
        f"runpy.run_path({http_process.WORKER!r}, run_name='__main__')\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(http_process, "WORKER", str(slow))
    stub.behaviour = lambda body, n: (200, GOOD)
    cfg = {"timeout": 0.3, "call_timeout": 0.6, "step_deadline": 1.0, "http_worker": True}
    with make_client(stub, **cfg) as client:
        started = time.monotonic()
        [res] = client.run([ask("q", schema=Vote, seed=1)])
        took = time.monotonic() - started
        assert client._http.worker_pid is not None  # sent through the worker, not inline
    assert res.ok and res.record.attempts == 1, res.error
    assert took >= 1.5  # the start really was slow: the budgets did not run during it
