"""Control arms of the persuasion scenarios: the same draws, the manipulation removed."""

from collections import Counter

import pytest

import socialsim as ss
from socialsim.llm.types import LLMConfig
from socialsim.scenarios.persuasion.measures import persuasion_summary
from socialsim.simulation.log import flatten_events

from .test_persuasion import action_agents, actions, cfg, raw
from .test_persuasion_failures import scripted


def both_arms(tmp_path, kind, policy="degroot", clients=None, **kwargs):
    """The treatment and the control run of one config (same seed)."""
    runs = {}
    for arm in ("treatment", "control"):
        config = cfg(tmp_path, kind, policy=policy, **kwargs).with_overrides({"scenario.arm": arm})
        client = clients[arm] if clients else None
        runs[arm] = ss.run(
            config,
            out=tmp_path / arm,
            clients={LLMConfig().model_dump_json(): client} if client else None,
        )
    return runs["treatment"], runs["control"]


def messages(run):
    events = raw(run)
    return events[events.kind == "message"]


def test_campaign_control_draws_the_same_persuaders_who_post_nothing(tmp_path):
    params = {
        "steps": 4,
        "persuaders": {"count": 3, "strategy": "random"},
        "messages": "personalised",
    }
    treated, control = both_arms(tmp_path, "persuasion", **params)
    persuaders = treated.summary["scenario"]["persuaders"]
    assert control.summary["scenario"]["persuaders"] == persuaders
    assert sorted(action_agents(control, "role")) == sorted(persuaders)
    assert {(r["role"], r["placebo"]) for r in actions(control, "role")} == {("persuader", True)}
    assert {(r["role"], r["placebo"]) for r in actions(treated, "role")} == {("persuader", False)}
    assert len(messages(treated)) > 0 and len(messages(control)) == 0
    events = raw(control)
    assert events[events.kind == "injection"].empty  # nobody is set to the target stance
    # not pinned: the placebo persuaders move with everyone else under DeGroot
    moved = {
        int(a)
        for a, p in zip(events.agent, events.payload, strict=True)
        if isinstance(p, dict) and p.get("cause") == "rule"
    }
    assert moved & set(persuaders)
    # the same agents are measured in both arms; without persuaders nobody is pulled up
    t, c = actions(treated, "stance"), actions(control, "stance")
    assert [s["asked"] for s in t] == [s["asked"] for s in c] == [13] * 5
    assert (
        persuasion_summary(flatten_events(events))["campaign"]["change"]
        < (persuasion_summary(flatten_events(raw(treated)))["campaign"]["change"])
    )


def test_debate_control_has_the_same_pairs_and_no_exchange(tmp_path):
    treated, control = both_arms(
        tmp_path, "debate", size=16, pairs={"source": "random", "count": 8}, rounds=2
    )
    key = ("pair", "persuader", "target", "persuader_kind", "personalised", "side", "pre")
    t, c = actions(treated, "debate_pair"), actions(control, "debate_pair")
    assert [[p[k] for k in key] for p in t] == [[p[k] for k in key] for p in c]
    assert len(messages(treated)) == 32 and len(messages(control)) == 0
    assert all(p["rounds"] == 0 and p["turns_asked"] == 0 for p in c)
    assert all(p["shift"] == 0 for p in c)  # the rule baseline never moves without a debate
    assert {r["placebo"] for r in actions(control, "role")} == {True}
    assert persuasion_summary(flatten_events(raw(control)))["debate"]["mean_shift"] == 0.0


def test_debate_control_asks_the_same_question_twice_with_nothing_between(tmp_path):
    clients = {arm: scripted() for arm in ("treatment", "control")}
    both_arms(tmp_path, "debate", policy="llm", clients=clients, size=8, pairs={"source": "random"})
    control = clients["control"]
    assert (
        len(control.tagged("debate_turn")) == 0 and len(control.tagged("debate_stance_after")) == 4
    )
    assert set(control.prompts("debate_stance_after")) <= set(control.prompts("debate_stance"))
    assert len(clients["treatment"].tagged("debate_turn")) == 4 * 2 * 2


@pytest.mark.parametrize("mode", ["paired", "conversation"])
def test_authority_control_asks_again_without_an_authority(tmp_path, mode):
    clients = {arm: scripted() for arm in ("treatment", "control")}
    treated, control = both_arms(
        tmp_path,
        "authority",
        policy="llm",
        clients=clients,
        steps=1,
        size=6,
        questions=["australia_capital"],
        mode=mode,
    )
    again = clients["control"].prompts("authority_after")
    if mode == "paired":  # the neutral question again, as its own request
        assert sorted(again) == sorted(clients["control"].prompts("authority_before"))
        assert all(not r.messages[:-1] or r.messages[0]["role"] == "system"
                   for r in clients["control"].tagged("authority_after"))  # fmt: skip
    else:
        assert all(p.startswith("Please answer again.") for p in again)
    assert len(again) == 6 and not any("I am " in p for p in again)
    assert all(p.startswith("I am ") for p in clients["treatment"].prompts("authority_after"))
    assert len(actions(control, "authority_outcome")) == 6


def test_authority_control_rule_baseline_keeps_its_answers(tmp_path):
    treated, control = both_arms(
        tmp_path, "authority", steps=2, size=10, questions=["australia_capital", "hamlet_author"]
    )
    c = actions(control, "authority_outcome")
    assert all(
        (o["before_answer"], o["before_confidence"]) == (o["after_answer"], o["after_confidence"])
        for o in c
    )
    # the same first answers in both arms: the draws are aligned
    t = actions(treated, "authority_outcome")
    assert [o["before_answer"] for o in t] == [o["before_answer"] for o in c]
    for o in c:  # kept answers: right stays right, wrong stays wrong
        kept_authority = o["before_answer"] == o["authority_answer"]
        right = o["before_answer"] == o["correct_answer"]
        expected = "correct_kept" if right else "wrong_kept"
        assert o["outcome"] == ("authority_kept" if kept_authority else expected)


def test_accumulation_control_reads_nothing(tmp_path):
    clients = {arm: scripted() for arm in ("treatment", "control")}
    treated, control = both_arms(
        tmp_path,
        "accumulation",
        policy="llm",
        clients=clients,
        steps=2,
        size=6,
        texts=2,
    )
    prompts = clients["control"].prompts("accumulation_stance")
    assert len(prompts) == 6 * 3
    assert not any("Here is a text you read" in p for p in prompts)
    assert sum(p.startswith("Please answer again.") for p in prompts) == 6 * 2
    assert (
        sum("Here is a text" in p for p in clients["treatment"].prompts("accumulation_stance"))
        == 12
    )
    probes = actions(control, "stance_probe")
    assert Counter(p["exposure"] for p in probes) == {0: 6, 1: 6, 2: 6}
    assert {p["mode"] for p in probes} == {"none"}


def test_accumulation_control_rule_baseline_stays_put(tmp_path):
    treated, control = both_arms(tmp_path, "accumulation", steps=3, size=10, texts=3)
    t, c = actions(treated, "stance_probe"), actions(control, "stance_probe")
    assert [(p["exposure"], p["side"]) for p in t] == [(p["exposure"], p["side"]) for p in c]
    trails: dict[int, set[int]] = {}
    for agent, p in zip(action_agents(control, "stance_probe"), c, strict=True):
        trails.setdefault(agent, set()).add(p["stance"])
    assert all(len(s) == 1 for s in trails.values())
    assert persuasion_summary(flatten_events(raw(control)))["accumulation"]["change"] == 0.0
