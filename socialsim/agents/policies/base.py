"""The policy interfaces: how agents decide.

Two kinds of policy share the same credences (a :class:`~socialsim.agents.beliefs.BeliefStore`):

* **Deciding policies** (LLM) take one :class:`Observation` per active agent and return one
  :class:`Decision` each, in a single batch (all model calls of a step run concurrently).
* **Rule policies** (textbook opinion dynamics) update the credence array of their member
  agents in one vectorised call on a :class:`RuleContext`, returning a :class:`RuleUpdate`.

:class:`Observation` and :class:`Decision` are shared nouns in ``socialsim.core.decisions``;
they are named here too, beside the policies that take and give them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from socialsim.core.decisions import Decision, Observation


class DecidingPolicy(ABC):
    """A policy that maps a batch of observations to decisions (e.g. LLMPolicy)."""

    name: ClassVar[str] = "deciding"
    policy_sort: ClassVar[str] = "deciding"  # what the registry files it under

    @abstractmethod
    def decide(self, observations: list[Observation]) -> list[Decision]:
        """Decide for every observation, in order; never raise for a single bad answer."""


@dataclass
class RuleContext:
    """Everything a rule policy sees in one step, as arrays over all agents.

    `indptr`/`indices` are the CSR adjacency of whom each agent listens to (its neighbours;
    for a directed graph, its in-neighbours). `members` marks the agents this policy
    governs; `active` marks those of them that act this step.
    """

    credence: np.ndarray  # (n_agents, n_claims) float64, read and written in place by the model
    indptr: np.ndarray
    indices: np.ndarray
    members: np.ndarray  # bool (n_agents,)
    active: np.ndarray  # bool (n_agents,)
    rng: np.random.Generator
    step: int
    claim_ids: list[str]
    present: np.ndarray | None = None  # bool (n_agents,): agents still in the run
    extra: dict[str, Any] = field(default_factory=dict)

    def neighbours(self, agent: int) -> np.ndarray:
        """Indices of the agents this agent listens to."""
        return self.indices[self.indptr[agent] : self.indptr[agent + 1]]


@dataclass
class RuleUpdate:
    """New credences for some (agent, claim) cells, with the agent that caused each (-1: none)."""

    agents: np.ndarray
    claims: np.ndarray
    new: np.ndarray
    source: np.ndarray

    @classmethod
    def empty(cls) -> RuleUpdate:
        """An update that changes nothing."""
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), np.zeros(0), z.copy())


class RulePolicy(ABC):
    """A textbook opinion-dynamics rule over the shared credence array."""

    name: ClassVar[str] = "rule"
    policy_sort: ClassVar[str] = "rule"  # what the registry files it under

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params = dict(params or {})

    @abstractmethod
    def initial_credences(
        self, n_members: int, n_claims: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Starting credences (n_members x n_claims) from the `initial` parameter."""

    def setup(self, ctx: RuleContext) -> None:  # noqa: B027 - optional hook
        """Prepare per-run state (thresholds, initial opinions) before the first step."""

    @abstractmethod
    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One synchronous step for the active member agents; does not write `ctx.credence`."""


__all__ = ["DecidingPolicy", "Decision", "Observation", "RuleContext", "RulePolicy", "RuleUpdate"]
