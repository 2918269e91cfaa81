"""The event line contract: payload types, their registry, and real runs that keep to it."""

from __future__ import annotations

import json

import pytest

import socialsim as ss
import socialsim.scenarios.builtin  # noqa: F401 - registers every family's payload types
from socialsim.core.events import (
    ABSENT,
    EVENT_FIELDS,
    BeliefChange,
    EventContractError,
    EventPayload,
    Probe,
    RoleAssigned,
    check_event,
    check_events,
    described,
    event_payload,
    payload_problems,
    payload_type,
    registered_types,
)
from socialsim.scenarios.norms.events import NormChoice
from socialsim.scenarios.persuasion.events import PersuaderInjection
from socialsim.testing import ScriptedClient, clients_for, fitted, small_config


def line(kind: str, payload: dict, **fields) -> dict:
    return {
        "run": "r",
        "step": 1,
        "time": 1.0,
        "kind": kind,
        "agent": 0,
        "target": None,
        "claim": None,
        "payload": payload,
        **fields,
    }


def test_payload_dict_puts_the_tag_first_and_leaves_absent_keys_out():
    assert list(RoleAssigned(role="attacker", placebo=True).as_payload()) == [
        "type",
        "role",
        "placebo",
    ]
    rule = BeliefChange(old=0.1, new=0.6, cause="rule", ref="g").as_payload()
    assert rule == {"old": 0.1, "new": 0.6, "cause": "rule", "ref": "g"}
    said = BeliefChange(old=0.1, new=0.6, cause="decision", ref=None, reason="heard it")
    assert said.as_payload()["reason"] == "heard it"
    seeded = PersuaderInjection(stance="for", strategy="facts").as_payload()
    assert seeded == {"route": "persuader", "stance": "for", "strategy": "facts"}


def test_misspelt_or_missing_key_fails_where_the_payload_is_built():
    with pytest.raises(TypeError, match="lable"):
        RoleAssigned(role="x", placebo=False, lable="y")
    with pytest.raises(TypeError, match="placebo"):
        RoleAssigned(role="x")


def test_required_and_optional_keys():
    assert "error" not in Probe.required_keys() and "error" in Probe.keys()
    assert NormChoice.required_keys()[0] == "type" and "label" in NormChoice.required_keys()
    assert Probe.shapes()["correct"] == "bool" and NormChoice.shapes()["constraints"] == "dict"


def test_payload_problems_name_the_type_and_the_key():
    assert payload_problems("action", {"type": "role", "role": "a", "placebo": False}) == []
    problems = payload_problems("action", {"type": "role", "rol": "a", "placebo": False})
    assert problems == ["RoleAssigned: unknown key 'rol'", "RoleAssigned: missing key 'role'"]
    assert payload_problems("action", {"type": "no_such_thing"}) == [
        "no payload type is registered for action type 'no_such_thing'"
    ]
    # an injection route without a type of its own is the generic injection
    assert payload_type("injection", {"route": "guardian"}).__name__ == "Injection"
    assert payload_type("injection", {"route": "persuader"}) is PersuaderInjection


def test_check_event_refuses_a_line_that_breaks_the_contract():
    check_event(line("belief_change", {"old": 0.1, "new": 0.2, "cause": "rule", "ref": None}))
    with pytest.raises(EventContractError, match="missing key 'ref'"):
        check_event(line("belief_change", {"old": 0.1, "new": 0.2, "cause": "rule"}))
    with pytest.raises(EventContractError, match="unknown event kind 'gossip'"):
        check_event(line("gossip", {}))
    swapped = dict(line("error", {"where": "x", "message": "m"}))
    swapped = {k: swapped[k] for k in ("step", "run", *EVENT_FIELDS[2:])}
    with pytest.raises(EventContractError, match="expected"):
        check_event(swapped)
    with pytest.raises(EventContractError, match="not an object"):
        check_event(line("error", ["where"]))


