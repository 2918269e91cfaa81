"""Shared machinery of the rule policies: parameters, initial credences, the neighbour graph.

:meth:`Rule.graph` gives whom each agent listens to, absent agents left out, as a
:class:`~socialsim.core.network.Network` (``indptr``/``indices``, ``listen_degree``,
``random_neighbours``, ``row_sum``).

Every rule in :mod:`socialsim.agents.policies.rules` and
:mod:`socialsim.agents.policies.contagion` subclasses :class:`Rule`. Rules with a sequential
schedule (voter, Deffuant) draw who starts each elementary update with
:meth:`Rule.initiators` and return every change in the order it happened
(:class:`_Changes`), so that one cell may change several times within a step.

Framing and source style: :class:`FramingWeights` keeps, per agent and claim, the factor
``framing_weight(framing, source_style, framing_susceptibility, source_susceptibility)``
(:func:`socialsim.core.claims.framing_weight`) of the last framed message that carried the
claim to the agent; the model passes it as ``ctx.extra["framing_weight"]`` (None while every
factor is 1), and the rules multiply the pull towards a claim by it (:meth:`Rule.weighed`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationError, field_validator

from socialsim.agents.policies.base import RuleContext, RulePolicy, RuleUpdate
from socialsim.core.claims import framing_weight
from socialsim.core.errors import ConfigError
from socialsim.core.network import Network
from socialsim.core.validation import BoolsAreNotNumbers, describe_error

_TOL = 1e-12  # smaller moves than this are not changes


def _number_or(value: Any, words: tuple[str, ...]) -> Any:
    """Accept a number in [0, 1] or one of `words`; ValueError with the allowed values otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
        return float(value)
    if isinstance(value, str) and value in words:
        return value
    allowed = ", ".join(repr(w) for w in words)
    raise ValueError(f"{value!r} must be {allowed} or a number in [0, 1]")


def _one_of(value: Any, words: tuple[str, ...]) -> str:
    """Accept one of `words`; ValueError with the allowed values otherwise."""
    if isinstance(value, str) and value in words:
        return value
    allowed = " or ".join([", ".join(repr(w) for w in words[:-1]), repr(words[-1])])
    raise ValueError(f"{value!r} must be {allowed}")


class RuleParams(BoolsAreNotNumbers):
    """Parameters every rule takes: how credences start (`initial`, `seed_fraction`).

    Numbers must be finite, and true/false is never read as a number (``epsilon: true``
    would otherwise be 1.0); subclasses inherit both checks.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    initial: float | Literal["uniform", "seeded"] = Field(
        "uniform",
        description="uniform: U(0,1); a number: everyone; seeded: seed_fraction at 1.0, rest 0.0",
    )
    seed_fraction: float = Field(0.05, ge=0.0, le=1.0, description="share of members seeded at 1.0")

    @field_validator("initial", mode="before")
    @classmethod
    def _initial(cls, value: Any) -> Any:
        return _number_or(value, ("uniform", "seeded"))


class Rule(RulePolicy):
    """Base of a rule policy: validated ``Params``, initial credences, the neighbour graph.

    Subclass it, give it a ``Params`` model (a :class:`RuleParams` subclass) and an
    ``update(ctx)`` that returns a :class:`RuleUpdate`; register it with
    ``socialsim.register_policy(name)``.
    """

    Params: ClassVar[type[RuleParams]] = RuleParams

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        try:
            self.cfg = self.Params.model_validate(self.params)
        except ValidationError as exc:
            raise ConfigError(
                describe_error(exc, "agents.params", self.Params, owner=f"policy {self.name}")
            ) from None
        self._graph_key: tuple | None = None
        self._graph_value: Network | None = None

    def initial_credences(
        self, n_members: int, n_claims: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Starting credences (n_members x n_claims) from the `initial` parameter."""
        initial = self.cfg.initial
        if initial == "uniform":
            return rng.random((n_members, n_claims))
        if initial != "seeded":
            return np.full((n_members, n_claims), float(initial))
        out = np.zeros((n_members, n_claims))
        fraction = self.cfg.seed_fraction
        k = min(n_members, max(1, round(fraction * n_members))) if fraction > 0 else 0
        for c in range(n_claims):
            out[rng.choice(n_members, size=k, replace=False), c] = 1.0
        return out

    @staticmethod
    def acting(ctx: RuleContext) -> np.ndarray:
        """Agents that update this step: active members still present."""
        mask = ctx.active & ctx.members
        return mask & ctx.present if ctx.present is not None else mask

    def graph(self, ctx: RuleContext) -> Network:
        """Whom each agent listens to, absent agents left out (cached while nothing changes).

        A directed :class:`~socialsim.core.network.Network` (speaker -> listener): row v of
        its ``indptr``/``indices`` lists whom agent v listens to, in the context's order;
        ``listen_degree`` counts them, ``random_neighbours`` picks among them, ``row_sum``
        sums per-entry values over them.
        """
        absent = b"" if ctx.present is None else np.flatnonzero(~ctx.present).tobytes()
        key = (ctx.indptr, ctx.indices, absent)
        cached = self._graph_key
        if (
            cached is not None
            and cached[0] is key[0]
            and cached[1] is key[1]
            and cached[2] == absent
        ):
            return self._graph_value  # type: ignore[return-value]
        network = Network.listening(ctx.indptr, ctx.indices)
        if absent:
            network = network.without(~ctx.present)
        self._graph_key, self._graph_value = key, network
        return network

    @staticmethod
    def movable(ctx: RuleContext) -> np.ndarray:
        """Agents whose credences this rule may change: present members not pinned.

        Pinned agents (``ctx.extra["pinned"]``) keep their credences; a sequential schedule
        must know them, since later updates in the same step read the values earlier ones
        left behind.
        """
        mask = ctx.members if ctx.present is None else ctx.members & ctx.present
        pinned = ctx.extra.get("pinned")
        return mask if pinned is None else mask & ~np.asarray(pinned, dtype=bool)

    @staticmethod
    def framing(ctx: RuleContext) -> np.ndarray | None:
        """Per (agent, claim) factor on the pull towards each claim (None: 1 everywhere)."""
        weight = ctx.extra.get("framing_weight")
        if weight is None:
            return None
        return np.asarray(weight, dtype=float)[:, : ctx.credence.shape[1]]

    @classmethod
    def weighed(cls, ctx: RuleContext, new: np.ndarray) -> np.ndarray:
        """`new` with every rise above the current credence multiplied by the framing factor.

        ``old + w * (new - old)`` where ``new > old``, clamped to [0, 1]; falls are kept as
        they are (the factor weighs the pull towards a claim, not away from it).
        """
        weight = cls.framing(ctx)
        if weight is None:
            return new
        old = ctx.credence
        return np.where(new > old, np.clip(old + weight * (new - old), 0.0, 1.0), new)

    def initiators(self, ctx: RuleContext, g: Network) -> np.ndarray:
        """Who initiates each of the N elementary updates of one sequential step, in order.

        N is the number of acting agents; each elementary update picks one of them uniformly at
        random (with replacement, so within a step some act twice and some not at all). Picks
        without a present neighbour are dropped, since they change nothing.
        """
        acting = np.flatnonzero(self.acting(ctx))
        if len(acting) == 0:
            return np.zeros(0, dtype=np.int64)
        picks = acting[ctx.rng.integers(0, len(acting), size=len(acting))].astype(np.int64)
        return picks[g.listen_degree[picks] > 0]


