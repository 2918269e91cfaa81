"""A call cut by a time limit is counted by the setting that cut it, in summary.json and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from socialsim.agents.policies.llm import request_seed
from socialsim.analysis.summarize import data_quality, flat_metrics
from socialsim.core.event_tables import event_records
from tests.cli_in_process import run_cli
from tests.llm.fault_stub import FaultStub

ANSWER = json.dumps(
    {"message": "The river is fine.", "to": "all",
     "beliefs": {"c1": {"reason": "I saw it", "credence": 0.3}}}
)  # fmt: skip
SEED = 5


def _calls(*errors: str | None) -> pd.DataFrame:
    rows = [
        {"step": 1, "kind": "llm_call", "payload": {"cached": False, "error": e}} for e in errors
    ]
    return event_records(rows)


def test_data_quality_counts_timed_out_calls_by_the_setting_that_cut_them():
    quality = data_quality(
        _calls(
            None,
            "transient: timeout after 90s in all (agents.llm.call_timeout)",
            "transient: no time left of the call's 90s (agents.llm.call_timeout)",
            "transient: timeout after 60s (agents.llm.timeout)",
            "transient: timeout after 5s generating (agents.llm.local_timeout)",
            "deadline: no answer within the step deadline of 600s (agents.llm.step_deadline)",
            "transient: timeout after 90s in all (call_timeout)",  # a log from before the key
            "transient: HTTP 503: busy",
            "structured: no JSON object in the answer (after one repair round)",
        )
    )
    assert quality["unusable"] == 8 and quality["timed_out"] == 6
    assert quality["timed_out_by"] == {
        "agents.llm.call_timeout": 3,
        "agents.llm.local_timeout": 1,
        "agents.llm.step_deadline": 1,
        "agents.llm.timeout": 1,
    }
    flat = flat_metrics({"data_quality": quality})
    assert flat["data_quality.timed_out"] == 6.0
    assert flat["data_quality.timed_out_by.agents.llm.call_timeout"] == 3.0
    assert data_quality(_calls(None, "transient: HTTP 500"))["timed_out"] == 0


@pytest.mark.slow
def test_the_cli_names_the_setting_that_cut_the_timed_out_answers(tmp_path: Path):
    hung = [(1, 1), (4, 2)]  # (agent, step) whose request is never answered
    faults = {request_seed(SEED, agent, step): "hang" for agent, step in hung}
    with FaultStub(ANSWER, faults) as stub:
        config = {
            "name": "hung",
            "seed": SEED,
            "steps": 2,
            "population": {"size": 6},
            "network": {"kind": "ring"},
            "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
            "agents": {
                "policy": "llm",
                "llm": {"model": "openai/stub", "api_base": stub.api_base, "cache": False,
                        "timeout": 3, "call_timeout": 30, "retries": 0,
                        "breaker_failures": 0},
            },
            "output": {"dir": str(tmp_path / "runs"), "report": False},
        }  # fmt: skip
        path = tmp_path / "hung.yaml"
        path.write_text(yaml.safe_dump(config))
        result = run_cli("run", str(path), "--out", str(tmp_path / "run"))
    assert result.code == 0, result.err
    quality = json.loads((tmp_path / "run" / "summary.json").read_text())["data_quality"]
    cut = quality["timed_out"]  # the hung ones, and any other a loaded machine made late
    assert cut >= 2 and quality["timed_out_by"] == {"agents.llm.timeout": cut}
    unusable = quality["unusable"]
    by_template = ", ".join(f"{t} {n}" for t, n in quality["unusable_by_template"].items())
    assert sum(quality["unusable_by_template"].values()) == unusable
    line = f"unusable {unusable} ({by_template}): {cut} timed out (agents.llm.timeout))"
    assert line in result.out
    events = [json.loads(line) for line in (tmp_path / "run" / "events.jsonl").open()]
    late = {
        (e["agent"], e["step"])
        for e in events
        if e["kind"] == "llm_call" and "(agents.llm.timeout)" in (e["payload"]["error"] or "")
    }
    assert set(hung) <= late
