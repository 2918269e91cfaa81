"""Parameters of the negotiation scenario: mode, table size, turns, pie, reservations, reflection."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socialsim.simulation.wording import wording_field

REFLECTIONS = ("none", "reflect", "native")
Reflection = Literal["none", "reflect", "native"]


class ReservationRange(BaseModel):
    """Reservation values are drawn uniformly on [low, high], as shares of the pie."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    low: float = Field(0.2, ge=0.0, le=1.0)
    high: float = Field(0.6, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> ReservationRange:
        if self.low > self.high:
            raise ValueError(
                f"reservation.low ({self.low}) is above reservation.high ({self.high})"
            )
        return self


class NegotiationParams(BaseModel):
    """Parameters of the negotiation scenario."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    mode: Literal["split", "price"] = Field("split", description="split a pie, or agree a price")
    parties: int = Field(
        2, ge=2, le=6, strict=True, description="parties per table (3-6: split mode, unanimity)"
    )
    pairs: Literal["edges", "random"] = Field(
        "edges", description="tables of neighbours (an agent and its neighbours), or anyone"
    )
    pairs_per_step: int | None = Field(
        None,
        ge=1,
        strict=True,
        description="negotiations (tables) per step (default: all that fit)",
    )
    max_turns: int = Field(8, ge=2, le=100, strict=True, description="turns per negotiation")
    pie: float = Field(100.0, gt=0.0, le=1e9, description="pie size, or the top of the prices")
    reservation: ReservationRange = Field(default_factory=ReservationRange)
    concession: float = Field(
        0.5, gt=0.0, le=1.0, description="rule: share of the remaining gap conceded per offer"
    )
    reflection: Reflection = Field(
        "none",
        description="LLM agents: none, reflect (a private reflection call before each move) "
        "or native (the model's own reasoning, reasoning_effort on the litellm route)",
    )
    reflection_by_group: dict[str, Reflection] = Field(
        default_factory=dict,
        description="reflection per policy group: agents, agents.mix[0], ... (else reflection)",
    )
    reasoning_effort: Literal["low", "medium", "high"] = Field(
        "medium", description="native reflection: the reasoning_effort sent with each move"
    )
    wording: int = wording_field()

    @model_validator(mode="after")
    def _fits(self) -> NegotiationParams:
        if self.parties > 2 and self.mode != "split":
            raise ValueError(f"parties: {self.parties} needs mode: split (price is bilateral)")
        if self.max_turns < self.parties:
            raise ValueError(
                f"max_turns ({self.max_turns}) is below parties ({self.parties}): every party "
                "must be able to accept once; raise max_turns"
            )
        return self
