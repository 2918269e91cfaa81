"""The same config and seed give the same event log whatever order the answers arrive in.

Two LLM runs against a stub whose answers depend only on the request (a hash of it) and
whose delays are random, drawn differently for each run, with `concurrency` 4 and 1: the
answers complete in different orders, and every event line is the same except the call
bookkeeping that no rerun can repeat (``latency_s``, documented in docs/concepts/
run-record.md).
"""

from __future__ import annotations

import hashlib
import json
import random

import socialsim as ss
from tests.llm.test_faults import config

BOOKKEEPING = ("latency_s",)


def answer_of(body: dict) -> str:
    """A decision that depends only on the request: a credence and a message from its hash."""
    digest = hashlib.sha256(json.dumps(body["messages"], sort_keys=True).encode()).digest()
    credence = round(digest[0] / 255, 2)
    return json.dumps(
        {"message": f"I think {digest[1]}.", "to": "all",
         "beliefs": {"c1": {"reason": "heard it", "credence": credence}}}
    )  # fmt: skip


def run_with(stub, tmp_path, delays_seed: int, concurrency: int) -> list[dict]:
    rng = random.Random(delays_seed)
    stub.behaviour = lambda body, n: (200, answer_of(body))
    stub.delay_of = lambda body: rng.random() * 0.05
    cfg = config(tmp_path, stub.api_base, size=10, steps=3, concurrency=concurrency, cache=False)
    run = ss.run(ss.ExperimentConfig.from_dict(cfg))
    lines = []
    for line in (run.dir / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        for key in BOOKKEEPING:
            (event.get("payload") or {}).pop(key, None)
        lines.append(event)
    return lines


def test_the_log_does_not_depend_on_the_order_answers_arrive_in(stub, tmp_path):
    first = run_with(stub, tmp_path / "a", delays_seed=1, concurrency=4)
    assert stub.max_in_flight > 1  # answers overlapped, so they came back out of order
    second = run_with(stub, tmp_path / "b", delays_seed=2, concurrency=1)
    assert stub.calls == 60  # both runs called the server: nothing was replayed
    assert sum(e["kind"] == "llm_call" for e in first) == 30
    assert any(e["kind"] == "belief_change" for e in first)
    assert first == second
