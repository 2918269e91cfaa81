"""Policies: how agents decide (LLM) or update (textbook opinion-dynamics rules).

from socialsim.agents.policies import create_rule_policy
rule = create_rule_policy("deffuant", {"epsilon": 0.3})

Every policy registers itself (:func:`socialsim.register_policy`); importing this package
registers the built-ins.
"""

from __future__ import annotations

from typing import Any

from socialsim.agents.policies.answer_schemas import decision_schema
from socialsim.agents.policies.base import (
    DecidingPolicy,
    Decision,
    Observation,
    RuleContext,
    RulePolicy,
    RuleUpdate,
)
from socialsim.agents.policies.llm import LLMPolicy
from socialsim.agents.policies.rule_base import Rule, RuleParams
from socialsim.agents.policies.rules import (
    Deffuant,
    DeGroot,
    FriedkinJohnsen,
    HegselmannKrause,
    IndependentCascade,
    LinearThreshold,
    Voter,
)
from socialsim.core.errors import ConfigError
from socialsim.core.registry import POLICIES


def create_rule_policy(name: str, params: dict[str, Any] | None = None) -> RulePolicy:
    """A registered rule policy by name with validated parameters (ConfigError naming the problem)."""
    entry = POLICIES.get(name)
    if entry.sort != "rule":
        rules = ", ".join(e.name for e in POLICIES.entries() if e.sort == "rule")
        raise ConfigError(f"agents.policy: {name!r} is not a rule policy; one of {rules}")
    return entry.obj(params)


def rule_policies() -> dict[str, type[RulePolicy]]:
    """Every registered rule policy by name (built-ins and your own)."""
    return {e.name: e.obj for e in POLICIES.entries() if e.sort == "rule"}


__all__ = [
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
    "Rule",
    "RuleParams",
    "RuleUpdate",
    "Voter",
    "create_rule_policy",
    "rule_policies",
    "decision_schema",
]
