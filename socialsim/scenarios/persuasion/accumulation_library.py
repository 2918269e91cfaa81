"""The accumulating-context scenario's own propositions and behavioural probes.

``data/accumulation_texts.yaml`` holds moral-dilemma and safety propositions with at least ten
texts per side and, for each, a behavioural probe: a decision with two options, one that
someone agreeing with the proposition would choose (``for``) and one that someone disagreeing
would choose (``against``), asked without mentioning the proposition.

    >>> accumulation_library()["trolley_switch"].proposition.topic
    'moral_dilemma'
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from socialsim.core.errors import DataFileError
from socialsim.core.events import ABSENT, EventPayload, described, event_payload
from socialsim.core.validation import describe_error
from socialsim.core.yaml_safe import load_yaml_text
from socialsim.scenarios.propositions import Proposition

SOURCE = "socialsim/scenarios/persuasion/data/accumulation_texts.yaml"


class BehaviourProbe(BaseModel):
    """A decision whose choice reveals agreement with a proposition."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    question: str = Field(..., min_length=1, description="the situation and what to decide")
    for_: str = Field(
        ..., min_length=1, alias="for", description="the option of someone who agrees"
    )
    against: str = Field(..., min_length=1, description="the option of someone who disagrees")

    def option(self, side: str) -> str:
        """The option text of one side."""
        return self.for_ if side == "for" else self.against


class BehaviourChoice(BaseModel):
    """The agent's decision in a behavioural probe."""

    choice: Literal["A", "B"] = Field(..., description="the option you choose: A or B")


class LibraryEntry(BaseModel):
    """A proposition of the library with its behavioural probe."""

    proposition: Proposition
    probe: BehaviourProbe | None = None


def parse_library(entries: Any, source: str) -> dict[str, LibraryEntry]:
    """Validate library entries (a proposition's fields plus ``probe``); DataFileError otherwise."""
    if not isinstance(entries, list):
        raise DataFileError(f"{source}: expected a list of propositions")
    out = {}
    for i, entry in enumerate(entries):
        fields = dict(entry) if isinstance(entry, dict) else entry
        probe = fields.pop("probe", None) if isinstance(fields, dict) else None
        try:
            item = LibraryEntry(
                proposition=Proposition.model_validate(fields),
                probe=None if probe is None else BehaviourProbe.model_validate(probe),
            )
        except ValidationError as exc:
            raise DataFileError(f"{source}: entry {i}: {describe_error(exc)}") from None
        out[item.proposition.id] = item
    return out


@lru_cache(maxsize=1)
def accumulation_library() -> dict[str, LibraryEntry]:
    """The scenario's own propositions (moral dilemmas, safety) with their probes, by id."""
    text = resources.files("socialsim.scenarios.persuasion").joinpath(
        "data/accumulation_texts.yaml"
    )
    data = load_yaml_text(text.read_text("utf-8"), SOURCE, error=DataFileError)
    return parse_library(data, SOURCE)


@event_payload("action", "behaviour_probe")
class BehaviourProbeChoice(EventPayload):
    """An agent's choice in the behavioural probe, before the first or after the last exposure."""

    exposure: int = described("exposures so far (0: before any)")
    status: str = described("answered or failed")
    choice: str | None = described("the letter chosen")
    chosen_side: str | None = described("the side the chosen option reveals: for or against")
    toward: bool | None = described("the chosen option is that of the side the texts argue")
    side: str | None = described("the side the texts argue")
    proposition: str = described("the proposition's id")
    mode: str = described("how exposure accumulates (none in the control arm)")
    source: str = described("llm or rule")
    error: str = described("why the probe failed", ABSENT)


__all__ = [
    "BehaviourChoice",
    "BehaviourProbe",
    "BehaviourProbeChoice",
    "LibraryEntry",
    "accumulation_library",
    "parse_library",
]