def test_a_tag_can_be_registered_once():
    with pytest.raises(ValueError, match="already registered"):

        @event_payload("action", "role")
        class OtherRole(EventPayload):
            """Another type for the same tag."""

            role: str = described("the role")

    with pytest.raises(ValueError, match="one payload type"):
        event_payload("probe", "x")


def test_every_registered_field_is_described():
    types = registered_types()
    assert len(types) >= 30  # the generic kinds and every family's
    for cls in types:
        assert cls.__doc__ and all(cls.docs().values()), cls.__name__
        assert all(f.default is ABSENT for f in _optional(cls)), cls.__name__


def _optional(cls):
    import dataclasses

    return [f for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING]


BASE = {
    "name": "contract",
    "seed": 1,
    "steps": 2,
    "population": {"size": 8},
    "claims": [{"id": "c1", "text": "The river is poisoned.", "truth": False}],
    "output": {"report": False},
}

# scenario -> (extra config, the (kind, type) pairs its run must log)
FAMILIES = {
    "misinformation": ({}, {("injection", "attacker"), ("probe", None), ("message", None)}),
    "norms": ({}, {("action", "norm_choice")}),
    "donor_game": ({}, {("action", "donor_round"), ("action", "donor_standing")}),
    "negotiation": ({}, {("action", "negotiation_offer"), ("action", "negotiation_outcome")}),
    "network_growth": (
        {"network": {"kind": "ring", "directed": True}},
        {("action", "joined"), ("action", "follow_choice"), ("action", "follow")},
    ),
    "collaboration": ({}, {("action", "collab_trial")}),
    "manipulation": ({}, {("action", "manipulation_choice"), ("action", "role")}),
    "persuasion": ({}, {("action", "stance"), ("injection", "persuader")}),
    "debate": ({}, {("action", "debate_pair")}),
    "authority": ({}, {("action", "authority_outcome")}),
    "accumulation": ({"steps": 5}, {("action", "stance_probe")}),
}


def _lines(model) -> list[dict]:
    return [json.loads(text) for text in model.log.sink.lines]


def _logged(lines: list[dict]) -> set[tuple[str, str | None]]:
    return {(e["kind"], e["payload"].get("type") if e["kind"] == "action" else None) for e in lines}


@pytest.mark.parametrize("scenario", sorted(FAMILIES))
def test_every_family_logs_only_typed_payloads(scenario):
    extra, expected = FAMILIES[scenario]
    data = {
        **BASE,
        "network": {"kind": "ring"},
        "agents": {"policy": "degroot"},
        "scenario": {"kind": scenario, "params": {}},
        **extra,
    }
    model = ss.SocialModel(ss.ExperimentConfig.from_dict(data))
    model.run_model()
    lines = _lines(model)
    assert check_events(lines) == len(lines) > 0
    logged = _logged(lines) | {
        (e["kind"], e["payload"].get("route")) for e in lines if e["kind"] == "injection"
    }
    assert expected <= logged


def test_an_llm_run_with_failures_logs_only_typed_payloads():
    fields = fitted(
        {
            "answer": "B",
            "message": "Did you hear the news?",
            "to": "all",
            "beliefs": {"c1": {"reason": "heard it", "credence": 0.8}},
        }
    )
    client = ScriptedClient(lambda request: None if request.seed % 3 == 0 else fields(request))
    cfg = small_config(
        scenario="misinformation",
        policy="llm",
        steps=3,
        params={"attackers": {"count": 1}, "remove_attackers_at": 2},
    )
    model = ss.SocialModel(cfg, clients=clients_for(cfg, client))
    model.run_model()
    lines = _lines(model)
    assert check_events(lines) == len(lines)
    kinds = {kind for kind, _ in _logged(lines)}
    assert {"decision", "llm_call", "error", "probe", "message", "belief_change"} <= kinds
    assert ("action", "removed") in _logged(lines)
    failed = [e for e in lines if e["kind"] == "probe" and e["payload"]["status"] == "failed"]
    assert failed and all("error" in e["payload"] for e in failed)
