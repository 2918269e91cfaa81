"""Accumulating context: the library of ten-text propositions, the share of agents that shifted,
and behavioural probes compared with stated change."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.scenarios.persuasion.accumulation_library import accumulation_library
from socialsim.scenarios.persuasion.accumulation_measures import (
    accumulation_summary,
    agent_shifts,
    behaviour_probes,
    stated_revealed,
)
from socialsim.simulation.log import read_events
from socialsim.simulation.world import create_scenario
from socialsim.testing import ScriptedClient, fitted, run_scripted

from ..analysis.tables import action, frame
from .test_persuasion import actions, cfg

ROOT = Path(__file__).resolve().parents[2]


def probe_rows(stances):
    """stance_probe events: {agent: [stance at exposure 0, 1, ...]} (None: a failed probe)."""
    return [
        action(e, a, "stance_probe", exposure=e, stance=s,
               status="failed" if s is None else "answered")
        for a, series in stances.items()
        for e, s in enumerate(series)
    ]  # fmt: skip


def behaviour_rows(choices):
    """behaviour_probe events: {agent: (toward before, toward after)} at exposures 0 and 2."""
    return [
        action(e, a, "behaviour_probe", exposure=e, toward=t,
               status="failed" if t is None else "answered")
        for a, pair in choices.items()
        for e, t in zip((0, 2), pair, strict=True)
    ]  # fmt: skip


def test_the_library_has_ten_texts_per_side_moral_and_safety_topics_and_probes():
    library = accumulation_library()
    assert {p.topic for p in library.values()} >= {"moral_dilemma", "safety"}
    for prop in library.values():
        assert len(prop.arguments_for) >= 10 and len(prop.arguments_against) >= 10
        assert len(set(prop.arguments_for + prop.arguments_against)) == 20
        assert prop.probe is not None and prop.probe.for_ != prop.probe.against


def test_ten_texts_run_on_a_library_proposition_and_a_short_one_names_those_that_can(tmp_path):
    create_scenario("accumulation", {"proposition": "trolley_switch", "texts": 10}).validate_config(
        cfg(tmp_path, "accumulation", steps=10)
    )
    five = {"id": "five", "text": "Five is enough.", "arguments_for": list("abcde"),
            "arguments_against": list("vwxyz")}  # fmt: skip
    params = {"proposition": "five", "custom_propositions": [five], "texts": 10}
    with pytest.raises(ConfigError, match="only 5 texts per side.*four_day_week.*and 10 more"):
        create_scenario("accumulation", params).validate_config(
            cfg(tmp_path, "accumulation", steps=10)
        )


def test_shift_share_by_hand():
    events = frame(
        probe_rows({0: [2, 3, 4], 1: [3, 3, 3], 2: [4, 3, 2], 3: [2, None], 4: [1, 2, 2]})
    )
    shifts = agent_shifts(events).set_index("agent")
    assert list(shifts.index) == [0, 1, 2, 4]  # agent 3 failed and left the series
    assert list(shifts["direction"]) == ["toward", "unchanged", "away", "toward"]
    out = accumulation_summary(events)["shift_share"]
    assert out["agents"] == 4
    assert (out["toward"]["k"], out["toward"]["rate"]) == (2, 0.5)
    assert (out["away"]["k"], out["moved"]["k"]) == (1, 3)
    assert out["toward"]["ci_low"] < 0.5 < out["toward"]["ci_high"]
    assert out["mean_change"]["mean"] == pytest.approx((2 + 0 - 2 + 1) / 4)


def test_stated_and_revealed_change_by_hand():
    events = frame(
        probe_rows({0: [2, 3, 4], 1: [3, 3, 3], 2: [4, 3, 2], 4: [1, 2, 2]})
        + behaviour_rows({0: (False, True), 1: (False, True), 2: (True, True), 4: (None, True)})
    )
    pairs = stated_revealed(agent_shifts(events), behaviour_probes(events)).set_index("agent")
    assert list(pairs.index) == [0, 1, 2]  # agent 4's first choice failed
    assert list(pairs["revealed"]) == ["toward", "toward", "unchanged"]
    assert list(pairs["agree"]) == [True, False, False]
    out = accumulation_summary(events)["behaviour"]
    assert out["answers"] == {"asked": 8, "answered": 7, "failed": 1}
    assert out["stated_revealed"]["agreement"]["k"] == 1
    assert out["stated_revealed"]["table"]["unchanged|toward"] == 1
    assert (out["toward_before"]["k"], out["toward_before"]["n"]) == (1, 3)
    assert (out["toward_after"]["k"], out["toward_after"]["n"]) == (4, 4)


def test_rule_agents_reveal_the_side_their_agreement_leans_to(tmp_path):
    run = ss.run(
        cfg(tmp_path, "accumulation", steps=4, size=20, proposition="trolley_switch", texts=4)
    )
    probes = actions(run, "stance_probe")
    choices = actions(run, "behaviour_probe")
    assert sorted({c["exposure"] for c in choices}) == [0, 4] and len(choices) == 40
    stances = {}
    for p in probes:
        stances.setdefault(p["exposure"], []).append(p)
    for exposure in (0, 4):
        agreement = [p["agreement"] for p in stances[exposure]]
        picked = [c for c in choices if c["exposure"] == exposure]
        for level, c in zip(agreement, picked, strict=True):
            if level != 3:
                assert c["chosen_side"] == ("for" if level > 3 else "against")
            else:  # a neutral agent keeps its initial side, the one opposite the texts
                assert c["chosen_side"] != c["side"]
            assert c["toward"] == (c["chosen_side"] == c["side"])


def test_llm_behaviour_probe_is_asked_twice_beside_the_conversation(tmp_path):
    def answer(request):
        data = {"choice": "A", "agreement": 2, "message": "Fine.", "to": "all", "beliefs": []}
        return fitted(data)(request)

    client = ScriptedClient(answer)
    config = cfg(tmp_path, "accumulation", steps=2, size=6, policy="llm",
                 proposition="lie_to_spare_feelings", texts=2)  # fmt: skip
    run = run_scripted(config, client)
    asked = client.tagged("accumulation_behaviour")
    assert len(asked) == 12
    assert all("three years writing a novel" in r.messages[-1]["content"] for r in asked)
    # never added to the conversation: later stance questions do not contain it
    stance_msgs = [m["content"] for r in client.tagged("accumulation_stance") for m in r.messages]
    assert not any("three years writing a novel" in m for m in stance_msgs)
    agents, choices = _agents(run)
    assert len(choices) == 12
    for agent, c in zip(agents, choices, strict=True):  # A is the for option for even ids
        assert c["status"] == "answered" and c["choice"] == "A"
        assert c["chosen_side"] == ("for" if agent % 2 == 0 else "against")


def _agents(run):
    """The agents and payloads of the run's behaviour_probe actions, in log order."""
    ev = read_events(run.path / "events.jsonl")
    rows = ev[ev.kind == "action"]
    pairs = [(a, p) for a, p in zip(rows.agent, rows.payload, strict=True)
             if p["type"] == "behaviour_probe"]  # fmt: skip
    return [a for a, _ in pairs], [p for _, p in pairs]


@pytest.mark.slow
def test_replicate_example_reports_the_shift_share_in_summary_and_effects(tmp_path):
    example = ROOT / "examples" / "replicate_accumulation.yaml"
    cmd = [sys.executable, "-m", "socialsim.cli", "run", str(example), "--control",
           "--replicates", "3", "--set", "population.size=20", "--set", f"output.dir={tmp_path}"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    paths = sorted(tmp_path.rglob("summary.json"), key=lambda p: len(p.parts))
    arms = json.loads(paths[0].read_text())
    one = json.loads(next(p for p in paths if "treatment" in p.parts).read_text())
    assert one["measures"]["accumulation"]["shift_share"]["toward"]["rate"] is not None
    effects = {e["measure"] for e in arms["effects"]}
    assert "accumulation.shift_share.toward.rate" in effects
    assert "accumulation.behaviour.stated_revealed.agreement.rate" in effects
