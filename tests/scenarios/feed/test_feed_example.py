"""examples/replicate_frameref.yaml runs (small) and writes the per-exposure series."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import socialsim as ss

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "replicate_frameref.yaml"
SMALL = {"population.size": 40, "steps": 4, "scenario.params.n_items": 80, "output.report": False}


def test_example_writes_the_per_exposure_series(tmp_path):
    cfg = ss.ExperimentConfig.from_yaml(EXAMPLE)
    assert cfg.scenario.kind == "feed" and cfg.agents.policy != "llm"
    assert cfg.population.size * cfg.steps >= 3000  # the design at full size, run small here
    ss.run(EXAMPLE, out=tmp_path / "run", overrides=SMALL)
    feed = json.loads((tmp_path / "run" / "summary.json").read_text())["measures"]["feed"]
    assert {"1", "2"} <= set(feed["by_exposure"])
    assert {"1", "2"} <= set(feed["by_framing_exposure"]["neutral"])
    assert set(feed["by_framing"]) == set(cfg.scenario.params["framings"])
    assert feed["confidence_by_exposure"]["1"]["mean"] is not None
    assert feed["repetition"]["pairs"] > 0


@pytest.mark.slow
def test_example_with_a_control_arm_compares_framed_and_plain(tmp_path):
    arms = ss.run(EXAMPLE, out=tmp_path / "arms", overrides={**SMALL, "control": True})
    summary = json.loads((tmp_path / "arms" / "summary.json").read_text())
    assert summary["kind"] == "arms"
    control = json.loads(next((tmp_path / "arms" / "control").glob("s*/summary.json")).read_text())
    assert control["scenario"]["neutral"] is True
    assert "feed.acceptance.rate" in json.dumps(summary["effects"])
    del arms


@pytest.mark.slow
def test_a_feed_run_stopped_after_a_step_resumes_to_the_same_run(tmp_path, monkeypatch):
    from socialsim.experiments import checkpoint
    from socialsim.experiments.resume import resume
    from tests.simulation.test_checkpoint import Stop, example, stop_after
    from tests.simulation.test_resume import same_run

    monkeypatch.setattr(checkpoint, "COST_FACTOR", 0.0)  # a checkpoint after every step
    cfg = example("replicate_frameref").with_overrides(["scenario.params.n_items=80"])
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    with pytest.raises(Stop):
        ss.run(cfg, out=tmp_path / "cut", on_step=stop_after(2))
    done = resume(tmp_path / "cut")
    assert done.summary["run"]["resumed"] == {"from_checkpoint_at_step": 2}
    same_run(whole, tmp_path / "cut")