class FramingWeights:
    """Each agent's factor on a rule's pull towards each claim, from the framed messages it got.

    An agent sent a claim in a message of known framing or source style weighs the pull
    towards that claim by ``framing_weight(framing, source_style, f_i, s_i)`` from then on
    (the latest such message counts), f_i and s_i its persona's framing and source
    susceptibilities; every other cell stays at 1. With every susceptibility 0 nothing is
    kept and :meth:`current` stays None, so runs without susceptibilities do not change.
    """

    def __init__(self, framing_susceptibility: np.ndarray, source_susceptibility: np.ndarray):
        self.f = np.asarray(framing_susceptibility, dtype=float)
        self.s = np.asarray(source_susceptibility, dtype=float)
        self.susceptible = bool(self.f.any() or self.s.any())
        self.weights: np.ndarray | None = None

    def receive(
        self, framed: dict[tuple[int, str], tuple[str | None, str | None]], claim_ids: list[str]
    ) -> None:
        """Take (recipient, claim) -> (framing, source style) of newly sent framed messages."""
        if not framed or not self.susceptible:
            return
        self._grow(len(claim_ids))
        assert self.weights is not None
        column = {c: k for k, c in enumerate(claim_ids)}
        groups: dict[tuple[int, str | None, str | None], list[int]] = {}
        for (agent, claim), (framing, style) in framed.items():
            if claim in column:
                groups.setdefault((column[claim], framing, style), []).append(agent)
        for (k, framing, style), agents in groups.items():
            rows = np.asarray(agents, dtype=np.int64)
            self.weights[rows, k] = framing_weight(framing, style, self.f[rows], self.s[rows])

    def current(self, n_claims: int) -> np.ndarray | None:
        """The (agents x claims) factors, or None while every one is 1."""
        if self.weights is None:
            return None
        self._grow(n_claims)
        return self.weights

    def _grow(self, n_claims: int) -> None:
        n = len(self.f)
        if self.weights is None:
            self.weights = np.ones((n, n_claims))
        elif self.weights.shape[1] < n_claims:
            extra = np.ones((n, n_claims - self.weights.shape[1]))
            self.weights = np.hstack([self.weights, extra])


class _Changes:
    """Changes in the order they happened; one cell may appear several times (a chain)."""

    def __init__(self) -> None:
        self.agents: list[int] = []
        self.claims: list[int] = []
        self.new: list[float] = []
        self.source: list[int] = []

    def extend(self, claim: int, agents: list[int], new: list[float], source: list[int]) -> None:
        """Add one claim's changes, in order."""
        self.agents += agents
        self.claims += [claim] * len(agents)
        self.new += new
        self.source += source

    def update(self) -> RuleUpdate:
        """The changes as a RuleUpdate, order kept."""
        if not self.agents:
            return RuleUpdate.empty()
        ints = np.int64
        return RuleUpdate(
            np.array(self.agents, ints),
            np.array(self.claims, ints),
            np.array(self.new, dtype=float),
            np.array(self.source, ints),
        )
