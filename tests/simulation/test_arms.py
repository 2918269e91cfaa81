"""Replicates and a matched control arm: same draws, manipulation removed, effects with intervals."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import socialsim as ss
from socialsim.analysis.stats import paired_effect
from socialsim.simulation.arms import compare_arms
from socialsim.simulation.config import ExperimentConfig


def _cfg(tmp_path, **over):
    data = {
        "name": "arms",
        "seed": 11,
        "steps": 4,
        "population": {"size": 40},
        "network": {"kind": "barabasi_albert", "params": {"m": 2}},
        "agents": {
            "policy": "independent_cascade",
            "params": {"p": 0.4},
            "activation": "fraction",
            "activation_fraction": 0.6,
        },
        "scenario": {
            "kind": "misinformation",
            "params": {"claim": "australia_capital", "attackers": {"count": 3}},
        },
        "output": {"dir": str(tmp_path / "runs"), "report": False},
    }
    cfg = ExperimentConfig.from_dict(data)
    return cfg.with_overrides(over) if over else cfg


@pytest.fixture(scope="module")
def arms(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("arms")
    return ss.run(_cfg(tmp, replicates=3, control=True), out=tmp / "a")


def _events(run_dir):
    with open(run_dir / "events.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_layout_and_results(arms):
    assert sorted(p.name for p in (arms.dir / "treatment").iterdir()) == ["s11", "s12", "s13"]
    assert sorted(p.name for p in (arms.dir / "control").iterdir()) == ["s11", "s12", "s13"]
    results = pd.read_csv(arms.dir / "results.csv")
    assert len(results) == 6
    assert set(results["arm"]) == {"treatment", "control"}
    summary = json.loads((arms.dir / "summary.json").read_text())
    assert summary["kind"] == "arms" and summary["seeds"] == [11, 12, 13]


def test_control_arm_is_matched_and_unmanipulated(arms):
    for t, c in zip(arms.runs["treatment"], arms.runs["control"], strict=True):
        te, ce = _events(t.dir), _events(c.dir)
        t_roles = [(e["agent"], e["payload"]["role"], e["payload"]["placebo"]) for e in te
                   if e["kind"] == "action" and e["payload"]["type"] == "role"]  # fmt: skip
        c_roles = [(e["agent"], e["payload"]["role"], e["payload"]["placebo"]) for e in ce
                   if e["kind"] == "action" and e["payload"]["type"] == "role"]  # fmt: skip
        assert [(a, r) for a, r, _ in t_roles] == [(a, r) for a, r, _ in c_roles]
        assert all(not p for *_, p in t_roles) and all(p for *_, p in c_roles)
        assert any(e["kind"] == "injection" for e in te)
        assert not any(e["kind"] in ("injection", "message") for e in ce)
        # same network, personas and activation in both arms
        assert (t.dir / "graph.graphml").read_text().count("<edge") == (
            c.dir / "graph.graphml"
        ).read_text().count("<edge")
        pd.testing.assert_series_equal(t.steps["active"], c.steps["active"])
        assert t.personas["name"].tolist() == c.personas["name"].tolist()
        assert t.summary["populations"] == c.summary["populations"]
        # nothing spreads without attackers: the control's benign agents stay at 0.1
        last = c.agents[c.agents["step"] == c.agents["step"].max()]
        assert (last["credence"] == 0.1).sum() >= 37


def test_effects_are_paired_differences_with_bootstrap_interval(arms):
    summary = arms.summary
    key = "claims.australia_capital.adoption_benign.final_reach"
    effect = next(e for e in summary["effects"] if e["measure"] == key)
    t = [r.summary["measures"]["claims"]["australia_capital"]["adoption_benign"]["final_reach"]
         for r in arms.runs["treatment"]]  # fmt: skip
    c = [r.summary["measures"]["claims"]["australia_capital"]["adoption_benign"]["final_reach"]
         for r in arms.runs["control"]]  # fmt: skip
    assert effect["treatment"] == pytest.approx(sum(t) / 3)
    assert effect["control"] == pytest.approx(sum(c) / 3)
    assert effect["difference"] == pytest.approx(sum(a - b for a, b in zip(t, c, strict=True)) / 3)
    assert effect["n_replicates"] == 3
    assert effect["ci_low"] <= effect["difference"] <= effect["ci_high"]
    assert effect["ci_low"] >= min(a - b for a, b in zip(t, c, strict=True)) - 1e-12
    assert effect["ci_high"] <= max(a - b for a, b in zip(t, c, strict=True)) + 1e-12


def test_paired_effect_by_hand():
    out = paired_effect([0.5, 0.6, 0.4], [0.1, 0.2, 0.1])
    assert out["difference"] == pytest.approx((0.4 + 0.4 + 0.3) / 3)
    assert out["treatment"] == pytest.approx(0.5) and out["control"] == pytest.approx(0.4 / 3)
    assert 0.3 - 1e-9 <= out["ci_low"] <= out["ci_high"] <= 0.4 + 1e-9
    one = paired_effect([0.5], [0.1])
    assert one["difference"] == pytest.approx(0.4) and one["ci_low"] is None
    nan = paired_effect([0.5, float("nan")], [0.1, 0.2])
    assert nan["n_replicates"] == 1


def test_compare_arms_pairs_by_seed():
    results = pd.DataFrame(
        {"arm": ["treatment", "control", "control", "treatment"], "seed": [1, 1, 2, 2],
         "m": [0.9, 0.1, 0.3, 0.4]}
    )  # fmt: skip
    (effect,) = compare_arms(results, ["m"])
    assert effect["difference"] == pytest.approx(((0.9 - 0.1) + (0.4 - 0.3)) / 2)


def test_cli_prints_the_effect_with_its_interval(tmp_path):
    from socialsim.cli import app

    path = tmp_path / "c.yaml"
    path.write_text(_cfg(tmp_path).to_yaml())
    result = CliRunner().invoke(
        app,
        ["run", str(path), "--control", "--set", "replicates=3", "--out", str(tmp_path / "o"),
         "--quiet", "--no-report"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "treatment minus matched control" in result.output
    line = next(x for x in result.output.splitlines() if "adoption_benign.final_reach" in x)
    assert "[" in line and "(n=3)" in line


def test_single_run_has_no_effects_and_says_so(tmp_path):
    from socialsim.cli import app

    path = tmp_path / "c.yaml"
    path.write_text(_cfg(tmp_path).to_yaml())
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    assert "no control arm" in result.output


def test_one_replicate_gets_an_interval_over_its_agents(tmp_path):
    from socialsim.analysis.stats import bootstrap_ci

    arms = ss.run(_cfg(tmp_path, control=True), out=tmp_path / "one")
    key = "claims.australia_capital.adoption_benign.final_reach"
    effect = next(e for e in arms.summary["effects"] if e["measure"] == key)
    t, c = arms.runs["treatment"][0], arms.runs["control"][0]
    attackers = set(t.summary["scenario"]["attackers"])
    last_t = t.agents[t.agents["step"] == t.agents["step"].max()].set_index("agent")["credence"]
    last_c = c.agents[c.agents["step"] == c.agents["step"].max()].set_index("agent")["credence"]
    benign = [a for a in range(40) if a not in attackers]
    diffs = [float(last_t[a] >= 0.5) - float(last_c[a] >= 0.5) for a in benign]
    assert effect["interval"] == "agents" and effect["n_agents"] == len(benign)
    assert effect["difference"] == pytest.approx(sum(diffs) / len(diffs))
    lo, hi = bootstrap_ci(diffs, n=5000, rng=11)
    assert (effect["ci_low"], effect["ci_high"]) == pytest.approx((lo, hi))
    peak = next(e for e in arms.summary["effects"] if e["measure"].endswith("benign.peak"))
    assert peak["ci_low"] is None


def test_the_documented_command_prints_the_attack_effect(tmp_path):
    """`socialsim run examples/misinformation.yaml --set agents.policy=independent_cascade
    --control --set replicates=5` prints the attackers' effect with its interval."""
    from pathlib import Path

    from socialsim.cli import app

    example = Path(__file__).resolve().parents[2] / "examples" / "misinformation.yaml"
    args = ["run", str(example), "--set", "agents.policy=independent_cascade", "--control",
            "--set", "replicates=5", "--out", str(tmp_path / "m"), "-q", "--no-report"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "adoption_benign.final_reach" in x)
    assert "treatment vs" in line and "control, difference" in line and "(n=5)" in line
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    effect = next(e for e in summary["effects"] if e["measure"].endswith("benign.final_reach"))
    assert effect["n_replicates"] == 5 and effect["ci_low"] <= effect["ci_high"]
    assert f"[{effect['ci_low']:.3f}, {effect['ci_high']:.3f}]" in line


def test_analyze_an_arms_directory_again(arms):
    from socialsim.simulation.arms import analyze_arms, is_arms_dir

    before = json.loads((arms.dir / "summary.json").read_text())
    assert is_arms_dir(arms.dir) and not is_arms_dir(arms.dir / "treatment" / "s11")
    again = analyze_arms(arms.dir)
    assert [e["measure"] for e in again.summary["effects"]] == [
        e["measure"] for e in before["effects"]
    ]
    for new, old in zip(again.summary["effects"], before["effects"], strict=True):
        for key in ("treatment", "control", "difference", "ci_low", "ci_high"):
            assert new[key] == pytest.approx(old[key], rel=1e-9)
    assert json.loads((arms.dir / "summary.json").read_text()) == again.summary
    sub = json.loads((arms.dir / "treatment" / "s11" / "summary.json").read_text())
    assert sub["run"]["in_arms"] is True
