"""A step's LLM batch against a real client: only the calls run on the client's loop thread.

Observing, building requests, parsing answers, applying decisions, the scenario's hooks, the
event log and the recorder all run on the model's (the caller's) thread, while the calls run
on the client's loop thread.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict

import socialsim as ss
from socialsim.agents.agent import SocialAgent
from socialsim.llm.client import LLMClient

ANSWER = json.dumps(
    {"message": "I heard the river is poisoned.", "to": "all",
     "beliefs": {"c1": {"reason": "my neighbours say so", "credence": 0.7}}}
)  # fmt: skip


def _config(api_base: str) -> ss.ExperimentConfig:
    return ss.ExperimentConfig.from_dict({
        "name": "threads", "seed": 3, "steps": 2, "population": {"size": 30},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
        "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
        "agents": {"policy": "llm", "llm": {"model": "openai/stub", "api_base": api_base,
                                             "cache": False, "concurrency": 3, "retries": 0}},
        "output": {"report": False},
    })  # fmt: skip


def test_only_the_calls_run_on_the_clients_loop_thread(stub, monkeypatch):
    stub.delay = 0.005
    stub.behaviour = lambda body, n: (200, ANSWER)
    cfg = _config(stub.api_base)
    client = LLMClient(cfg.agents.llm)
    threads: dict[str, set[int]] = defaultdict(set)

    def watch(name, fn):
        def watched(*args, **kwargs):
            threads[name].add(threading.get_ident())
            return fn(*args, **kwargs)

        return watched

    monkeypatch.setattr(SocialAgent, "apply", watch("agent.apply", SocialAgent.apply))
    monkeypatch.setattr(SocialAgent, "observe", watch("agent.observe", SocialAgent.observe))
    with ss.SocialModel(cfg, clients={cfg.agents.llm.model_dump_json(): client}) as model:
        scenario, log, sink, recorder = model.scenario, model.log, model.log.sink, model.recorder
        scenario.observe = watch("scenario.observe", scenario.observe)
        scenario.on_decision = watch("scenario.on_decision", scenario.on_decision)
        log.emit = watch("log.emit", log.emit)
        sink.write = watch("log.write", sink.write)
        recorder.count = watch("recorder.count", recorder.count)
        policy = model.groups[0].policy
        policy.build_request = watch("policy.build_request", policy.build_request)
        policy.parse = watch("policy.parse", policy.parse)
        client._plan = watch("client.plan", client._plan)  # the client's own work: its loop
        model.run_model()
        loop_thread = client._loop_thread._thread
        assert loop_thread is not None and loop_thread.is_alive()
        loop = loop_thread.ident
        calls = model.llm_totals["calls"]
    me = threading.get_ident()
    assert calls == 60 and stub.calls == 60 and model.log.counts["decision"] == 60
    assert threads.pop("client.plan") == {loop} and loop != me
    expected = {"agent.apply", "agent.observe", "scenario.observe", "scenario.on_decision",
                "log.emit", "log.write", "recorder.count", "policy.build_request",
                "policy.parse"}  # fmt: skip
    assert set(threads) == expected
    assert {name: ids for name, ids in threads.items() if ids != {me}} == {}
