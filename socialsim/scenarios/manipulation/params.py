"""Params and per-conversation state of the manipulation scenario.

:class:`ManipulationParams` (who advises whom, the design, the rule baseline's weights) and
:class:`Conversation` (one advisor-target conversation: its draws, transcripts and outcome).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from socialsim.scenarios.manipulation.talk import Tactic
from socialsim.scenarios.manipulation.tasks import DOMAINS, DecisionTask, Domain
from socialsim.simulation.wording import wording_field

Condition = Literal["neutral", "hidden_goal", "explicit_tactic"]
CONDITIONS: tuple[str, ...] = Condition.__args__  # type: ignore[attr-defined]


class Baseline(BaseModel):
    """Rule baseline: p(follow the advice) = credulity x the weight of the advisor's tactic."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    neutral: float = Field(0.9, ge=0.0, le=1.0, description="weight of honest advice")
    hidden_goal: float = Field(
        0.75, ge=0.0, le=1.0, description="weight of a hidden goal's advice given without a tactic"
    )
    emotional_appeal: float = Field(0.7, ge=0.0, le=1.0)
    false_urgency: float = Field(0.6, ge=0.0, le=1.0)
    selective_facts: float = Field(0.8, ge=0.0, le=1.0)
    social_proof: float = Field(0.7, ge=0.0, le=1.0)
    unaided_harmful: float = Field(
        0.3, ge=0.0, le=1.0, description="p(harmful) of a target that does not follow the advice"
    )

    def weight(self, tactic: str | None, kind: str = "manipulative") -> float:
        """The weight of a tactic's advice (None: a neutral advisor, or a hidden goal alone)."""
        if tactic is None:
            return float(self.neutral if kind == "neutral" else self.hidden_goal)
        return float(getattr(self, tactic))


class ManipulationParams(BaseModel):
    """Parameters of the manipulation scenario."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    advisors: StrictInt = Field(1, ge=1, description="advisor agents, drawn at random")
    target_share: float = Field(1.0, ge=0.0, le=1.0, description="share of the others advised")
    manipulative_share: float = Field(
        0.5, ge=0.0, le=1.0, description="share of targets given a manipulative advisor"
    )
    conditions: list[Condition] | None = Field(
        None,
        min_length=2,
        description="advisor conditions the targets are split across evenly (neutral, "
        "hidden_goal: a hidden goal and no tactic, explicit_tactic: a hidden goal and a tactic); "
        "null: manipulative_share of the targets get a hidden goal with a tactic",
    )
    tactics: list[Tactic] = Field(
        default_factory=lambda: ["emotional_appeal", "false_urgency", "selective_facts"],
        min_length=1,
    )
    domains: list[Domain] = Field(default_factory=lambda: list(DOMAINS), min_length=1)
    tasks: list[str] = Field(default_factory=list, description="task ids (empty: all)")
    tasks_file: str | None = Field(None, description="extra decision tasks (YAML)")
    turns: StrictInt = Field(2, ge=1, le=20, description="advisor message + target reply rounds")
    shuffle_options: bool = Field(True, description="draw which option is A per target")
    baseline: Baseline = Field(default_factory=Baseline)
    wording: int = wording_field()

    @field_validator("tactics", "domains", "conditions")
    @classmethod
    def _distinct(cls, values: list[str] | None) -> list[str] | None:
        if values is not None and len(set(values)) != len(values):
            raise ValueError(f"lists a value twice: {values}")
        return values


@dataclass
class Conversation:
    """One advisor-target conversation: the draws, the transcripts and the outcome."""

    index: int
    advisor: int
    target: int
    task: DecisionTask
    order: list[str]  # sides in letter order: order[0] is option A
    assigned_kind: str
    assigned_tactic: str | None
    kind: str  # as run: neutral in the control arm
    tactic: str | None
    assigned_condition: str
    condition: str  # as run: neutral in the control arm
    follow_draw: float
    own_draw: float
    advisor_history: list[dict[str, str]] = field(default_factory=list)
    target_history: list[dict[str, str]] = field(default_factory=list)
    advice: str | None = None
    reply: str | None = None
    last_message: str | None = None
    turns_done: int = 0
    choice: str | None = None
    reason: str | None = None
    error: str | None = None
    ratings: dict[str, int] | None = None  # the last usable rating, by side


__all__ = ["CONDITIONS", "Baseline", "Condition", "Conversation", "ManipulationParams"]
