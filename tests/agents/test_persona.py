"""Persona and BigFive validation and the prompt description."""

import pytest
from pydantic import ValidationError

from socialsim.core.persona import BigFive, Persona


def _error_fields(exc: ValidationError) -> set[str]:
    return {".".join(str(x) for x in e["loc"]) for e in exc.errors()}


def test_defaults_fill_a_minimal_persona():
    p = Persona(id=0, name="Ada Lovelace")
    assert p.political_leaning == "centre"
    assert p.big_five == BigFive()
    assert p.role == "benign" and p.model is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", -1),
        ("age", 7),
        ("age", 200),
        ("credulity", 1.5),
        ("stubbornness", -0.1),
        ("activity_rate", 0.0),
        ("political_leaning", "moderate"),
        ("values", "family"),
    ],
)
def test_bad_field_names_the_field(field, value):
    with pytest.raises(ValidationError) as info:
        Persona(**{"id": 0, "name": "x", field: value})
    assert field in _error_fields(info.value)


def test_bad_trait_names_the_nested_field():
    with pytest.raises(ValidationError) as info:
        Persona(id=0, name="x", big_five={"openness": 2.0})
    assert "big_five.openness" in _error_fields(info.value)


def test_unknown_field_is_rejected():
    with pytest.raises(ValidationError) as info:
        Persona(id=0, name="x", favourite_colour="blue")
    assert "favourite_colour" in _error_fields(info.value)


def test_name_is_required():
    with pytest.raises(ValidationError) as info:
        Persona(id=0)
    assert "name" in _error_fields(info.value)


def test_describe_mentions_the_fields():
    p = Persona(
        id=3,
        name="Kenji Sato",
        age=41,
        occupation="nurse",
        country="JP",
        values=["honesty", "family"],
        interests=["chess"],
        communication_style="formal",
        backstory="Kenji grew up in Osaka.",
    )
    text = p.describe()
    for part in ("Kenji Sato", "41-year-old", "nurse", "JP", "honesty, family", "chess", "formal"):
        assert part in text
    assert text.endswith("Kenji grew up in Osaka.")


@pytest.mark.parametrize(
    ("age", "style", "expected"),
    [
        (18, "enthusiastic", ("an 18-year-old", "an enthusiastic style")),
        (83, "plain", ("an 83-year-old", "a plain style")),
        (35, "analytical", ("a 35-year-old", "an analytical style")),
    ],
)
def test_describe_uses_the_right_article(age, style, expected):
    text = Persona(id=0, name="x", age=age, communication_style=style).describe()
    for phrase in expected:
        assert phrase in text
