"""Built-in propositions: ten distinct texts per side and a behavioural probe each, and the
accumulation scenario asks that probe for the older propositions as for its own."""

import itertools
import re

import pytest

import socialsim as ss
from socialsim.core.errors import DataFileError
from socialsim.scenarios.persuasion.accumulation_library import accumulation_library
from socialsim.scenarios.persuasion.accumulation_measures import accumulation_summary
from socialsim.scenarios.propositions import builtin_propositions, parse_propositions
from socialsim.simulation.world import create_scenario
from socialsim.testing import ScriptedClient, fitted, run_scripted

from ..analysis.tables import action, frame
from .test_persuasion import actions, cfg

OLDER = {p.id: p for p in builtin_propositions()}
ALL = OLDER | accumulation_library()
STOP = set("a an the and or of to in on for is are be by with that this it as at from".split())


def normalised(text):
    """Lower case, single spaces, no trailing full stop."""
    return " ".join(text.lower().split()).rstrip(".")


def content_words(text):
    """The words of a text that carry meaning (no short function words)."""
    return {w for w in re.findall(r"[a-z']+", text.lower()) if w not in STOP}


def test_both_files_hold_all_sixteen_propositions():
    assert len(OLDER) == 12 and len(accumulation_library()) == 4
    assert {"nuclear_power", "zoos", "trolley_switch"} <= set(ALL)
    assert not set(OLDER) & set(accumulation_library())


@pytest.mark.parametrize("prop_id", sorted(ALL))
def test_ten_distinct_texts_per_side(prop_id):
    prop = ALL[prop_id]
    assert len(prop.arguments_for) >= 10 and len(prop.arguments_against) >= 10
    texts = prop.arguments_for + prop.arguments_against
    assert len({normalised(t) for t in texts}) == len(texts)  # within and across sides
    for a, b in itertools.combinations(texts, 2):  # no near paraphrase: little word overlap
        wa, wb = content_words(a), content_words(b)
        assert len(wa & wb) / len(wa | wb) < 0.5, (a, b)


def test_no_text_is_shared_between_propositions():
    seen = {}
    for prop in ALL.values():
        for text in prop.arguments_for + prop.arguments_against:
            assert seen.setdefault(normalised(text), prop.id) == prop.id, text


@pytest.mark.parametrize("prop_id", sorted(ALL))
def test_a_behavioural_probe_with_two_different_options(prop_id):
    prop = ALL[prop_id]
    probe = prop.probe
    assert probe is not None and probe.question.strip()
    assert normalised(probe.for_) != normalised(probe.against)
    assert probe.option("for") == probe.for_ and probe.option("against") == probe.against
    assert normalised(prop.text) not in normalised(probe.question)  # it never names the claim


def test_a_probe_in_a_propositions_entry_is_validated():
    entry = {"id": "tea", "text": "Tea beats coffee.", "probe": {"question": "Q?", "for": "tea"}}
    with pytest.raises(DataFileError, match=r"f\.yaml: entry 0 \(tea\): probe\.against"):
        parse_propositions([entry], "f.yaml")
    entry["probe"] |= {"against": "coffee", "also": "x"}
    with pytest.raises(DataFileError, match=r"probe\.also: unknown key"):
        parse_propositions([entry], "f.yaml")
    del entry["probe"]["also"]
    assert parse_propositions([entry], "f.yaml")[0].probe.option("against") == "coffee"


@pytest.mark.parametrize("prop_id", sorted(OLDER))
def test_ten_exposures_validate_on_every_older_proposition(tmp_path, prop_id):
    scenario = create_scenario("accumulation", {"proposition": prop_id, "texts": 10})
    scenario.validate_config(cfg(tmp_path, "accumulation", steps=10))
    assert scenario.probe is OLDER[prop_id].probe
    assert scenario.texts_for("against")[9] == OLDER[prop_id].arguments_against[9]


def test_rule_run_on_an_older_proposition_asks_its_probe_before_and_after(tmp_path):
    run = ss.run(cfg(tmp_path, "accumulation", steps=4, size=8, proposition="nuclear_power",
                     texts=4))  # fmt: skip
    stances = {(p["exposure"], i): p for i, p in enumerate(actions(run, "stance_probe"))}
    choices = actions(run, "behaviour_probe")
    assert len(choices) == 16 and sorted({c["exposure"] for c in choices}) == [0, 4]
    assert {c["proposition"] for c in choices} == {"nuclear_power"}
    assert all(c["status"] == "answered" and c["source"] == "rule" for c in choices)
    for exposure in (0, 4):
        levels = [p["agreement"] for (e, _), p in sorted(stances.items()) if e == exposure]
        picked = [c for c in choices if c["exposure"] == exposure]
        for level, c in zip(levels, picked, strict=True):  # the side the agreement leans to
            if level != 3:
                assert c["chosen_side"] == ("for" if level > 3 else "against")
            assert c["toward"] == (c["chosen_side"] == c["side"])


def _probe_prompts(tmp_path, **params):
    """The behavioural-probe prompts of a six-agent, one-text LLM run."""
    answers = {"choice": "B", "agreement": 4, "message": "Fine.", "to": "all", "beliefs": []}
    client = ScriptedClient(fitted(answers))
    run_scripted(cfg(tmp_path, "accumulation", steps=1, size=6, policy="llm", texts=1, **params),
                 client)  # fmt: skip
    return [r.messages[-1]["content"] for r in client.tagged("accumulation_behaviour")]


def test_llm_agents_see_the_older_propositions_probe(tmp_path):
    prompts = _probe_prompts(tmp_path, proposition="cash_free")
    probe = OLDER["cash_free"].probe
    assert len(prompts) == 12  # six agents, before and after
    assert all(probe.question in p and probe.for_ in p and probe.against in p for p in prompts)


@pytest.mark.slow
def test_the_probe_follows_the_proposition_a_user_gives(tmp_path):
    tea = {"id": "tea", "text": "Tea beats coffee.", "arguments_for": ["Tea is calm."],
           "arguments_against": ["Coffee wakes you."]}  # fmt: skip
    without = _probe_prompts(tmp_path / "a", proposition="tea", custom_propositions=[tea])
    assert without == []  # a user's proposition without a probe has none
    tea["probe"] = {"question": "Which drink do you order?", "for": "tea", "against": "coffee"}
    prompts = _probe_prompts(tmp_path / "b", proposition="tea", custom_propositions=[tea])
    assert len(prompts) == 12 and all("Which drink do you order?" in p for p in prompts)


def test_measures_when_every_behavioural_choice_failed():
    # every proposition now has a probe, so a run whose model never answers it is common
    rows = [action(e, a, "stance_probe", exposure=e, stance=3 + a, status="answered")
            for a in (0, 1) for e in (0, 2)]  # fmt: skip
    rows += [action(e, a, "behaviour_probe", exposure=e, toward=None, status="failed",
                    error="no answer") for a in (0, 1) for e in (0, 2)]  # fmt: skip
    out = accumulation_summary(frame(rows))
    assert out["behaviour"]["answers"] == {"asked": 4, "answered": 0, "failed": 4}
    assert out["behaviour"]["stated_revealed"]["agreement"]["n"] == 0
    assert out["shift_share"]["agents"] == 2
