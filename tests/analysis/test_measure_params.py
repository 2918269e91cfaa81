"""`analysis.measures.<name>` params reach summary.json, tables, arms effects and `analyze`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import socialsim as ss
from socialsim.analysis.summarize import summarize_run
from socialsim.core.registry import MEASURES
from socialsim.core.rundata import load_run, populations, removal_steps

CLAIM = "australia_capital"
REACH = f"claims.{CLAIM}.adoption_benign.final_reach"

# a value other than the default for every param of every parameterised built-in measure
NON_DEFAULT = {
    "claims": {"threshold": 0.8},
    "negotiation": {"bins": 7},
    "network_growth": {
        "attributes": ["country"],
        "max_points": 9,
        "min_tail": 3,
        "resamples": 200,
        "seed": 4,
    },
    "consistency": {
        "threshold": 0.6,
        "resamples": 200,
        "seed": 5,
        "keywords": {CLAIM: {"true": ["canberra"], "manipulated": ["sydney"]}},
    },
    "message_quality": {"topics": {CLAIM: ["capital"]}},
    "toxicity": {"threshold": 0.6},
    "feed": {"max_exposure": 5, "resamples": 200, "seed": 3},
    "self_report": {"sources": ["llm", "rule"], "level": 0.9},
}


def _cfg(tmp_path, measures, **over):
    data = {
        "name": "params",
        "seed": 3,
        "steps": 4,
        "population": {"size": 16},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.2}},
        "agents": {"policy": "degroot"},
        "scenario": {
            "kind": "misinformation",
            "params": {"claim": CLAIM, "attackers": {"count": 3}, "initial_credence": 0.1},
        },
        "analysis": {"measures": measures},
        "output": {"dir": str(tmp_path / "runs"), "report": False, "formats": ["jsonl"]},
    }
    cfg = ss.ExperimentConfig.from_dict(data)
    return cfg.with_overrides(over) if over else cfg


def _benign_reach(run_dir, threshold: float) -> float:
    """Final share of benign agents with credence >= threshold, straight from the agents table."""
    run = load_run(run_dir)
    benign = populations(run)["benign"]
    agents = run.agents
    last = agents[agents["step"] == agents["step"].max()].set_index("agent")["credence"]
    return float((last.loc[benign].to_numpy() >= threshold).mean())


def _present_reach(run_dir, threshold: float) -> float:
    """Final share of all present agents with credence >= threshold."""
    run = load_run(run_dir)
    gone = removal_steps(run.events)
    last = run.agents[run.agents["step"] == run.agents["step"].max()]
    last = last[~last["agent"].isin(list(gone))]
    return float((last["credence"] >= threshold).mean())


def _reach(summary: dict) -> float:
    return summary["measures"]["claims"][CLAIM]["adoption_benign"]["final_reach"]


@pytest.fixture(scope="module")
def strict_arms(tmp_path_factory):
    """Two seeds x two arms, belief counted from credence 0.8."""
    tmp = tmp_path_factory.mktemp("strict")
    cfg = _cfg(tmp, {"claims": {"threshold": 0.8}}, replicates=2, control=True)
    return ss.run(cfg, out=tmp / "arms")


@pytest.mark.slow
def test_claims_threshold_reaches_each_summary_and_its_tables(strict_arms):
    differs = False
    for arm, runs in strict_arms.runs.items():
        for run in runs:
            strict, loose = _benign_reach(run.dir, 0.8), _benign_reach(run.dir, 0.5)
            differs |= arm == "treatment" and strict != loose
            written = json.loads((run.dir / "summary.json").read_text())
            assert _reach(written) == pytest.approx(strict)
            curve = pd.read_csv(run.dir / "tables" / f"adoption_{CLAIM}.csv")
            benign = curve[curve["population"] == "benign"]
            assert benign["share"].iloc[-1] == pytest.approx(strict)
            # an explicit threshold still replaces the config's
            assert _reach(summarize_run(run, threshold=0.5)) == pytest.approx(loose)
            steps = pd.read_csv(run.dir / "steps.csv")
            present = _present_reach(run.dir, 0.8)
            assert steps[f"believers.{CLAIM}"].iloc[-1] == pytest.approx(present)
    assert differs  # the run is one where the threshold matters


@pytest.mark.slow
def test_claims_threshold_reaches_the_arms_results_and_effects(strict_arms):
    results = pd.read_csv(strict_arms.dir / "results.csv")
    for arm, runs in strict_arms.runs.items():
        for run in runs:
            row = results[(results["arm"] == arm) & (results["seed"] == run.summary["run"]["seed"])]
            assert row[REACH].iloc[0] == pytest.approx(_benign_reach(run.dir, 0.8))
    effect = next(e for e in strict_arms.summary["effects"] if e["measure"] == REACH)
    treated = [_benign_reach(r.dir, 0.8) for r in strict_arms.runs["treatment"]]
    control = [_benign_reach(r.dir, 0.8) for r in strict_arms.runs["control"]]
    assert effect["treatment"] == pytest.approx(np.mean(treated))
    assert effect["control"] == pytest.approx(np.mean(control))
    assert effect["difference"] == pytest.approx(np.mean(treated) - np.mean(control))


@pytest.mark.slow
def test_analyze_keeps_the_configured_threshold(strict_arms):
    from socialsim.cli import app

    before = json.loads((strict_arms.dir / "summary.json").read_text())
    run_dir = strict_arms.runs["treatment"][0].dir
    facts = json.loads((run_dir / "summary.json").read_text())["scenario"]
    (run_dir / "summary.json").write_text(json.dumps({"scenario": facts}))  # measures gone
    for path in (run_dir, strict_arms.dir):
        result = CliRunner().invoke(app, ["analyze", str(path)])
        assert result.exit_code == 0, result.output
    assert _reach(json.loads((run_dir / "summary.json").read_text())) == pytest.approx(
        _benign_reach(run_dir, 0.8)
    )
    after = json.loads((strict_arms.dir / "summary.json").read_text())
    assert after["effects"] == before["effects"]


@pytest.fixture
def seen_params():
    """Every parameterised measure wrapped to record the params it is called with."""
    seen: dict[str, list[dict]] = {}
    originals = [e for e in MEASURES.entries() if e.params.model_fields]
    for entry in originals:

        def spy(run, params, _fn=entry.obj, _name=entry.name):
            seen.setdefault(_name, []).append(params.model_dump())
            return _fn(run, params)

        MEASURES.add(entry.name, spy, entry.params)
    try:
        yield seen
    finally:
        for entry in originals:
            MEASURES.add(entry.name, entry.obj, entry.params)


@pytest.mark.slow
def test_every_parameterised_measure_gets_the_configured_params(tmp_path, seen_params):
    from socialsim.cli import app

    assert set(seen_params) == set()
    parameterised = {e.name for e in MEASURES.entries() if e.params.model_fields}
    assert parameterised == set(NON_DEFAULT), "give NON_DEFAULT params for every measure"
    expected = {
        name: MEASURES.get(name).params.model_validate(params).model_dump()
        for name, params in NON_DEFAULT.items()
    }
    for name, params in expected.items():  # every value differs from the default
        default = MEASURES.get(name).params().model_dump()
        assert all(params[k] != default[k] for k in params), name

    arms = ss.run(_cfg(tmp_path, NON_DEFAULT, steps=2, control=True), out=tmp_path / "arms")
    one = ss.run(_cfg(tmp_path, NON_DEFAULT, steps=2), out=tmp_path / "one")
    for path in (arms.dir, one.dir):
        result = CliRunner().invoke(app, ["analyze", str(path)])
        assert result.exit_code == 0, result.output
    # summary.json of the two arm runs and the single run, then `analyze` of each again
    for name, params in expected.items():
        assert seen_params[name] == [params] * 6, name
