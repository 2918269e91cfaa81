"""Params of the debate scenario: how pairs form, the opponent roles, the rule baseline.

The design is opponent kind (``persuader`` or ``peer``) x personalisation. Each kind is a
:class:`Role`: its own model settings (``llm``: the model string, temperature and
``max_tokens`` on that role's requests) and prompt (``prompt``: its instruction and, when
given, a system prompt replacing the agent's persona), so "LLM vs human-like opponent" or
"strong vs weak model" is the opponent factor. Both kinds argue the side opposite the
target's stance before the debate; the role says only how.
"""

from __future__ import annotations

from string import Formatter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from socialsim.scenarios.propositions import PropositionParams

#: What a role's instruction may name: the target's name, the goal (agree / disagree) and
#: the side argued (for / against).
PLACEHOLDERS = ("name", "goal", "side")

#: The instruction of each opponent kind when its role sets none.
DEFAULT_INSTRUCTIONS = {
    "persuader": "Your goal is to convince {name} to {goal} with it. Use your strongest arguments.",
    "peer": (
        "You are an ordinary person taking part in an online discussion. Argue your side in "
        "your own words, as people do, and try to get {name} to {goal} with it."
    ),
}

#: What each opponent kind stands for when its role sets no label.
DEFAULT_LABELS = {"persuader": "LLM persuader", "peer": "human-like peer"}


class RoleLLM(BaseModel):
    """The model settings on one role's requests; None keeps the population's setting."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        None,
        description="model string on this role's requests (set as its agents' persona.model); "
        "None: the population's model",
    )
    temperature: float | None = Field(
        None, ge=0.0, le=2.0, description="sampling temperature of this role's turns"
    )
    max_tokens: int | None = Field(
        None, ge=1, description="answer length limit of this role's turns"
    )


class RolePrompt(BaseModel):
    """What one role is told: its instruction and, when given, its own system prompt."""

    model_config = ConfigDict(extra="forbid")

    instruction: str | None = Field(
        None,
        description="what the role is told to do each turn; {name}: the target's name, "
        "{goal}: agree or disagree, {side}: for or against; None: the kind's default",
    )
    system: str | None = Field(
        None,
        description="system prompt of this role's turns, replacing the agent's persona "
        "(e.g. 'You are an AI assistant.'); None: the agent's persona",
    )

    @field_validator("instruction")
    @classmethod
    def _known_placeholders(cls, text: str | None) -> str | None:
        if text is None:
            return text
        try:
            names = {f for _, f, _, _ in Formatter().parse(text) if f is not None}
        except ValueError as exc:
            raise ValueError(f"not a valid template ({exc}); write braces as {{{{ }}}}") from exc
        unknown = sorted(names - set(PLACEHOLDERS))
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{unknown[0]}}}; use only "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            )
        return text


class Role(BaseModel):
    """One opponent kind of the design: its label, model settings and prompt."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(
        None, description="what this opponent kind stands for (e.g. 'GPT-4o', 'human-like')"
    )
    llm: RoleLLM = Field(default_factory=RoleLLM, description="model settings of its turns")
    prompt: RolePrompt = Field(default_factory=RolePrompt, description="what it is told")


class Roles(BaseModel):
    """The two opponent kinds: ``persuader`` (e.g. an LLM) and ``peer`` (e.g. human-like)."""

    model_config = ConfigDict(extra="forbid")

    persuader: Role = Field(
        default_factory=Role, description="the opponent kind compared (e.g. an LLM persuader)"
    )
    peer: Role = Field(
        default_factory=Role,
        description="the reference opponent kind (e.g. a human-like peer); peer|plain is the "
        "reference cell",
    )


class Pairs(BaseModel):
    """How pairs are formed: from graph edges or at random, and how many (default: all)."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["edges", "random"] = Field(
        "edges", description="edges: disjoint pairs of neighbours; random: any two agents"
    )
    count: int | None = Field(None, ge=1, description="pairs to form; None: as many as possible")


class Baseline(BaseModel):
    """Weights of the rule-policy baseline: p(move) = credulity x kind x personalisation."""

    model_config = ConfigDict(extra="forbid")

    persuader: float = Field(
        1.0, ge=0.0, le=1.0, description="kind weight of a persuader opponent (rule baseline)"
    )
    peer: float = Field(
        0.5, ge=0.0, le=1.0, description="kind weight of a peer opponent (rule baseline)"
    )
    personalised: float = Field(
        1.0, ge=0.0, le=1.0, description="weight of an opponent that saw the target's persona"
    )
    plain: float = Field(
        0.75, ge=0.0, le=1.0, description="weight of an opponent that did not see the persona"
    )
    noise: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="probability that a rule target's second answer is one point off, up or "
        "down at random (answer noise, both arms)",
    )


class DebateParams(PropositionParams):
    """Params of the debate scenario."""

    pairs: Pairs = Field(default_factory=Pairs, description="how the pairs are formed")
    rounds: int = Field(
        2, ge=1, le=20, description="exchanges per debate (the opponent argues, the target replies)"
    )
    roles: Roles = Field(
        default_factory=Roles,
        description="each opponent kind (persuader, peer): label, llm {model, temperature, "
        "max_tokens}, prompt {instruction, system}",
    )
    baseline: Baseline = Field(
        default_factory=Baseline,
        description="rule baseline: p(move one point) = credulity x kind x personalisation "
        "weight; noise: p(second answer one point off)",
    )


def role_label(kind: str, role: Role) -> str:
    """The role's label, else its kind's default label."""
    return role.label or DEFAULT_LABELS[kind]


def role_instruction(kind: str, role: Role) -> str:
    """The role's instruction template, else its kind's default one."""
    return role.prompt.instruction or DEFAULT_INSTRUCTIONS[kind]


__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "DEFAULT_LABELS",
    "PLACEHOLDERS",
    "Baseline",
    "DebateParams",
    "Pairs",
    "Role",
    "RoleLLM",
    "RolePrompt",
    "Roles",
    "role_instruction",
    "role_label",
]
