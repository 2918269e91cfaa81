"""Persona: who an agent is — demographics, Big Five, values, style, and influence traits.

A shared noun: the model, the policies, the scenarios and the dashboard read it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Leaning = Literal["far-left", "left", "centre-left", "centre", "centre-right", "right", "far-right"]


class BigFive(BaseModel):
    """Big Five personality traits, each 0..1."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    openness: float = Field(0.5, ge=0.0, le=1.0)
    conscientiousness: float = Field(0.5, ge=0.0, le=1.0)
    extraversion: float = Field(0.5, ge=0.0, le=1.0)
    agreeableness: float = Field(0.5, ge=0.0, le=1.0)
    neuroticism: float = Field(0.5, ge=0.0, le=1.0)


class Persona(BaseModel):
    """A persona profile: demographics, personality, values, and influence-relevant traits.

    Numbers must be finite (``activity_rate: Infinity`` is refused) and true/false is not a
    number.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: int = Field(..., ge=0)
    name: str
    age: int = Field(35, ge=13, le=110)
    gender: str = "unspecified"
    country: str = "US"
    occupation: str = "unspecified"
    education: str = "secondary"
    political_leaning: Leaning = "centre"
    big_five: BigFive = Field(default_factory=BigFive)
    values: list[str] = Field(default_factory=list)
    interests: list[str] = Field(default_factory=list)
    communication_style: str = "plain"
    backstory: str = ""
    credulity: float = Field(0.5, ge=0.0, le=1.0, description="how easily persuaded")
    stubbornness: float = Field(0.3, ge=0.0, le=1.0, description="weight kept on own view")
    activity_rate: float = Field(
        1.0,
        gt=0.0,
        description=(
            "wake-ups per unit of time (event mode; an agent acts at most once per window, so "
            "it acts at (1 - exp(-rate * window)) / window)"
        ),
    )
    framing_susceptibility: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="how much a claim's framing moves a rule agent (0: not at all)",
    )
    source_susceptibility: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="how much a claim's source style moves a rule agent (0: not at all)",
    )
    model: str | None = Field(None, description="per-agent model string (mixed populations)")
    role: str = Field("benign", description="set by scenarios: benign, attacker, guardian, ...")

    @field_validator(
        "id",
        "age",
        "credulity",
        "stubbornness",
        "activity_rate",
        "framing_susceptibility",
        "source_susceptibility",
        mode="before",
    )
    @classmethod
    def _no_bool_as_number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"{str(value).lower()} must be a number, not true/false")
        return value

    def describe(self, brief: bool = False) -> str:
        """A second-person description for prompts; `brief` keeps one sentence (small models)."""
        who = f"{self.age}-year-old {self.gender} {self.occupation}"
        first = f"You are {self.name}, {_article(who)} {who} from {self.country}."
        if brief:
            style = self.communication_style
            values = f" who values {self.values[0]}" if self.values else ""
            return f"{first[:-1]}{values}, with {_article(style)} {style} way of talking."
        parts = [
            first,
            f"Education: {self.education}. Political leaning: {self.political_leaning}.",
        ]
        if self.values:
            parts.append("You value " + ", ".join(self.values) + ".")
        if self.interests:
            parts.append("Interests: " + ", ".join(self.interests) + ".")
        style = self.communication_style
        parts.append(f"You communicate in {_article(style)} {style} style.")
        if self.backstory:
            parts.append(self.backstory)
        return " ".join(parts)


@lru_cache(maxsize=8192)
def _article(phrase: str) -> str:
    """'an' before a vowel sound (including 8, 11, 18 and 80-89), else 'a'."""
    word = phrase.split("-")[0].split()[0].lower() if phrase.strip() else ""
    if word.isdigit():
        return "an" if word.startswith("8") or word in ("11", "18") else "a"
    vowel = word[:1] in tuple("aeiou") and not word.startswith(("uni", "use", "usu", "eu", "one"))
    return "an" if vowel else "a"
