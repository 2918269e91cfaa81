"""Progress on a non-terminal: plain lines, also while a long step runs."""

import io
import time
from types import SimpleNamespace

import numpy as np
from rich.console import Console

from socialsim.experiments.progress import RunProgress


def _model(step: int) -> SimpleNamespace:
    totals = {"calls": 3, "prompt_tokens": 10, "completion_tokens": 5, "cached": 1, "errors": 0}
    return SimpleNamespace(llm_totals=totals, present=np.ones(4, bool), step_index=step)


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=200), out


def test_plain_lines_when_not_a_terminal_and_a_beat_during_a_long_step():
    console, out = _console()
    with RunProgress("demo", total=2, console=console, every=0.2) as progress:
        assert progress.plain
        model = _model(1)
        progress.update(model)
        deadline = time.monotonic() + 10
        while "step running" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)  # a step that lasts: the timer must speak
        model.step_index = 2
        progress.update(model)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0].startswith("demo: step 1/2 | agents 4")  # nothing before the first news
    assert any("step running" in line and "LLM calls 3" in line for line in lines)
    assert lines[-1].startswith("demo: step 2/2") and lines[-1].endswith("elapsed")
    assert "| done |" in lines[-1]
    assert "\x1b[" not in text  # no terminal control codes in a log file


def test_no_lines_when_disabled_and_no_plain_mode_on_a_terminal():
    console, out = _console()
    with RunProgress("q", total=1, console=console, enabled=False) as p:
        p.update(_model(1))
    assert out.getvalue() == ""
    tty = Console(file=io.StringIO(), force_terminal=True)
    assert not RunProgress("t", total=1, console=tty).plain


def test_the_total_counts_every_step_of_every_seed_in_every_arm():
    from pathlib import Path

    from socialsim.experiments.plan import RunPlan, plan_run

    examples = Path(__file__).resolve().parents[2] / "examples"
    quick = examples / "quickstart.yaml"  # steps 6, a control arm
    assert plan_run(quick, ["control=false"]).steps_total == 6
    assert plan_run(quick).steps_total == 12
    three = plan_run(quick, ["replicates=3", "seed=40"])
    assert three.steps_total == 36 and three.seeds == [40, 41, 42]
    assert three.arm_names == ["treatment", "control"]
    flooding = plan_run(examples / "replicate_flooding.yaml")  # three arms
    assert flooding.arm_names == ["treatment", "control", "instrument"]
    assert flooding.steps_total == flooding.cfg.steps * flooding.cfg.replicates * 3
    base = {"name": "t", "population": {"size": 5}, "agents": {"policy": "degroot"}}
    events = plan_run({**base, "mode": "event", "until": 5.0})
    assert events.steps_total is None and events.arm_names == ["treatment"]
    assert RunPlan(events.cfg).seeds == [events.cfg.seed]
