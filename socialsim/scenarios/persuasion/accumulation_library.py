"""The accumulating-context scenario's own propositions and the behavioural probe's records.

``data/accumulation_texts.yaml`` holds four moral-dilemma and safety propositions, each with
ten texts per side and a behavioural ``probe`` (:class:`~socialsim.scenarios.propositions.
BehaviourProbe`): a decision with two options, one that someone agreeing with the proposition
would choose (``for``) and one that someone disagreeing would choose (``against``), asked
without mentioning the proposition. The scenario also runs on the 12 built-in propositions,
which carry ten texts per side and a probe the same way.

    >>> accumulation_library()["trolley_switch"].topic
    'moral_dilemma'
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, Field

from socialsim.core.errors import DataFileError
from socialsim.core.events import ABSENT, EventPayload, described, event_payload
from socialsim.core.yaml_safe import load_yaml_text
from socialsim.scenarios.propositions import Proposition, parse_propositions

SOURCE = "socialsim/scenarios/persuasion/data/accumulation_texts.yaml"


class BehaviourChoice(BaseModel):
    """The agent's decision in a behavioural probe."""

    choice: Literal["A", "B"] = Field(..., description="the option you choose: A or B")


@lru_cache(maxsize=1)
def accumulation_library() -> dict[str, Proposition]:
    """The scenario's own propositions (moral dilemmas, safety) with their probes, by id."""
    text = resources.files("socialsim.scenarios.persuasion").joinpath(
        "data/accumulation_texts.yaml"
    )
    data = load_yaml_text(text.read_text("utf-8"), SOURCE, error=DataFileError)
    return {p.id: p for p in parse_propositions(data, SOURCE)}


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
    "BehaviourProbeChoice",
    "accumulation_library",
]
