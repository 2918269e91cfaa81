"""Scenario prompt wordings: rewording, the families' paraphrase tables, a reworded run."""

from __future__ import annotations

import inspect

import pytest

import socialsim.scenarios.donor_game.scenario  # noqa: F401 - registers the scenario
from socialsim.core.errors import ConfigError
from socialsim.scenarios import propositions
from socialsim.scenarios.collaboration import scenario as collaboration
from socialsim.scenarios.collaboration.wordings import PARAPHRASES as COLLABORATION
from socialsim.scenarios.donor_game import prompts as donor_prompts
from socialsim.scenarios.donor_game.wordings import PARAPHRASES as DONOR
from socialsim.scenarios.manipulation import talk
from socialsim.scenarios.manipulation.wordings import PARAPHRASES as MANIPULATION
from socialsim.scenarios.negotiation import prompts as negotiation_prompts
from socialsim.scenarios.negotiation.wordings import PARAPHRASES as NEGOTIATION
from socialsim.scenarios.network_growth import questions as growth_questions
from socialsim.scenarios.network_growth.wordings import PARAPHRASES as GROWTH
from socialsim.scenarios.norms import questions as norms_questions
from socialsim.scenarios.norms.wordings import PARAPHRASES as NORMS
from socialsim.scenarios.persuasion import (
    accumulation,
    authority,
    debate,
    debate_params,
    debate_prompts,
)
from socialsim.scenarios.persuasion.wordings import PARAPHRASES as PERSUASION
from socialsim.simulation.queries import Question
from socialsim.simulation.wording import check_paraphrases, reword, reworded_questions
from socialsim.simulation.world import create_scenario
from socialsim.testing import run_scripted
from tests.scenarios.test_donor_game import llm_config, prompt_of, scripted

TABLE = {"What do you do?": ("What would you do?", "Which do you pick?", "Your move?"),
         "do": ("A", "B", "C")}  # fmt: skip


def test_reword_replaces_longest_fragments_first_and_leaves_wording_0_alone():
    text = "Rain. What do you do? I do."
    assert reword(text, 0, TABLE) == text
    assert reword(text, 2, TABLE) == "Rain. Which do you pick? I B."
    assert reword(None, 1, TABLE) is None
    with pytest.raises(ConfigError, match="0-3"):
        reword(text, 4, TABLE)


def test_reworded_questions_reword_prompt_system_and_history_copies():
    q = Question(0, "What do you do?", object, "t", system="do",  # type: ignore[arg-type]
                 history=[{"role": "user", "content": "What do you do?"}])  # fmt: skip
    (out,) = reworded_questions([q], 3, TABLE)
    assert (out.prompt, out.system, out.history[0]["content"]) == ("Your move?", "C", "Your move?")
    assert q.prompt == "What do you do?"  # the scenario's own question is untouched


def test_check_paraphrases_names_the_fragment_at_fault():
    with pytest.raises(ConfigError, match="needs 3"):
        check_paraphrases({"Say it.": ("Tell it.",)}, "x")
    with pytest.raises(ConfigError, match="repeats"):
        check_paraphrases({"Say it.": ("Tell it.", "Say it.", "Voice it.")}, "x")


# every fragment must occur in the family's prompt code: a reworded prompt changes nothing
# when the text it rewords is no longer there
FAMILIES = [
    (NORMS, [norms_questions]),
    (COLLABORATION, [collaboration]),
    (DONOR, [donor_prompts]),
    (GROWTH, [growth_questions]),
    (NEGOTIATION, [negotiation_prompts]),
    (MANIPULATION, [talk]),
    (PERSUASION, [propositions, authority, debate, debate_params, debate_prompts, accumulation]),
]


@pytest.mark.parametrize("table, modules", FAMILIES)
def test_every_paraphrased_fragment_is_in_the_family_prompts(table, modules):
    source = " ".join(" ".join(inspect.getsource(m).split()) for m in modules)
    for joint in ('" "', "' '", "\" '", "' \""):  # implicit string concatenation
        source = source.replace(joint, "")
    missing = [f for f in table if f not in source]
    assert not missing


def test_every_scenario_with_paraphrases_takes_a_wording_param():
    for kind in ("norms", "collaboration", "donor_game", "network_growth", "negotiation",
                 "manipulation", "authority", "debate", "accumulation", "persuasion"):  # fmt: skip
        scenario = create_scenario(kind, {"wording": 3})
        assert scenario.params.wording == 3 and scenario.paraphrases, kind
        with pytest.raises(ConfigError, match="wording"):
            create_scenario(kind, {"wording": 4})


def test_donor_game_asks_the_same_questions_in_another_wording(tmp_path):
    seen = {}
    for wording in (0, 2):
        client = scripted(lambda k: "Give 40% to players who gave.", 40)
        run_scripted(llm_config(tmp_path / str(wording), wording=wording), client)
        seen[wording] = [prompt_of(r) for r in client.requests]
    assert len(seen[0]) == len(seen[2]) > 0
    used = [f for f in DONOR if any(f in p for p in seen[0])]
    assert len(used) >= 3
    for fragment in used:
        assert not any(fragment in p for p in seen[2])
        assert any(DONOR[fragment][1] in p for p in seen[2])
