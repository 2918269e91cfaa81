"""Prompt templates: paraphrase families keep their base's fields and parts, and render."""

from __future__ import annotations

import string

import pytest

from socialsim.agents.policies import LLMPolicy, Observation
from socialsim.core.claims import Claim
from socialsim.core.errors import SocialsimError
from socialsim.core.messages import Message
from socialsim.core.persona import Persona
from socialsim.llm import prompts
from socialsim.llm.prompts import (
    answer_form,
    available,
    fields,
    load_template,
    paraphrases,
    parts,
)
from socialsim.llm.types import LLMConfig

BASES = sorted({paraphrases(t)[0] for t in available()})
PARAPHRASED = [(paraphrases(t)[0], t) for t in available() if paraphrases(t)[0] != t]
ANSWER_KEYS = {
    "beliefs": (
        '"message"',
        '"to"',
        '"beliefs"',
        '"reason"',
        '"credence"',
        '""',
        '"all"',
        '"none"',
    ),
    "compact": ('"credence"', '"message"', '"to"', '"all"', '"none"'),
}


def _observation() -> Observation:
    return Observation(
        agent_id=0,
        step=3,
        persona=Persona(id=0, name="Ada", occupation="nurse", values=["honesty"]),
        inbox=[Message(id="m1", sender=5, recipients=[0], step=2, text="Did you see the study?")],
        memories=["Bob said the study was retracted"],
        beliefs={"vax": 0.25},
        claims=[Claim(id="vax", text="Vaccines cause autism", truth=False)],
        neighbours={5: "Bob", 7: "Carla"},
        instructions=["Your goal: convince everyone."],
        task={"round": 2},
    )


def _fields_of(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_decision_template_ships_three_paraphrases():
    assert paraphrases("decide_v1") == ["decide_v1", "decide_v1_p1", "decide_v1_p2", "decide_v1_p3"]
    assert paraphrases("decide_v2") == ["decide_v2", "decide_v2_p1", "decide_v2_p2", "decide_v2_p3"]
    assert paraphrases("decide_v2_p2") == paraphrases("decide_v2")  # any member names the family


def test_paraphrases_follow_the_naming_convention_in_numeric_order(monkeypatch):
    shipped = ["decide_v2", "decide_v2_p10", "decide_v2_p2", "decide_v2_px", "other_p1"]
    monkeypatch.setattr(prompts, "available", lambda: shipped)
    assert paraphrases("decide_v2") == ["decide_v2", "decide_v2_p2", "decide_v2_p10"]


def test_an_unknown_template_has_no_paraphrases():
    with pytest.raises(SocialsimError, match="known templates: .*decide_v2_p1"):
        paraphrases("decide_v9")


@pytest.mark.parametrize(("base", "template"), PARAPHRASED)
def test_a_paraphrase_has_its_bases_parts_and_fields(base, template):
    assert fields(template) == fields(base)
    mine, theirs = parts(template), parts(base)
    assert list(mine) == list(theirs)  # a shared [system] part stays shared
    for name, text in mine.items():
        assert _fields_of(text) == _fields_of(theirs[name]), f"{template} [{name}]"


@pytest.mark.parametrize(("base", "template"), PARAPHRASED)
def test_a_paraphrase_is_reworded_but_asks_for_the_same_answer(base, template):
    text, original = load_template(template), load_template(base)
    assert text != original
    assert answer_form(template) == answer_form(base)
    lines = {line for line in text.splitlines() if "{{" not in line}  # worked examples may repeat
    shared = (lines - {"[system]", "[user]", "[answer: compact]"}) & set(original.splitlines())
    assert len(shared) <= len(fields(base))  # only bare field lines ({inbox}) may repeat
    for key in _answer_keys(base):
        assert text.count(key) >= 1, f"{template} lacks {key}"


#: fields that show a claim or a credence in it (a template without any asks for none)
CLAIM_FIELDS = {"beliefs", "credences", "claims", "statements", "sure"}


def _answer_keys(template: str) -> tuple[str, ...]:
    """The answer keys a template's worked examples name: without claim fields (chat_v1),
    no credence."""
    keys = ANSWER_KEYS[answer_form(template)]
    if not fields(template) & CLAIM_FIELDS:
        keys = tuple(k for k in keys if k in ('"message"', '"to"'))
    return keys


@pytest.mark.parametrize("template", [t for base in BASES for t in paraphrases(base)])
def test_every_template_of_a_family_renders_an_agents_request(template):
    policy = LLMPolicy(client=None, config=LLMConfig(), template=template)
    request = policy.build_request(_observation())
    system, user = (m["content"] for m in request.messages)
    prompt = system + "\n" + user
    shows_claim = bool(fields(template) & CLAIM_FIELDS)
    for shown in ("Ada", "nurse", "Your goal: convince everyone."):
        assert shown in prompt
    assert ("Vaccines cause autism" in prompt) == shows_claim  # chat_v1: a topic instead
    assert "Bob: Did you see the study?" in user and "retracted" in user
    assert "Bob, Carla" in user and ("25%" in user) == shows_claim
    assert shows_claim or "whatever you like" in user  # the topic (none set: free talk)
    if answer_form(template) == "beliefs":
        assert "tep 3" in user
    assert 'Task: {"round": 2}' in user
    assert not any(f"{{{name}}}" in prompt for name in fields(template))  # every field filled
    assert request.tag == template
    assert len(prompt) < 2000  # fits the embedded model's 2,048-token context
