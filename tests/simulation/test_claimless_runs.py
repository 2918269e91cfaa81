"""Runs of scenarios without a claim of their own: no claim, no belief output, only their calls."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.experiments.resume import resume
from socialsim.simulation.world import Scenario
from socialsim.testing import ScriptedClient, fitted, run_scripted, small_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: family -> (size, steps, extra params, the prefix of every prompt id of its own questions)
FAMILIES = {
    "norms": (6, 2, {}, "norms_"),
    "network_growth": (8, 2, {}, "growth_"),
    "collaboration": (8, 1, {}, "collab_"),
    "donor_game": (6, 2, {}, "donor_"),
    "negotiation": (6, 1, {}, "negotiation_"),
    "manipulation": (8, 1, {}, "manipulation_"),
    "authority": (4, 1, {"questions": ["australia_capital"]}, "authority_"),
}


def family_config(family: str, out: Path, policy: str = "llm", **sections) -> ss.ExperimentConfig:
    """The family's example (the authority scenario: a small config), made small."""
    size, steps, params, _ = FAMILIES[family]
    path = EXAMPLES / f"{family}.yaml"
    if path.exists():
        data = yaml.safe_load(path.read_text())
    else:
        data = {"name": family, "seed": 1, "network": {"kind": "ring"}, "agents": {}}
        data["scenario"] = {"kind": family, "params": {}}
    data["scenario"]["params"] = {**(data["scenario"].get("params") or {}), **params}
    data.update(population={"size": size}, steps=steps, output={"dir": str(out), "report": False})
    data["agents"] = {
        "policy": policy,
        **({"llm": {"model": "scripted"}} if policy == "llm" else {}),
    }
    data.update(sections)
    return ss.ExperimentConfig.from_dict(data, base_dir=EXAMPLES)


def calls_by_prompt(run) -> Counter:
    """The run's ``llm_call`` events counted by prompt id."""
    ev = run.events
    return Counter(ev.loc[ev["kind"] == "llm_call", "payload.prompt_id"].tolist())


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_claimless_family_runs_without_claims_and_makes_only_its_own_calls(tmp_path, family):
    prefix = FAMILIES[family][3]
    client = ScriptedClient(lambda request: None)  # every call fails: counted all the same
    run = run_scripted(family_config(family, tmp_path / "out"), client, out=tmp_path / "run")
    assert run.cfg.claims == [] and run.claims == []
    ev = run.events
    assert "c1" not in set(ev["claim"].dropna())
    # (authority's answers name the library question they answer; nothing else names a claim)
    assert set(ev.loc[ev["claim"].notna(), "kind"]) <= {"action"}
    assert "belief_change" not in set(ev["kind"])
    assert run.agents.empty  # the agents table holds credences: none without a claim
    steps = pd.read_csv(run.dir / "steps.csv")
    assert not [c for c in steps.columns if "belief" in c or "credence" in c]
    assert run.summary["measures"]["claims"] == {}
    assert not [h for h in run.summary["headline"] if h["measure"].startswith("claims.")]
    # only the scenario's own questions reached the model, each logged once
    tags = Counter(client.tags())
    assert sum(tags.values()) > 0 and all(t.startswith(prefix) for t in tags)
    assert calls_by_prompt(run) == tags
    assert run.summary["data_quality"]["calls"] == sum(tags.values())


def test_with_claims_in_the_config_the_step_decision_stays(tmp_path):
    claims = [{"id": "fares", "text": "Bus fares will rise next year."}]
    cfg = family_config("norms", tmp_path / "out", claims=claims)
    decide = fitted({"message": "Hi.", "to": "all", "beliefs": {}})
    client = ScriptedClient(lambda r: None if r.tag.startswith("norms_") else decide(r))
    run = run_scripted(cfg, client, out=tmp_path / "run")
    own = {t: n for t, n in Counter(client.tags()).items() if t.startswith("norms_")}
    decisions = {t: n for t, n in Counter(client.tags()).items() if t not in own}
    assert own and list(decisions.values()) == [6 * 2]  # each agent's decision, each step
    assert set(run.agents["claim"]) == {"fares"}


