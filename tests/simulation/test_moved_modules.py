"""Old data that names a module by its earlier path still reads: checkpoints name classes."""

import importlib
import json
from pathlib import Path

import pytest

from socialsim.core.claims import LibraryClaim, builtin_claims
from socialsim.core.moved import MOVED_CLASSES, MOVED_MODULES, current_class, current_module
from socialsim.experiments.state_codec import Decoder, Encoder, StateError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("old,new", sorted(MOVED_MODULES.items()))
def test_each_moved_module_exists_where_it_is_said_to_and_not_where_it_was(old, new):
    assert importlib.import_module(new).__name__ == new
    gone = ROOT / (old.replace(".", "/") + ".py")
    assert not gone.exists(), f"{old} still exists at its old path"


def test_a_name_that_did_not_move_is_kept():
    assert current_module("socialsim.simulation.model") == "socialsim.simulation.model"
    assert current_module("socialsim.scenarios.base") == "socialsim.simulation.world"


def test_a_checkpoint_naming_a_class_by_its_old_module_decodes_to_the_class_now():
    claim = builtin_claims()[0]
    encoder = Encoder({})
    text = json.dumps(encoder.encode(claim))
    assert "socialsim.core.claims:LibraryClaim" in text
    old = json.loads(text.replace("socialsim.core.claims:", "socialsim.scenarios.claims_library:"))
    decoded = Decoder(encoder.arrays.__getitem__, lambda name: None).decode(old)
    assert type(decoded) is LibraryClaim
    assert decoded == claim


def test_a_class_outside_the_state_packages_is_still_refused_under_an_old_name():
    encoder = Encoder({})
    text = json.dumps(encoder.encode(builtin_claims()[0]))
    forged = json.loads(text.replace("socialsim.core.claims:LibraryClaim", "subprocess:Popen"))
    with pytest.raises(StateError):
        Decoder(encoder.arrays.__getitem__, lambda name: None).decode(forged)


@pytest.mark.parametrize("old,new", sorted(MOVED_CLASSES.items()))
def test_each_moved_class_is_defined_where_it_is_said_to_and_still_named_where_it_was(old, new):
    new_module, _, name = new.partition(":")
    old_module, _, old_name = old.partition(":")
    cls = getattr(importlib.import_module(new_module), name)
    assert cls.__module__ == new_module and cls.__qualname__ == name
    assert getattr(importlib.import_module(old_module), old_name) is cls  # user code still runs
    assert current_class(old) == new and current_class(new) == new


def test_a_checkpoint_naming_a_moved_class_decodes_to_the_class_now():
    from socialsim.core.decisions import Decision
    from socialsim.core.persona import Persona

    state = {
        "persona": Persona(id=3, name="Ada", values=["care"]),
        "decision": Decision(agent_id=3, message="hi", to=1, credences={"c": 0.4}),
    }
    encoder = Encoder({})
    text = json.dumps(encoder.encode(state))
    assert "socialsim.core.persona:Persona" in text
    old = text.replace("socialsim.core.persona:", "socialsim.agents.persona:").replace(
        "socialsim.core.decisions:", "socialsim.agents.policies.base:"
    )
    decoded = Decoder(encoder.arrays.__getitem__, lambda name: None).decode(json.loads(old))
    assert decoded == state and type(decoded["persona"]) is Persona
    # an old name that never held the class is still refused
    forged = text.replace("socialsim.core.persona:Persona", "socialsim.agents.memory:Persona")
    with pytest.raises(StateError):
        Decoder(encoder.arrays.__getitem__, lambda name: None).decode(json.loads(forged))
