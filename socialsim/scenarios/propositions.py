"""Propositions and stance questions shared by the persuasion scenarios.

The propositions library (``data/propositions.yaml`` plus the user's files and inline
entries), the 1-5 agreement question and its mapping onto credences, the side helpers, the
persona profile a personalising persuader sees, and :func:`answer_status`, which turns an
answer into the ``status``/``error`` fields every persuasion event carries.

Each of the 12 built-in propositions has ten short arguments per side and a behavioural
``probe`` (:class:`BehaviourProbe`): a decision, asked without naming the proposition, whose
``for`` option is what someone agreeing with it would choose. A user's proposition may give
its own ``probe``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from socialsim.core.claims import CLAIM_ID_PATTERN, Claim
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.validation import choices, parse_entries, shown
from socialsim.core.yaml_safe import load_yaml_file
from socialsim.simulation.wording import wording_field

if TYPE_CHECKING:
    from socialsim.core.persona import Persona
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.queries import Answer

Side = Literal["for", "against"]

AGREEMENT_SCALE = (
    "1 = strongly disagree, 2 = disagree, 3 = neither agree nor disagree, 4 = agree, "
    "5 = strongly agree"
)


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


class Proposition(BaseModel):
    """A debatable proposition with short arguments on both sides and a behavioural probe."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1, pattern=CLAIM_ID_PATTERN)
    text: str = Field(..., min_length=1)
    topic: str = "general"
    arguments_for: list[str] = Field(default_factory=list)
    arguments_against: list[str] = Field(default_factory=list)
    probe: BehaviourProbe | None = Field(
        None, description="a decision whose choice reveals agreement (question, for, against)"
    )

    def arguments(self, side: str) -> list[str]:
        """The arguments for one side."""
        return self.arguments_for if side == "for" else self.arguments_against

    def claim(self) -> Claim:
        """The proposition as a claim in play (credence = agreement with it)."""
        return Claim(id=self.id, text=self.text, truth=None, topic=self.topic)


class Agreement(BaseModel):
    """A stated agreement with a proposition on the 1-5 scale."""

    agreement: Literal[1, 2, 3, 4, 5] = Field(..., description=AGREEMENT_SCALE)


class Turn(BaseModel):
    """One message in a conversation."""

    message: str = Field(..., description="what you say", json_schema_extra={"maxLength": 400})


# A few sentences of plain words (letters, apostrophes, hyphens; commas and sentence ends
# between words), 5 to 51 words: constrained decoding then yields prose, not JSON or lists.
PROSE_PATTERN = "^[A-Z][A-Za-z'-]*([,.!?]? [A-Za-z][A-Za-z'-]*){4,50}[.!?]$"


class Post(BaseModel):
    """A message of a few sentences, held to plain prose by :data:`PROSE_PATTERN`."""

    message: str = Field(
        ..., description="what you say", json_schema_extra={"pattern": PROSE_PATTERN}
    )


# --- the propositions library ---------------------------------------------------------------------
def parse_propositions(entries: Any, source: str) -> list[Proposition]:
    """Validate proposition entries; DataFileError naming the source, entry and field.

    Two entries with the same id are refused (one would silently replace the other).
    """
    return parse_entries(entries, source, Proposition, "propositions")


@lru_cache(maxsize=1)
def builtin_propositions() -> tuple[Proposition, ...]:
    """The propositions shipped with socialsim."""
    text = (
        resources.files("socialsim.scenarios").joinpath("data/propositions.yaml").read_text("utf-8")
    )
    return tuple(
        parse_propositions(yaml.safe_load(text), "socialsim/scenarios/data/propositions.yaml")
    )


def proposition_library(
    path: str | Path | None = None, custom: list[dict[str, Any]] | None = None
) -> dict[str, Proposition]:
    """Built-in propositions plus those from a YAML file and inline entries."""
    library = {p.id: p for p in builtin_propositions()}
    if path is not None:
        path = Path(path)
        data = load_yaml_file(path, "propositions file", error=DataFileError)
        library.update({p.id: p for p in parse_propositions(data, str(path))})
    if custom:
        library.update(
            {p.id: p for p in parse_propositions(custom, "scenario.params.custom_propositions")}
        )
    return library


