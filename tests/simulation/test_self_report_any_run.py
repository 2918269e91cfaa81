"""``agents.self_report``: the Mini-IPIP asked in any run, before the first and/or after the last step."""

from __future__ import annotations

import pandas as pd
import pytest

import socialsim as ss
from socialsim.analysis.self_report import self_report_events, self_report_table
from socialsim.core.errors import ConfigError
from socialsim.experiments import checkpoint
from socialsim.experiments.resume import resume
from socialsim.simulation.self_report import (
    TAG,
    inventory_items,
    inventory_prompt,
    inventory_schema,
)
from socialsim.testing import ScriptedClient, run_scripted, small_config
from tests.simulation.test_resume import CONFIG, same_run

QUICKSTART = "examples/quickstart.yaml"


def rule_run(tmp_path, scenario, params, when, steps=3, size=10, **sections):
    """A small rule-policy run of `scenario` asking the inventory `when`."""
    data = {
        "name": scenario,
        "seed": 5,
        "steps": steps,
        "population": {"size": size},
        "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.1}},
        "agents": {"policy": "degroot", "self_report": {"when": when}},
        "scenario": {"kind": scenario, "params": params},
        "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        **sections,
    }
    return ss.run(ss.ExperimentConfig.from_dict(data))


def reports(run) -> pd.DataFrame:
    """The run's self_report events: agent, step, time and the payload's status and source."""
    rows = self_report_events(run)
    return pd.DataFrame(
        {
            "agent": rows["agent"].astype(int).to_numpy(),
            "step": rows["step"].astype(int).to_numpy(),
            "time": rows["time"].to_numpy(),
            "source": rows["payload.source"].to_numpy(),
            "status": rows["payload.status"].to_numpy(),
        }
    )


def test_a_misinformation_run_asks_every_agent_before_and_after(tmp_path):
    run = rule_run(
        tmp_path,
        "misinformation",
        {"claim": "australia_capital", "attackers": {"count": 2}},
        "both",
        analysis={"measures": {"self_report": {"sources": ["rule"]}}},
    )
    found = reports(run)
    for time, step in (("before", 0), ("after", 3)):
        at = found[found.time == time]
        assert sorted(at.agent) == list(range(10)) and set(at.step) == {step}
        assert set(at.source) == {"rule"} and set(at.status) == {"answered"}
    summary = run.summary["measures"]["self_report"]
    assert summary["sources"] == ["rule"]
    for time in ("before", "after"):
        block = summary[time]
        assert block["asked"] == block["answered"] == block["rule"] == block["agents"] == 10
        # a rule agent reports its assigned trait to within rounding: a near-perfect rank order
        for trait in ("agreeableness", "neuroticism"):
            pair = block["traits"][trait]["assigned_vs_reported"]
            assert pair["n"] == 10 and pair["rho"] > 0.9
    # the same agents, the same rule answers: the self-report did not move
    stable = summary["before_vs_after"]["traits"]["openness"]
    assert summary["before_vs_after"]["agents"] == 10 and stable["rho"] == pytest.approx(1.0)


class Stop(BaseException):
    """Stands for a kill between two steps."""


@pytest.mark.slow
def test_a_run_stopped_and_resumed_asks_each_time_once(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "COST_FACTOR", 0.0)  # a checkpoint after every step
    cfg = ss.ExperimentConfig.from_dict(
        {**CONFIG, "population": {"size": 12}, "agents": {"policy": "voter", "self_report": "both"}}
    )
    whole = ss.run(cfg, out=tmp_path / "whole")

    def stop_after_two(model):
        if model.steps == 2:
            raise Stop

    with pytest.raises(Stop):
        ss.run(cfg, out=tmp_path / "cut", on_step=stop_after_two)
    done = resume(tmp_path / "cut")
    assert done.summary["run"]["resumed"] == {"from_checkpoint_at_step": 2}
    same_run(whole.dir, tmp_path / "cut")
    counts = reports(done).groupby(["time", "step"])["agent"].nunique().to_dict()
    # the three attackers left the run at step 4: the agents present at the end are asked
    assert counts == {("after", 6): 9, ("before", 0): 12} and len(reports(done)) == 21


def test_a_norms_run_asks_after_the_last_step_only(tmp_path):
    run = rule_run(tmp_path, "norms", {}, "after", steps=2)
    found = reports(run)
    assert sorted(found.agent) == list(range(10))
    assert set(found.step) == {2} and set(found.time) == {"after"}
    summary = run.summary["measures"]["self_report"]
    # rule agents are left out of the correlations unless asked for: counted, not correlated
    assert summary["after"]["asked"] == summary["after"]["rule"] == 10
    assert summary["after"]["agents"] == 0 and "before" not in summary
    assert "before_vs_after" not in summary
    rows = self_report_table(run, sources=("rule",), time="after")
    assert rows["agent"].tolist() == list(range(10))
    for trait in ("openness", "extraversion"):
        assert (rows[f"{trait}_reported"] - rows[trait]).abs().max() <= 0.125 + 1e-9


