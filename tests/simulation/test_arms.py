"""Replicates and a matched control arm: same draws, manipulation removed, effects with intervals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import socialsim as ss
from socialsim.analysis.stats import paired_effect
from socialsim.experiments.arms import compare_arms
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


EFFECT_KEYS = {
    "measure", "treatment", "control", "difference", "ci_low", "ci_high", "n_replicates",
    "interval", "no_interval", "sd_difference", "mde",
}  # fmt: skip


def test_effects_are_paired_differences_with_a_t_interval(arms):
    from socialsim.analysis.power import minimum_detectable_effect
    from socialsim.analysis.stats import paired_t_interval

    summary = arms.summary
    assert all(set(e) == EFFECT_KEYS for e in summary["effects"])
    key = "claims.australia_capital.adoption_benign.final_reach"
    effect = next(e for e in summary["effects"] if e["measure"] == key)
    t = [r.summary["measures"]["claims"]["australia_capital"]["adoption_benign"]["final_reach"]
         for r in arms.runs["treatment"]]  # fmt: skip
    c = [r.summary["measures"]["claims"]["australia_capital"]["adoption_benign"]["final_reach"]
         for r in arms.runs["control"]]  # fmt: skip
    diffs = np.subtract(t, c)
    assert effect["treatment"] == pytest.approx(sum(t) / 3)
    assert effect["control"] == pytest.approx(sum(c) / 3)
    assert effect["difference"] == pytest.approx(diffs.mean())
    assert effect["n_replicates"] == 3 and effect["no_interval"] is None
    assert effect["interval"] == {"method": "paired t", "level": 0.95, "n": 3}
    assert (effect["ci_low"], effect["ci_high"]) == pytest.approx(paired_t_interval(diffs))
    assert effect["sd_difference"] == pytest.approx(np.std(diffs, ddof=1))
    assert effect["mde"] == pytest.approx(minimum_detectable_effect(np.std(diffs, ddof=1), 3))


def test_each_run_records_its_wall_time(arms):
    walls = {arm: [r.summary["run"]["wall_s"] for r in runs] for arm, runs in arms.runs.items()}
    assert all(w > 0 for ws in walls.values() for w in ws)
    expected = sum(sum(ws) / len(ws) for ws in walls.values())
    assert arms.summary["seconds_per_replicate"] == pytest.approx(expected)
    sub = json.loads((arms.dir / "treatment" / "s12" / "summary.json").read_text())
    assert sub["run"]["wall_s"] == walls["treatment"][1]


def test_compare_arms_pairs_by_seed():
    results = pd.DataFrame(
        {"arm": ["treatment", "control", "control", "treatment"], "seed": [1, 1, 2, 2],
         "m": [0.9, 0.1, 0.3, 0.4]}
    )  # fmt: skip
    (effect,) = compare_arms(results, ["m"])
    assert effect["difference"] == pytest.approx(((0.9 - 0.1) + (0.4 - 0.3)) / 2)


@pytest.mark.slow
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
    assert "[" in line and "(paired t 95%, n=3" in line


def test_single_run_has_no_effects_and_says_so(tmp_path):
    from socialsim.cli import app

    path = tmp_path / "c.yaml"
    path.write_text(_cfg(tmp_path).to_yaml())
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    assert "no control arm" in result.output


def test_one_replicate_has_the_estimate_and_says_how_to_get_an_interval(tmp_path):
    from socialsim.cli import app

    path = tmp_path / "c.yaml"
    path.write_text(_cfg(tmp_path).to_yaml())
    args = ["run", str(path), "--control", "--out", str(tmp_path / "one"), "-q", "--no-report"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    for effect in summary["effects"]:
        assert set(effect) == EFFECT_KEYS and effect["n_replicates"] == 1
        assert effect["ci_low"] is None and effect["interval"] is None and effect["mde"] is None
        assert effect["no_interval"] == "1 replicate; an interval needs at least 3 (--replicates 3)"
    line = next(x for x in result.output.splitlines() if "adoption_benign.final_reach" in x)
    assert "[" not in line
    assert "(no interval: 1 replicate; run --replicates 3 for one (about " in line
    assert "minimum detectable effect" in result.output


def test_describe_effect_estimates_the_time_an_interval_takes():
    from socialsim.experiments.arms import describe_effect

    effect = {"measure": "m", **paired_effect([0.4, 0.5], [0.1, 0.1])}
    assert describe_effect(effect, 40.0).endswith(
        "difference +0.350 (no interval: 2 replicates; run --replicates 3 for one "
        "(about 2 minutes))"
    )
    assert describe_effect(effect, 5.0).endswith("(about 15 seconds))")
    assert describe_effect(effect).endswith("run --replicates 3 for one)")
    full = {"measure": "m", **paired_effect([0.4, 0.5, 0.7], [0.1, 0.1, 0.2])}
    text = describe_effect(full)
    assert f"[{full['ci_low']:.3f}, {full['ci_high']:.3f}] (paired t 95%, n=3" in text
    assert f"detectable from {full['mde']:.3f})" in text


@pytest.mark.slow
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
    assert "treatment vs" in line and "control, difference" in line
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    effect = next(e for e in summary["effects"] if e["measure"].endswith("benign.final_reach"))
    assert effect["n_replicates"] == 5 and effect["ci_low"] <= effect["ci_high"]
    assert f"[{effect['ci_low']:.3f}, {effect['ci_high']:.3f}] (paired t 95%, n=5" in line


@pytest.mark.slow
def test_analyze_an_arms_directory_again(arms):
    from socialsim.experiments.arms import analyze_arms, is_arms_dir

    before = json.loads((arms.dir / "summary.json").read_text())
    assert is_arms_dir(arms.dir) and not is_arms_dir(arms.dir / "treatment" / "s11")
    again = analyze_arms(arms.dir)
    assert [e["measure"] for e in again.summary["effects"]] == [
        e["measure"] for e in before["effects"]
    ]
    for new, old in zip(again.summary["effects"], before["effects"], strict=True):
        for key in ("treatment", "control", "difference", "ci_low", "ci_high", "sd_difference"):
            assert new[key] == pytest.approx(old[key], rel=1e-9)
    assert json.loads((arms.dir / "summary.json").read_text()) == again.summary
    assert again.summary["seconds_per_replicate"] == before["seconds_per_replicate"] > 0
    sub = json.loads((arms.dir / "treatment" / "s11" / "summary.json").read_text())
    assert sub["run"]["in_arms"] is True


def test_plan_from_a_pilot_arms_directory(arms):
    from socialsim.analysis.power import minimum_detectable_effect, replicates_needed
    from socialsim.cli import app

    key = "claims.australia_capital.adoption_benign.mean_credence_final"
    results = pd.read_csv(arms.dir / "results.csv")
    t = results[results["arm"] == "treatment"].set_index("seed")[key]
    c = results[results["arm"] == "control"].set_index("seed")[key]
    sd = float(np.std((t - c).to_numpy(), ddof=1))
    args = ["plan", str(arms.dir), "--effect", "0.02", "--measure", key]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if key in x)
    assert f"SD of paired differences {sd:.4g} from 3 replicates" in line
    # planned on average over the SDs 3 replicates leave possible (a credence's differences:
    # SD at most 1); the pilot's SD alone beside
    planned = replicates_needed(0.02, sd, minimum=3, pilot_n=3, sd_cap=1.0)
    assert f"; {planned} replicates (on average over what 3 replicates leave unknown" in line
    assert f"; {replicates_needed(0.02, sd, minimum=3)} if it were exactly {sd:.4g}" in line
    mde = minimum_detectable_effect(sd, 3, pilot_n=3, sd_cap=1.0)
    assert f"minimum detectable effect is {mde:.3g}" in line
    every = CliRunner().invoke(app, ["plan", str(arms.dir), "--effect", "0.02", "--power", "0.9"])
    assert every.exit_code == 0, every.output
    assert sum(" replicates" in x for x in every.output.splitlines()[1:]) == len(
        arms.summary["effects"]
    )


def test_plan_from_one_replicate_is_the_worst_case(tmp_path):
    from socialsim.analysis.power import replicates_needed
    from socialsim.cli import app

    ss.run(_cfg(tmp_path, control=True), out=tmp_path / "pilot")
    key = "claims.australia_capital.adoption_benign.final_reach"
    result = CliRunner().invoke(app, ["plan", str(tmp_path / "pilot"), "--effect", "0.1"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if key in x)
    assert "worst case: SD at most 1" in line
    assert f"{replicates_needed(0.1, 1.0, minimum=3)} replicates" in line
    assert "at least 3 replicates (--replicates 3) gives a sharper answer" in result.output


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"effect": 0.1, "measure": "claims.nope"}, "--measure 'claims.nope' is not in"),
        ({"effect": 0.0}, "--effect must be a positive difference"),
        ({"effect": 0.1, "power": 1.5}, "power must lie between 0 and 1"),
    ],
)
def test_plan_bad_input_says_what_is_wrong(arms, kwargs, message):
    from socialsim.core.errors import SocialsimError
    from socialsim.experiments.arms import plan_arms

    with pytest.raises(SocialsimError, match=message):
        plan_arms(arms.dir, **kwargs)


@pytest.mark.slow
def test_plan_needs_an_arms_directory_with_a_control(tmp_path, arms):
    import subprocess
    import sys

    from socialsim.core.errors import SocialsimError
    from socialsim.experiments.arms import plan_arms

    code = "import sys; from socialsim.cli import main; sys.argv = ['socialsim', *sys.argv[1:]]; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "plan", str(arms.dir / "treatment"), "--effect", "0.1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {str(arms.dir / 'treatment')!r} is not a finished arms directory (no "
        "results.csv); pass the directory of `socialsim run CONFIG --control`"
    ]
    alone = ss.run(_cfg(tmp_path, replicates=2), out=tmp_path / "alone")
    with pytest.raises(SocialsimError, match="has no control arm; plan from a pilot run with"):
        plan_arms(alone.dir, 0.1)
