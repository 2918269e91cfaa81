"""Policies: how agents decide (LLM) or update (textbook opinion-dynamics rules).

from socialsim.agents.policies import create_rule_policy
rule = create_rule_policy("deffuant", {"epsilon": 0.3})
"""

from __future__ import annotations

from typing import Any

from socialsim.agents.policies.base import (
    DecidingPolicy,
    Decision,
    Observation,
    RuleContext,
    RulePolicy,
    RuleUpdate,
)
from socialsim.agents.policies.llm import LLMPolicy, decision_schema
from socialsim.agents.policies.rules import (
    Deffuant,
    DeGroot,
    FriedkinJohnsen,
    HegselmannKrause,
    IndependentCascade,
    LinearThreshold,
    Voter,
)
from socialsim.errors import ConfigError

RULE_POLICIES: dict[str, type[RulePolicy]] = {
    cls.name: cls
    for cls in (
        DeGroot,
        FriedkinJohnsen,
        Deffuant,
        HegselmannKrause,
        Voter,
        IndependentCascade,
        LinearThreshold,
    )
}


def create_rule_policy(name: str, params: dict[str, Any] | None = None) -> RulePolicy:
    """A rule policy by name with validated parameters (ConfigError naming the problem)."""
    if name not in RULE_POLICIES:
        raise ConfigError(
            f"agents.policy: {name!r} is not a rule policy; one of {', '.join(RULE_POLICIES)}"
        )
    return RULE_POLICIES[name](params)


__all__ = [
    "RULE_POLICIES",
    "Decision",
    "DecidingPolicy",
    "DeGroot",
    "Deffuant",
    "FriedkinJohnsen",
    "HegselmannKrause",
    "IndependentCascade",
    "LLMPolicy",
    "LinearThreshold",
    "Observation",
    "RuleContext",
    "RulePolicy",
    "RuleUpdate",
    "Voter",
    "create_rule_policy",
    "decision_schema",
]
