"""trusted(): models built without validating again are the objects validation builds."""

import pytest
from pydantic import BaseModel, ConfigDict

from socialsim.core.claims import Claim
from socialsim.core.decisions import Decision, Observation
from socialsim.core.messages import Message
from socialsim.core.persona import BigFive, Persona
from socialsim.core.trusted import trusted


def _same(built, validated):
    """Equal in everything a checkpoint or an export reads, field order and types too."""
    assert built == validated
    assert list(vars(built)) == list(vars(validated))
    assert [type(v) for v in vars(built).values()] == [type(v) for v in vars(validated).values()]
    assert built.model_fields_set == validated.model_fields_set
    assert built.__pydantic_private__ == validated.__pydantic_private__
    assert built.__pydantic_extra__ == validated.__pydantic_extra__
    assert built.__getstate__() == validated.__getstate__()
    assert built.model_dump_json() == validated.model_dump_json()


def _persona_values():
    return {
        "id": 3,
        "name": "Ana Li",
        "age": 41,
        "big_five": BigFive(openness=0.2, neuroticism=0.7),
        "values": ["care"],
        "credulity": 0.25,
        "role": "attacker",
    }


def _message_values():
    return {"id": "m1", "sender": 2, "recipients": [4, 5], "step": 1, "time": 1.0,
            "text": "Hi there.", "claims": ["c1"], "reply_to": None, "channel": "post",
            "deliver_at": None, "framing": None, "source_style": None}  # fmt: skip


def _observation_values():
    return {
        "agent_id": 3,
        "step": 2,
        "time": 2.0,
        "persona": Persona(**_persona_values()),
        "inbox": [Message(**_message_values())],
        "memories": ["Bo said: hi"],
        "beliefs": {"c1": 0.4},
        "claims": [Claim(id="c1", text="The river is poisoned.")],
        "neighbours": {4: "Bo", 5: "Cy"},
        "instructions": [],
    }


@pytest.mark.parametrize(
    "cls, values",
    [
        (Persona, _persona_values),
        (BigFive, lambda: {"openness": 0.1, "extraversion": 0.9}),
        (Message, _message_values),
        (Observation, _observation_values),
        (
            Decision,
            lambda: {
                "agent_id": 1,
                "llm": {"model": "m"},
                "prompt_id": "decide_v2",
                "message": "Hi.",
                "to": 4,
                "credences": {"c1": 0.5},
                "reasons": {},
                "fields": {"vote": "yes"},
            },
        ),  # fmt: skip
        (Decision, lambda: {"agent_id": 1, "error": "no answer"}),
    ],
)
def test_a_trusted_model_is_the_validated_one(cls, values):
    _same(trusted(cls, values()), cls(**values()))


def test_defaults_are_made_anew_for_every_object():
    first, second = (trusted(Observation, _observation_values()) for _ in range(2))
    first.task["topic"] = "x"
    first.persona.values.append("order")  # given values are the object's own, as given
    assert second.task == {} and first.task is not second.task
    assert first.__pydantic_private__ is not second.__pydantic_private__
    made = trusted(Persona, {"id": 1, "name": "A"})
    assert (
        made.values == []
        and made.big_five == BigFive()
        and made.model_fields_set
        == {
            "id",
            "name",
        }
    )


def test_unknown_fields_missing_required_ones_and_unsuitable_models_are_refused():
    with pytest.raises(TypeError, match="no field 'nick'"):
        trusted(Persona, {"id": 1, "name": "A", "nick": "a"})
    with pytest.raises(TypeError, match="'name' is required"):
        trusted(Persona, {"id": 1})

    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int = 0

    class Hooked(BaseModel):
        a: int = 0

        def model_post_init(self, context) -> None:
            self.a += 1

    for cls in (Open, Hooked):
        with pytest.raises(TypeError, match="extra fields or its own post-init"):
            trusted(cls, {"a": 1})