def test_step_decisions_default_follows_claims_and_decision_fields():
    class Plain(Scenario):
        pass

    class WithField(Scenario):
        def decision_fields(self):
            return {"vote": (str, None)}

    class Never(Scenario):
        step_decisions = False

    empty = ss.SocialModel(small_config(policy="degroot"))
    empty.beliefs = type(empty.beliefs)(empty.n_agents)  # the same model with no claim
    with_claim = ss.SocialModel(small_config(policy="degroot"))
    assert Plain().makes_step_decisions(with_claim)
    assert not Plain().makes_step_decisions(empty)
    assert WithField().makes_step_decisions(empty)
    assert not Never().makes_step_decisions(with_claim)


def test_no_scenario_and_no_claim_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "run"
    for policy in ("degroot", "voter", "llm"):
        cfg = small_config(policy=policy, claims=[], out=out)
        with pytest.raises(ConfigError, match=r"^claims: none given and scenario.kind is none"):
            ss.run(cfg, out=out)
        assert not out.exists()
    import networkx as nx

    with pytest.raises(ConfigError, match="claims=") as info:
        ss.SocialModel(graph=nx.path_graph(4), policy="degroot")
    assert "\n" not in str(info.value)
    model = ss.SocialModel(
        graph=nx.path_graph(4), policy="degroot", claims=[{"id": "c9", "text": "It rains."}]
    )
    assert [c.id for c in model.beliefs.claims] == ["c9"] and model.cfg.claims[0]["id"] == "c9"
    with pytest.raises(ConfigError, match="claims: expected dicts"):
        ss.SocialModel(graph=nx.path_graph(4), policy="degroot", claims=["It rains."])


def test_cli_refuses_a_run_with_no_scenario_and_no_claim(tmp_path):
    from tests.cli_in_process import run_cli

    path = tmp_path / "bare.yaml"
    path.write_text(yaml.safe_dump({"name": "bare", "steps": 2, "population": {"size": 5}}))
    result = run_cli("run", str(path), "--out", str(tmp_path / "runs"))
    assert result.code == 2
    assert len(result.err_lines) == 1 and "claims:" in result.err
    assert not (tmp_path / "runs").exists()


def test_a_claimless_run_in_arms_has_no_belief_effects(tmp_path):
    cfg = family_config("network_growth", tmp_path / "out", policy="degroot")
    arms = ss.run(cfg.with_overrides({"control": True, "replicates": 2}), out=tmp_path / "a")
    measures = [e["measure"] for e in arms.summary["effects"]]
    assert measures and not [m for m in measures if m.startswith("claims.")]
    assert all(m.startswith("network_growth.") for m in measures)


def test_a_claimless_rule_run_resumes_to_the_uninterrupted_one(tmp_path):
    cfg = family_config("donor_game", tmp_path / "out", policy="degroot", steps=4)
    whole = ss.run(cfg, out=tmp_path / "whole").dir
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "config.yaml").write_bytes((whole / "config.yaml").read_bytes())
    log = (whole / "events.jsonl").read_bytes()
    (cut / "events.jsonl").write_bytes(log[: len(log) // 2])
    done = resume(cut)
    assert (cut / "events.jsonl").read_bytes() == log
    assert done.summary["run"]["resumed"]["matched"] is True
    first = json.loads((whole / "summary.json").read_text())
    assert done.summary["measures"] == first["measures"]


def test_the_dashboard_refuses_a_claimless_config_and_run_in_one_line(tmp_path):
    from socialsim.dashboard.live import LiveModel
    from socialsim.dashboard.replay import ReplayModel

    with pytest.raises(ConfigError, match="has none in play") as info:
        LiveModel(str(EXAMPLES / "norms.yaml"), ["agents.policy=degroot"], size=6, steps=1)
    assert "\n" not in str(info.value)
    run = ss.run(family_config("norms", tmp_path / "out", policy="degroot"), out=tmp_path / "r")
    with pytest.raises(ConfigError, match="no claim in play"):
        ReplayModel(str(run.dir))