def get_proposition(library: dict[str, Proposition], prop_id: str) -> Proposition:
    """The proposition with this id; ConfigError listing known ids otherwise."""
    if prop_id not in library:
        known = choices(sorted(library), prop_id, limit=80)
        raise ConfigError(
            f"scenario.params.proposition: {shown(prop_id)} is unknown; known ids: {known} "
            "(add your own with propositions_file or custom_propositions)"
        )
    return library[prop_id]


class PropositionParams(BaseModel):
    """Params shared by the persuasion scenarios: which proposition, where extra ones come from."""

    model_config = ConfigDict(extra="forbid")

    proposition: str = "four_day_week"
    propositions_file: str | None = None
    custom_propositions: list[dict[str, Any]] = Field(default_factory=list)
    wording: int = wording_field()

    def load(self, cfg: ExperimentConfig | None = None) -> dict[str, Proposition]:
        """The library with the user's propositions added."""
        path = self.propositions_file
        if path is not None and cfg is not None:
            path = str(cfg.resolve_path(path))
        return proposition_library(path, self.custom_propositions)


# --- stance helpers -------------------------------------------------------------------------------
def agreement_prompt(prop: Proposition) -> str:
    """The question asking for agreement with a proposition."""
    return (
        f'How much do you agree with this statement: "{prop.text}"\n'
        f"Use the scale {AGREEMENT_SCALE}. "
        'Reply in JSON as {"agreement": <1-5>}.'
    )


def credence_to_agreement(credence: float) -> int:
    """Map a credence 0..1 onto the 1-5 agreement scale."""
    return int(1 + round(4 * min(1.0, max(0.0, credence))))


def agreement_to_credence(agreement: int) -> float:
    """Map a 1-5 agreement onto a credence 0..1."""
    return (int(agreement) - 1) / 4.0


def toward(agreement: int, side: str) -> int:
    """Agreement with the position of `side` (the scale flipped for 'against')."""
    return int(agreement) if side == "for" else 6 - int(agreement)


def lean(agreement: int, rng: np.random.Generator) -> str:
    """The side an agreement leans to; a neutral 3 picks a side at random."""
    if agreement > 3:
        return "for"
    if agreement < 3:
        return "against"
    return "for" if rng.random() < 0.5 else "against"


def opposite(side: str) -> str:
    """The other side."""
    return "against" if side == "for" else "for"


def profile(persona: Persona) -> str:
    """A third-person description of a persona (what a personalising persuader sees)."""
    p = persona
    parts = [
        f"{p.name}, a {p.age}-year-old {p.gender} {p.occupation} from {p.country}",
        f"education: {p.education}",
        f"political leaning: {p.political_leaning}",
    ]
    if p.values:
        parts.append("values " + ", ".join(p.values))
    if p.interests:
        parts.append("interested in " + ", ".join(p.interests))
    return "; ".join(parts) + "."


# --- answer status ---------------------------------------------------------------------------------
def answer_status(*answers: Answer, labels: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{"status": "answered"}``, or ``"failed"`` with the first failure as ``error``.

    ``labels`` name the answers (``("pre", "post")``) so that the error says which one failed.
    """
    for i, answer in enumerate(answers):
        if not answer.ok:
            where = f"{labels[i]}: " if i < len(labels) else ""
            return {"status": "failed", "error": where + (answer.error or "no answer")}
    return {"status": "answered"}


__all__ = [
    "AGREEMENT_SCALE",
    "Agreement",
    "BehaviourProbe",
    "Proposition",
    "PropositionParams",
    "Side",
    "Turn",
    "agreement_prompt",
    "agreement_to_credence",
    "answer_status",
    "builtin_propositions",
    "credence_to_agreement",
    "get_proposition",
    "lean",
    "opposite",
    "parse_propositions",
    "profile",
    "proposition_library",
    "toward",
]
