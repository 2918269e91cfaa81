"""Params of the misinformation scenario (``scenario.params``), as pydantic models.

Who the attackers are, which routes carry the claim (in context, poisoned memories, a
broadcast), the guardians, and which probes are asked when.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from socialsim.core.claims import DISTANCES, Distance, Framing, SourceStyle
from socialsim.scenarios.seeding import SeedSpec, Strategy

Route = Literal["in_context", "memory", "broadcast"]


class MemoryPoison(BaseModel):
    """Benign agents given a fabricated earlier conversation with an attacker."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    targets: int | float = Field(1, ge=0, description="a count (int) or a fraction (float < 1)")
    strategy: Strategy = "random"
    ids: list[int] = Field(default_factory=list)
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
    attackers: SeedSpec = Field(default_factory=lambda: SeedSpec(count=1))
    framing: Framing = "authoritative"
    source_style: SourceStyle = "social_post"
    remove_attackers_at: int | None = Field(None, ge=1)
    routes: list[Route] = Field(default_factory=lambda: ["in_context"])
    memory_poison: MemoryPoison | None = None
    broadcast: Broadcast | None = None
    guardians: Guardians | None = None
    probe_steps: list[int] | None = Field(None, description="steps with probes; default every step")
    probe_distances: list[Distance] = Field(default_factory=lambda: list(DISTANCES))
    attacker_model: str | None = Field(
        None, description="model string for attackers (e.g. a knowledge-edited model)"
    )
    initial_credence: float | None = Field(
        0.1, ge=0.0, le=1.0, description="benign agents' starting credence; null: the policy's"
    )
