"""Parameters of the negotiation scenario: mode, pairing, turns, pie, reservation values."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
    pairs: Literal["edges", "random"] = Field("edges", description="pair neighbours, or anyone")
    pairs_per_step: int | None = Field(
        None, ge=1, strict=True, description="negotiations per step (default: all pairable)"
    )
    max_turns: int = Field(8, ge=2, le=100, strict=True, description="turns per negotiation")
    pie: float = Field(100.0, gt=0.0, le=1e9, description="pie size, or the top of the prices")
    reservation: ReservationRange = Field(default_factory=ReservationRange)
    concession: float = Field(
        0.5, gt=0.0, le=1.0, description="rule: share of the remaining gap conceded per offer"
    )
