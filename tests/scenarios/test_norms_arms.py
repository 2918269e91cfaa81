"""Norms in a control arm: the same draws as the treatment, no imposed violations, no pressure."""

from __future__ import annotations

import numpy as np
import pytest

import socialsim as ss
from socialsim.analysis.stats import clustered_share_ci
from socialsim.core.rundata import load_run
from socialsim.scenarios.norms.library import builtin_library
from socialsim.scenarios.norms.measures import norms_summary
from socialsim.simulation.log import read_events
from socialsim.simulation.model import SocialModel


def config(tmp_path, arm: str, steps: int = 3) -> ss.ExperimentConfig:
    return ss.ExperimentConfig.from_dict(
        {
            "name": f"norms-{arm}",
            "seed": 23,
            "steps": steps,
            "population": {"size": 10},
            "network": {"kind": "watts_strogatz", "params": {"k": 4, "p": 0.2}},
            "agents": {"policy": "degroot"},
            "scenario": {
                "kind": "norms",
                "arm": arm,
                "params": {
                    "settings": ["public transport", "restaurant"],
                    "situations_per_step": 2,
                    "schedule": "random",
                    "violators": {"count": 3, "strategy": "random"},
                    "social_pressure": True,
                    "pressure_fraction": 0.5,
                    "judges": True,
                },
            },
            "output": {"dir": str(tmp_path / arm), "report": False, "formats": ["jsonl"]},
        }
    )


def actions(run, type_: str) -> list[tuple[int, int, int | None, dict]]:
    ev = read_events(run.dir / "events.jsonl")
    return [
        (int(a), int(s), None if t is None or t != t else int(t), p)
        for a, s, t, p in zip(ev.agent, ev.step, ev.target, ev.payload, strict=True)
        if isinstance(p, dict) and p.get("type") == type_
    ]


@pytest.mark.slow
def test_control_arm_keeps_the_draws_and_removes_the_manipulation(tmp_path):
    treated = ss.run(config(tmp_path, "treatment"))
    control = ss.run(config(tmp_path, "control"))
    facts_t, facts_c = treated.summary["scenario"], control.summary["scenario"]
    violators = set(facts_c["violators"])
    group = set(facts_c["pressure_group"])
    assert facts_t["violators"] == facts_c["violators"] and len(violators) == 3
    assert facts_t["pressure_group"] == facts_c["pressure_group"] and len(group) == 4
    # role events: the same agents, placebo only in the control arm
    roles_t = [(a, p["role"], p["placebo"]) for a, _, _, p in actions(treated, "role")]
    roles_c = [(a, p["role"], p["placebo"]) for a, _, _, p in actions(control, "role")]
    assert [(a, r) for a, r, _ in roles_t] == [(a, r) for a, r, _ in roles_c]
    assert {a for a, _, _ in roles_c} == violators
    assert not any(p for _, _, p in roles_t) and all(p for _, _, p in roles_c)
    # the same agents face the same frames at the same steps in both arms
    choices_t, choices_c = actions(treated, "norm_choice"), actions(control, "norm_choice")
    faced = sorted((s, a, p["frame_id"], p["pressure_group"]) for a, s, _, p in choices_t)
    assert faced == sorted((s, a, p["frame_id"], p["pressure_group"]) for a, s, _, p in choices_c)
    # control: violators choose like anyone (the baseline's expected option), nobody is shown anything
    assert all(p["status"] == "answered" and p["source"] == "rule" for _, _, _, p in choices_c)
    library = builtin_library()
    expected = {f.id: f.most_expected().behaviour for f in library}
    assert all(p["behaviour"] == expected[p["frame_id"]] for _, _, _, p in choices_c)
    assert not any(p["social_pressure"] for _, _, _, p in choices_c)
    assert all(p["neighbours_violating"] is None for _, _, _, p in choices_c)
    # treatment: violators' choices are imposed; pressure reaches the group from step 2
    imposed = {a for a, _, _, p in choices_t if p["status"] == "imposed"}
    assert imposed == violators
    assert {a for a, _, _, p in choices_t if p["social_pressure"]} <= group
    # judgements draw the same judged neighbour and frame; placebo violators judge too
    judged_t = {(a, s, t, p["frame_id"]) for a, s, t, p in actions(treated, "norm_judgement")}
    judged_c = {(a, s, t, p["frame_id"]) for a, s, t, p in actions(control, "norm_judgement")}
    assert {j for j in judged_c if j[0] not in violators} == judged_t
    assert {j[0] for j in judged_c} & violators == violators
    # measures: the benign population is the same in both arms; control has no pressure
    m_c = norms_summary(load_run(control.dir).events)
    m_t = norms_summary(load_run(treated.dir).events)
    benign_asked = (10 - 3) * 3 * 2
    assert m_c["adherence"]["answers"]["asked"] == m_t["adherence"]["answers"]["asked"]
    assert m_c["adherence"]["answers"]["asked"] == benign_asked
    adherent = sum(
        p["label"] in ("expected", "okay") for a, _, _, p in choices_c if a not in violators
    )
    assert m_c["adherence"]["overall"]["k"] == adherent
    assert m_c["pressure"]["with"]["asked"] == 0
    assert m_c["pressure"]["pressure_group"]["asked"] == len(group) * 3 * 2
    role_k = sum(p["label"] in ("expected", "okay") for a, _, _, p in choices_c if a in violators)
    # each placebo violator's 6 choices are one cluster
    theirs = [(a, p["label"] in ("expected", "okay")) for a, _, _, p in choices_c if a in violators]
    lo, hi = clustered_share_ci([y for _, y in theirs], np.array([a for a, _ in theirs]))
    assert m_c["roles"]["violator"] == {
        "agents": 3,
        "placebo": True,
        "imposed": 0,
        "answers": {"asked": 18, "answered": 18, "failed": 0},
        "adherence": {
            "asked": 18,
            "answered": 18,
            "failed": 0,
            "k": role_k,
            "rate": role_k / 18,
            "ci_low": lo,
            "ci_high": hi,
        },
    }
    assert m_t["roles"]["violator"]["imposed"] == 18
    assert m_t["roles"]["violator"]["answers"]["asked"] == 0


def test_control_prompts_never_show_neighbours_choices(tmp_path):
    model = SocialModel(config(tmp_path, "control", steps=2), tmp_path)
    asked = []
    real_ask = model.ask
    model.ask = lambda qs: asked.append(list(qs)) or real_ask(qs)
    model.step()
    model.step()
    model.close()
    choice_questions = [q for batch in asked for q in batch if q.tag == "norms_choice_v1"]
    assert len(choice_questions) == 10 * 2 * 2  # violators are asked too
    assert not any("last time" in q.prompt for q in choice_questions)
