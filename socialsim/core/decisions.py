"""What an agent sees and what it decides: the interface between the model and any policy
that decides one agent at a time (an LLM, a scripted client, a user's own).

:class:`Observation` is what the model hands a deciding policy for one active agent;
:class:`Decision` is what comes back, applied by the model in the step's seeded order.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from socialsim.core.claims import Claim
from socialsim.core.messages import Message
from socialsim.core.persona import Persona


class Observation(BaseModel):
    """What one agent perceives before deciding: inbox, memory, beliefs, neighbours, task."""

    agent_id: int
    step: int
    time: float = 0.0
    persona: Persona
    inbox: list[Message] = Field(default_factory=list)
    memories: list[str] = Field(default_factory=list, description="retrieved memory texts")
    beliefs: dict[str, float] = Field(default_factory=dict, description="claim id -> credence")
    claims: list[Claim] = Field(default_factory=list, description="claims in play")
    neighbours: dict[int, str] = Field(default_factory=dict, description="neighbour id -> name")
    instructions: list[str] = Field(
        default_factory=list, description="role text added by scenarios"
    )
    task: dict[str, Any] = Field(default_factory=dict, description="scenario-specific context")
    topic: str | None = Field(
        None,
        description="what the conversation is about, when no claim is shown (set by scenarios)",
    )
    # how a deciding policy names the neighbours (made once per observation, on first use)
    _labels: dict[int, str] | None = PrivateAttr(default=None)


class Decision(BaseModel):
    """What an agent does in a step: what it says to whom, and its updated credences."""

    agent_id: int
    message: str = ""
    to: Literal["all", "none"] | int = "none"
    credences: dict[str, float] = Field(
        default_factory=dict, description="claim id -> new credence"
    )
    reasons: dict[str, str] = Field(default_factory=dict, description="claim id -> short reason")
    fields: dict[str, Any] = Field(
        default_factory=dict, description="scenario-added decision fields"
    )
    error: str | None = Field(None, description="set when the agent could not decide this step")
    llm: dict[str, Any] | None = Field(None, description="llm_call accounting payload")
    prompt_id: str | None = None


__all__ = ["Decision", "Observation"]
