"""A SIGKILLed LLM run resumes from its last checkpoint: nothing answered is asked again, and
the record equals that of a run that was never killed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from socialsim.experiments.checkpoint import CheckpointError, read_header
from tests.llm.fault_stub import FaultStub
from tests.llm.test_faults import ANSWER, assert_valid_log, cached, config, run, seed_of

CLI = [sys.executable, "-c", "from socialsim.cli import main; main()"]
# the CLI with a checkpoint after every step, however cheap the steps (the stub answers at once)
EVERY_STEP = [
    sys.executable,
    "-c",
    "from socialsim.experiments import checkpoint; checkpoint.COST_FACTOR = 0.0\n"
    "from socialsim.cli import main; main()",
]


def checkpoint_step(run_dir: Path) -> int:
    """The step of the run's checkpoint (0 while there is none)."""
    try:
        return read_header(run_dir)["step"]
    except CheckpointError:
        return 0


def comparable(events: pd.DataFrame) -> list[tuple]:
    """The events without what a cached answer changes (an llm_call's latency, cost, cached)."""
    rows = []
    for e in events.itertuples():
        payload = e.payload if e.kind != "llm_call" else {"error": e.payload["error"]}
        rows.append((e.step, e.kind, e.agent, e.target, e.claim, json.dumps(payload, sort_keys=True)))  # fmt: skip
    return rows


@pytest.mark.slow
def test_a_sigkilled_llm_run_resumes_from_its_checkpoint_and_asks_nothing_twice(tmp_path):
    size, steps = 10, 4
    with FaultStub(ANSWER) as stub:
        whole_cfg = config(tmp_path, stub.api_base, size=size, steps=steps)
        whole_cfg["agents"]["llm"]["cache_path"] = str(tmp_path / "whole-cache.sqlite")
        run(whole_cfg, tmp_path / "whole")
    hang = {seed_of(agent, 3): "hang" for agent in range(5, size)}  # half of step 3 hangs
    killed = tmp_path / "killed"
    with FaultStub(ANSWER, hang) as stub:
        cfg = config(
            tmp_path, stub.api_base, size=size, steps=steps,
            timeout=600, call_timeout=600, step_deadline=600,
        )  # fmt: skip
        (tmp_path / "c.json").write_text(json.dumps(cfg))
        proc = subprocess.Popen(
            [
                *EVERY_STEP,
                "run",
                str(tmp_path / "c.json"),
                "--out",
                str(killed),
                "-q",
                "--no-report",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            give_up = time.monotonic() + 90
            while time.monotonic() < give_up and not (
                checkpoint_step(killed) == 2 and cached(tmp_path / "cache.sqlite") == 25
            ):
                time.sleep(0.05)
            assert proc.poll() is None and stub.stats()["received"] == 30
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    assert not (killed / "summary.json").exists()
    with FaultStub(ANSWER, port=stub.port) as again:
        done = subprocess.run(
            [*CLI, "run", "--resume", str(killed), "-q", "--no-report"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        # steps 1-2 come from the checkpoint, five answers of step 3 from the cache
        assert again.stats()["received"] == 5 + size
    summary = json.loads((killed / "summary.json").read_text())
    assert summary["run"]["resumed"] == {"from_checkpoint_at_step": 2}
    whole_events, killed_events = (assert_valid_log(d) for d in (tmp_path / "whole", killed))
    assert comparable(killed_events) == comparable(whole_events)
    pd.testing.assert_frame_equal(
        pd.read_parquet(killed / "agents.parquet"),
        pd.read_parquet(tmp_path / "whole" / "agents.parquet"),
    )
    calls = killed_events[killed_events.kind == "llm_call"].payload
    assert sum(p["cached"] for p in calls) == 5  # the answers that arrived before the kill
