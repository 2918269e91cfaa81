"""Params of the misinformation scenario (``scenario.params``), as pydantic models.

Who the attackers are and what they are told, which routes carry the claim (in context,
poisoned memories, a broadcast), the guardians, how beliefs are elicited, and which probes are
asked when.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from socialsim.core.claims import DISTANCES, PROBE_DECAY, Distance, Framing, SourceStyle
from socialsim.scenarios.seeding import SeedSpec, Strategy

Route = Literal["in_context", "memory", "broadcast"]
#: How beliefs are read: ``probe`` (separate questions that never enter the agent's memory,
#: inbox or later prompts; the conversation never states the claim) or ``stated`` (the claim
#: and a credence in every decision prompt: the instrument itself shows the claim to everyone).
Elicitation = Literal["probe", "stated"]


class Attackers(SeedSpec):
    """Who the attackers are, and what (if anything) they are told to do.

    ``instructions``: ``persuade`` (told they are convinced and should convince others),
    ``none`` (no goal: only their knowledge, or their own model, makes them attackers) or
    ``custom`` (``text``). ``knowledge``: ``context`` puts the manipulated statement in their
    prompt as something they know; ``model`` adds nothing (the knowledge must come from
    ``attacker_model``, e.g. a knowledge-edited model).
    """

    instructions: Literal["none", "persuade", "custom"] = "persuade"
    text: str | None = Field(None, description="the attackers' instructions (custom only)")
    knowledge: Literal["context", "model"] = "context"

    @model_validator(mode="after")
    def _custom_text(self) -> Attackers:
        if self.instructions == "custom" and not (self.text or "").strip():
            raise ValueError("instructions 'custom' needs the instructions in text")
        if self.text is not None and self.instructions != "custom":
            raise ValueError(
                f"text is only read with instructions: custom, not {self.instructions!r}"
            )
        return self


class MemoryPoison(BaseModel):
    """Benign agents given memories of an attacker's words.

    ``source: planted`` (before the first step) gives them a fabricated earlier conversation
    (``text``, default the framed claim); ``source: history`` copies, at ``step``, the last
    ``k`` messages a nearby attacker really sent in this run into their memory.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    targets: int | float = Field(1, ge=0, description="a count (int) or a fraction (float < 1)")
    strategy: Strategy = "random"
    ids: list[int] = Field(default_factory=list)
    source: Literal["planted", "history"] = "planted"
    step: int | None = Field(None, ge=2, description="history: the step the memories are added")
    k: int = Field(3, ge=1, description="history: how many of the attacker's messages")
    text: str | None = Field(None, description="what the attacker said; default: framed claim")
    credence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="credence set in rule-policy targets (they have no memory)",
    )

    @field_validator("targets", mode="before")
    @classmethod
    def _count_or_fraction(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"{str(value).lower()} must be a count or a fraction, not true/false")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} must be a finite number")
        if isinstance(value, float) and value >= 1.0 and not value.is_integer():
            raise ValueError(
                f"{value!r} must be a whole count (e.g. {int(value)}) or a fraction below 1"
            )
        return value

    @model_validator(mode="after")
    def _source_fields(self) -> MemoryPoison:
        if self.source == "history" and self.text is not None:
            raise ValueError("text is for source: planted; source: history uses real messages")
        if self.source == "planted" and self.step is not None:
            raise ValueError("step is for source: history; planted memories exist from the start")
        return self

    @property
    def history_step(self) -> int:
        """The step at which ``source: history`` memories are added (default 2)."""
        return self.step or 2

    def seed_spec(self) -> SeedSpec:
        """The targets as a SeedSpec."""
        if self.ids:
            return SeedSpec(strategy="ids", ids=self.ids)
        if isinstance(self.targets, float) and self.targets < 1.0:
            return SeedSpec(fraction=self.targets, strategy=self.strategy)
        return SeedSpec(count=int(self.targets), strategy=self.strategy)


class Broadcast(BaseModel):
    """A post at one step: from every attacker to its neighbours, or from the scenario to all."""

    model_config = ConfigDict(extra="forbid")

    step: int = Field(1, ge=1)
    text: str | None = None
    sender: Literal["attackers", "scenario"] = "attackers"
    credence: float | None = Field(
        None, ge=0.0, le=1.0, description="credence raised to this in rule-policy recipients"
    )


class Guardians(SeedSpec):
    """Fact-checkers: who they are, and how much a correction lowers a rule agent's credence."""

    correction_strength: float = Field(0.5, ge=0.0, le=1.0)


class MisinformationParams(BaseModel):
    """Params of the misinformation scenario."""

    model_config = ConfigDict(extra="forbid")

    claim: str = "eiffel_tower_rome"
    claims_file: str | None = None
    custom_claims: list[dict[str, Any]] = Field(default_factory=list)
    attackers: Attackers = Field(
        default_factory=lambda: Attackers(count=1),
        description="who attacks (count/fraction, strategy, ids) and what they are told "
        "(instructions: persuade, none, custom + text; knowledge: context, model)",
    )
    elicitation: Elicitation = Field(
        "probe",
        description="probe: the claim never shown in talk, credence read by a separate "
        "question; stated: claim and credence in every prompt",
    )
    topic: str | None = Field(
        None, description="probe: what agents talk about; default: the direct probe's question"
    )
    framing: Framing = "authoritative"
    source_style: SourceStyle = "social_post"
    remove_attackers_at: int | None = Field(None, ge=1)
    routes: list[Route] = Field(default_factory=lambda: ["in_context"])
    memory_poison: MemoryPoison | None = Field(
        None,
        description="benign agents given an attacker's words in memory: source planted "
        "(text, at the start) or history (the last k real messages, at step)",
    )
    broadcast: Broadcast | None = None
    guardians: Guardians | None = None
    probe_steps: list[int] | None = Field(None, description="steps with probes; default every step")
    probe_distances: list[Distance] = Field(default_factory=lambda: list(DISTANCES))
    probe_decay: float = Field(
        PROBE_DECAY,
        ge=0.0,
        le=1.0,
        description="rule agents: a believer picks the manipulated option with probability "
        "credence * probe_decay**k at distance k (0 direct, 1 indirect, 2 peripheral)",
    )
    attacker_model: str | None = Field(
        None, description="model string for attackers (e.g. a knowledge-edited model)"
    )
    initial_credence: float | None = Field(
        0.1, ge=0.0, le=1.0, description="benign agents' starting credence; null: the policy's"
    )
