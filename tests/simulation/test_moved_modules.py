"""Old data that names a module by its earlier path still reads: checkpoints name classes."""

import importlib
import json
from pathlib import Path

import pytest

from socialsim.core.claims import LibraryClaim, builtin_claims
from socialsim.core.moved import MOVED_MODULES, current_module
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
