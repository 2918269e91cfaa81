"""An LLM run whose internal models are built without validating again writes what a run
validating every one of them (and rendering, tokenizing and addressing the plain way) writes:
the same event log byte for byte, the same prompts, the same agents table."""

import hashlib
import json
from collections import Counter

import pytest

import socialsim as ss
import socialsim.agents.agent as agent_module
import socialsim.agents.memory as memory_module
import socialsim.agents.policies.llm as llm_module
import socialsim.agents.sampling as sampling_module
import socialsim.simulation.actions as actions_module
from socialsim.llm.prompts import render_part
from socialsim.testing import ScriptedClient, clients_for

LLM = {"model": "openai/x", "api_base": "http://127.0.0.1:9/v1"}
CONFIGS = {
    "misinformation": {
        "name": "misinfo", "seed": 3, "steps": 3, "population": {"size": 30},
        "network": {"kind": "barabasi_albert", "params": {"m": 3}},
        "agents": {"policy": "llm", "inbox_limit": 4, "memory_k": 3, "activation": "fraction",
                   "activation_fraction": 0.6, "llm": LLM},
        "scenario": {"kind": "misinformation", "params": {
            "claim": "australia_capital", "attackers": {"count": 3}, "probe_steps": []}},
    },
    "two claims, fixed persona fields": {
        "name": "two", "seed": 5, "steps": 3,
        "population": {"size": 24, "personas": {"fixed": {
            "country": "FR", "age": 30.0, "values": ["care"], "big_five": {"openness": 0.9}}}},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.2}},
        "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False},
                   {"id": "c2", "text": "The mayor resigned yesterday.", "truth": True}],
        "agents": {"policy": "llm", "memory_k": 2, "llm": LLM},
    },
    "compact answers, brief personas": {
        "name": "talk", "seed": 7, "steps": 3, "population": {"size": 20},
        "network": {"kind": "ring"},
        "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
        "agents": {"policy": "llm", "memory_k": 3, "llm": LLM,
                   "prompt": {"template": "talk_v1", "persona": "brief"}},
    },
}  # fmt: skip


def _answer(request):
    """A varied, seeded answer: silence, failures, unparsable text, named recipients."""
    h = int(hashlib.sha256(str(request.seed).encode()).hexdigest(), 16)
    if h % 17 == 0:
        return None
    if h % 19 == 0:
        return "not json"
    names = ((request.json_schema or {}).get("properties", {}).get("to", {}).get("enum")) or ["all"]
    props = request.schema.model_json_schema()["properties"]
    credence = (h >> 8) % 101 / 100
    out = {
        "message": "" if h % 7 == 0 else "I really think the river near town is poisoned.",
        "to": names[h % len(names)].upper() if h % 3 == 0 else names[h % len(names)],
    }
    if "credence" in props:
        out["credence"] = credence
    elif "beliefs" in props:
        out["beliefs"] = {c: {"reason": f"seed {h % 13}", "credence": credence}
                          for c in ("c1", "c2", "australia_capital")}  # fmt: skip
    return json.dumps(out)


def _run(cfg_dict, tmp_path, name):
    cfg = ss.ExperimentConfig.from_dict(
        {**cfg_dict, "output": {"report": False, "graphml_max_agents": 0}}
    )
    client = ScriptedClient(_answer)
    run = ss.run(cfg, out=tmp_path / name, clients=clients_for(cfg, client))
    prompts = [(r.messages, r.json_schema, r.seed, r.model, r.tag) for r in client.requests]
    return (tmp_path / name / "events.jsonl").read_bytes(), prompts, run.agents


def _validated(cls, values):
    return cls(**values)


def _plain_user(self, fields):
    return render_part(self.template, "user", **fields)


def _plain_shared(text):
    """A text's term counts made afresh for every item, shared with no other memory."""
    shared = memory_module._Text.__new__(memory_module._Text)
    tokens = memory_module.tokenize(text)
    shared.text, shared.counts, shared.length = text, dict(Counter(tokens)), len(tokens)
    return shared


def _plain_recipient(self, obs, to, message):
    if not message:
        return "none"
    key = " ".join(str(to or "").replace("@", " ").split()).casefold()
    if key in llm_module._EVERYONE:
        return "all"
    if key in llm_module._NOBODY:
        return "none"
    lookup = {}
    for j, label in self._labels(obs).items():
        for alias in (label, f"#{j}", str(j), f"agent {j}"):
            lookup.setdefault(alias.casefold(), j)
    return lookup.get(key, "all")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_run_is_the_one_that_validates_everything(name, tmp_path, monkeypatch):
    fast = _run(CONFIGS[name], tmp_path, "fast")
    for module in (agent_module, llm_module, actions_module, sampling_module):
        monkeypatch.setattr(module, "trusted", _validated)
    monkeypatch.setattr(llm_module.LLMPolicy, "_user", _plain_user)
    monkeypatch.setattr(llm_module.LLMPolicy, "_recipient", _plain_recipient)
    monkeypatch.setattr(memory_module, "_shared", _plain_shared)
    plain = _run(CONFIGS[name], tmp_path, "plain")
    events, prompts, agents = fast
    assert events == plain[0] and events.count(b'"kind": "llm_call"') == len(prompts) > 20
    assert events.count(b'"kind": "message"') > 5 and b'"channel": "direct"' in events
    assert prompts == plain[1]
    assert agents.equals(plain[2])