def test_a_run_without_the_setting_asks_nothing(tmp_path):
    run = rule_run(tmp_path, "norms", {}, "none", steps=1)
    assert reports(run).empty and "self_report" not in run.summary["measures"]


def test_a_run_without_a_scenario_asks_once_at_the_end_even_when_stepped_past_it():
    cfg = small_config(steps=2, agents={"policy": "degroot", "self_report": "after"})
    with ss.SocialModel(cfg) as model:
        model.run_model()
        model.step()  # stepping by hand past the end asks nothing more
        found = self_report_events(model.record())
    assert sorted(found["agent"].astype(int)) == list(range(8)) and set(found["step"]) == {2}


def test_a_run_with_no_step_is_asked_after_at_set_up():
    cfg = small_config(steps=0, agents={"policy": "degroot", "self_report": "both"})
    with ss.SocialModel(cfg) as model:
        found = self_report_events(model.record())
    assert found.groupby("time")["agent"].count().to_dict() == {"after": 8, "before": 8}
    assert set(found["step"]) == {0}


def script(request):
    """The inventory: every item 4; talk, the credence question and probes: fixed answers."""
    if request.schema is inventory_schema():
        return {f"item_{k}": 4 for k in range(1, len(inventory_items()) + 1)}
    fields = request.schema.model_fields if request.schema is not None else {}
    if "answer" in fields:
        return {"answer": "A"}
    if "message" not in fields:
        return {"choice": "A", "sure": 0.7}
    return {"message": "Canberra is lovely in spring.", "to": "all"}


def scripted_requests(tmp_path, when):
    """The requests a small scripted quickstart run sends, asking the inventory `when`."""
    cfg = ss.ExperimentConfig.from_yaml(QUICKSTART).with_overrides(
        {
            "control": False,
            "population.size": 8,
            "steps": 3,
            "scenario.params.probe_steps": [1, 3],
            "agents.self_report.when": when,
            "output.dir": str(tmp_path / when),
            "output.report": False,
        }
    )
    client = ScriptedClient(script)
    run = run_scripted(cfg, client)
    return client.requests, run


@pytest.mark.slow
@pytest.mark.parametrize("when", ["after", "before"])
def test_the_inventory_leaves_the_run_prompts_byte_identical(tmp_path, when):
    plain, _ = scripted_requests(tmp_path, "none")
    asked, run = scripted_requests(tmp_path, when)
    others = [r for r in asked if r.tag != TAG]
    assert [(r.tag, r.messages, r.seed) for r in others] == [
        (r.tag, r.messages, r.seed) for r in plain
    ]
    inventory = [k for k, r in enumerate(asked) if r.tag == TAG]
    assert len(inventory) == 8
    # one batch, at the very start or the very end of the run
    first = 0 if when == "before" else len(asked) - 8
    assert inventory == list(range(first, first + 8))
    # asked without the agent's memories or inbox: the user turn is the inventory itself
    assert all(asked[k].messages[-1]["content"] == inventory_prompt() for k in inventory)
    summary = run.summary["measures"]["self_report"][when]
    assert summary["asked"] == summary["answered"] == summary["llm"] == summary["agents"] == 8
    # every agent answered 4 to every item: reported scores are constant, no correlation
    assert summary["traits"]["openness"]["assigned_vs_reported"]["reason"].endswith("constant")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("sometimes", r"agents\.self_report\.when: 'sometimes' is not one of none, before"),
        ({"when": "later"}, r"agents\.self_report\.when: 'later' is not one of"),
        (3, r"agents\.self_report: 3 is not a setting; give \{when: none"),
        ({"at": "after"}, r"agents\.self_report\.at: unknown key"),
    ],
)
def test_bad_settings_are_one_line_config_errors(value, message):
    with pytest.raises(ConfigError, match=message) as caught:
        small_config(agents={"policy": "degroot", "self_report": value})
    assert "\n" not in str(caught.value)


def test_the_setting_has_a_short_form_and_defaults_to_none():
    assert small_config().agents.self_report.when == "none"
    assert small_config(agents={"self_report": "both"}).agents.self_report.when == "both"
    cfg = small_config().with_overrides(["agents.self_report.when=before"])
    assert cfg.agents.self_report.before and not cfg.agents.self_report.after
