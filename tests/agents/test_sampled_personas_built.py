"""Sampled personas read from checked columns equal the personas validation builds."""

import copy

import numpy as np
import pytest

from socialsim.agents.sampling import sample_population
from socialsim.core.errors import ConfigError

SPECS = [
    None,
    {"fixed": {"country": "FR", "age": 30.0, "values": ["care", "liberty"],
               "big_five": {"openness": 0.9}, "occupation": "teacher"}},
    {"values": {"care": 1, "fairness": 2}, "names": ["Ann Lee", "Bo Li"],
     "framing_susceptibility": {"beta": [2, 2]}, "big_five": {"uniform": [0.1, 0.3]}},
]  # fmt: skip


def _validating(personas):
    """The same personas, each validated as it is built."""
    slow = copy.copy(personas)
    slow._checked = None
    return slow


@pytest.mark.parametrize("spec", SPECS)
def test_every_sampled_persona_equals_its_validated_build(spec):
    personas = sample_population(400, np.random.default_rng(5), spec)
    personas = personas.take(np.random.default_rng(6).permutation(400).tolist())
    slow = _validating(personas)
    for i in range(len(personas)):
        built, validated = personas[i], slow[i]
        assert built.__getstate__() == validated.__getstate__()
        assert built.big_five.__getstate__() == validated.big_five.__getstate__()
        assert [type(v) for v in vars(built).values()] == [
            type(v) for v in vars(validated).values()
        ]
    assert personas.column("credulity") == slow.column("credulity")
    assert personas.column("big_five.openness")[:5] == [p.big_five.openness for p in slow[:5]]


def test_fixed_values_are_the_validated_ones_and_each_persona_owns_its_own():
    personas = sample_population(20, np.random.default_rng(1), SPECS[1])
    first = personas[0]
    assert first.age == 30 and type(first.age) is int  # 30.0 as validation reads it
    assert first.big_five.model_fields_set == {"openness"}
    first.values.append("order")
    first.big_five.openness = 0.1
    again = personas[0]
    assert again.values == ["care", "liberty"] and again.big_five.openness == 0.9


def test_a_spec_that_makes_an_invalid_persona_is_still_refused():
    with pytest.raises(ConfigError, match="age"):
        sample_population(10, np.random.default_rng(1), {"fixed": {"age": 5}})
    with pytest.raises(ConfigError, match="credulity"):
        sample_population(10, np.random.default_rng(1), {"credulity": {"uniform": [0.5, 1.5]}})
