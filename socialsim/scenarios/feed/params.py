"""Params of the feed scenario (``scenario.params``): the items, the ranking, the answers.

The items are made from claims of the claims library (built in, a ``claims_file`` or
``custom_claims``): each claim in each of ``framings`` in turn, repeated until there are
``n_items``. ``neutral`` is the plain statement without a framing sentence and ``plain`` a
post without a source style; the control arm shows every item that way.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from socialsim.core.claims import FRAMINGS, SOURCE_STYLES

#: the framing without a framing sentence (framing weight 1)
NEUTRAL = "neutral"
#: the source style without a source sentence (weight 1)
PLAIN = "plain"
FRAMING_NAMES: tuple[str, ...] = (*FRAMINGS, NEUTRAL)
SOURCE_NAMES: tuple[str, ...] = (*SOURCE_STYLES, PLAIN)


def _known(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    """`values` when each is one of `allowed` and none is given twice; ValueError otherwise."""
    if not values:
        raise ValueError(f"give at least one {what}")
    for value in values:
        if value not in allowed:
            raise ValueError(f"{value!r} is not a {what}; use one of {', '.join(allowed)}")
    if len(set(values)) != len(values):
        raise ValueError(f"each {what} may be given once")
    return values


class FeedParams(BaseModel):
    """Parameters of the feed scenario."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    claims: list[str] = Field(
        default_factory=list, description="claim ids to make items of (empty: every claim)"
    )
    claims_file: str | None = Field(None, description="a YAML file of claims added to the library")
    custom_claims: list[dict[str, Any]] | None = Field(None, description="claims given inline")
    builtin: bool = Field(
        True, description="with no claims named: use the built-in claims too, not only your own"
    )
    n_items: int = Field(200, ge=1, le=1_000_000, description="feed items made from the claims")
    framings: list[str] = Field(
        default_factory=lambda: list(FRAMING_NAMES), description="framings the items cycle through"
    )
    source_styles: list[str] = Field(
        default_factory=lambda: list(SOURCE_STYLES), description="source styles drawn per item"
    )
    manipulated_share: float = Field(
        0.5, ge=0.0, le=1.0, description="share of claims shown in their manipulated version"
    )
    posting: Literal["spread", "start"] = Field(
        "spread", description="items posted evenly over the steps, or all at step 1"
    )
    audience: float = Field(
        1.0, ge=0.0, le=1.0, description="share of agents each item reaches when posted"
    )
    agent_posts: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="share of items posted by a random agent (to its listeners)",
    )
    ranking: str = Field("recency", description="the ranking policy (recency, popularity, random)")
    ranking_params: dict[str, Any] = Field(default_factory=dict)
    k: int = Field(3, ge=1, le=1000, description="items each agent sees per step")
    repetition: float = Field(
        0.5, ge=0.0, le=10.0, description="rule agents' illusory-truth gain per earlier exposure"
    )
    discernment: float = Field(
        0.0, ge=0.0, le=1.0, description="how much less rule agents accept a manipulated version"
    )
    reshare: float = Field(
        0.3, ge=0.0, le=1.0, description="chance an agent that accepts an item reshares it"
    )

    @field_validator("framings")
    @classmethod
    def _framings(cls, value: list[str]) -> list[str]:
        return _known(value, FRAMING_NAMES, "framing")

    @field_validator("source_styles")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        return _known(value, SOURCE_NAMES, "source style")
