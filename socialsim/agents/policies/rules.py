"""Textbook opinion dynamics over the shared credence array, one step at a time.

Every rule reads ``ctx.credence`` (agents x claims), treats each claim column on its own and
returns the changed cells as a :class:`RuleUpdate`; the model applies and logs them. Only
agents in ``ctx.active & ctx.members`` (and ``ctx.present``) update; absent agents neither
update nor influence. Neighbours are whom an agent listens to (the CSR rows of the context).

An agent sent a claim in a framed message (``ctx.extra["framing_weight"]``, see
:class:`~socialsim.agents.policies.rule_base.FramingWeights`) weighs the pull towards it: the
averaging rules multiply each rise of its credence by its factor (:meth:`Rule.weighed`), the
cascade its activation probability, the threshold rule its active share. The voter model and
Deffuant copy and compromise and do not read it.

Each rule follows its textbook update schedule by default. DeGroot, Friedkin-Johnsen and
Hegselmann-Krause are synchronous by definition: every agent updates at once from the
values before the step, so a step lists each changed cell once. Deffuant (and the voter
model) run N elementary updates one after another; their updates list every change in the
order it happened, so one cell may appear several times and its last entry is its value.

This module holds the averaging rules (DeGroot, Friedkin-Johnsen, Deffuant,
Hegselmann-Krause); the discrete and contagion rules live in
:mod:`socialsim.agents.policies.contagion` and the shared base in
:mod:`socialsim.agents.policies.rule_base`. All of them are importable from here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from socialsim.agents.policies.base import RuleContext, RuleUpdate
from socialsim.agents.policies.contagion import (
    IndependentCascade,
    IndependentCascadeParams,
    LinearThreshold,
    LinearThresholdParams,
    Voter,
    VoterParams,
)
from socialsim.agents.policies.rule_base import (
    _TOL,
    Rule,
    RuleParams,
    _Changes,
    _number_or,
    _one_of,
)
from socialsim.core.network import Network
from socialsim.core.persona import Persona
from socialsim.core.registry import register_policy

_CLOSE = 1e-9  # slack on bounded-confidence comparisons against float round-off


def _changes(old: np.ndarray, new: np.ndarray, acting: np.ndarray) -> RuleUpdate:
    """The cells of acting agents whose value moved (aggregate rules: source -1)."""
    agents, claims = np.nonzero(acting[:, None] & (np.abs(new - old) > _TOL))
    source = np.full(len(agents), -1, dtype=np.int64)
    return RuleUpdate(agents.astype(np.int64), claims.astype(np.int64), new[agents, claims], source)


class DeGrootParams(RuleParams):
    """DeGroot: the weight an agent keeps on its own view (default: an equal share)."""

    self_weight: float | None = Field(None, ge=0.0, le=1.0)


@register_policy("degroot")
class DeGroot(Rule):
    """DeGroot (1974) averaging: x(t+1) = W x(t), W row-stochastic over closed neighbourhoods.

    Synchronous by definition: every acting agent moves at once from the values before the
    step. W puts `self_weight` on the agent and the rest equally on its present neighbours,
    or (default) equal weights over the agent and its neighbours.
    """

    Params: ClassVar[type[RuleParams]] = DeGrootParams

    def averaged(self, ctx: RuleContext, g: Network) -> np.ndarray:
        """W x for every agent (agents without neighbours keep their value)."""
        x = ctx.credence
        sums = g.row_sum(x[g.indices])
        deg = g.listen_degree[:, None].astype(float)
        if self.cfg.self_weight is None:
            return (x + sums) / (deg + 1.0)
        s = self.cfg.self_weight
        return np.where(deg > 0, s * x + (1.0 - s) * sums / np.maximum(deg, 1.0), x)

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One synchronous averaging step."""
        new = self.weighed(ctx, self.averaged(ctx, self.graph(ctx)))
        return _changes(ctx.credence, new, self.acting(ctx))


class FriedkinJohnsenParams(DeGrootParams):
    """Friedkin-Johnsen: stubbornness (attachment to initial views), a number or 'persona'."""

    stubbornness: float | Literal["persona"] = 0.3

    @field_validator("stubbornness", mode="before")
    @classmethod
    def _stubbornness(cls, value: Any) -> Any:
        return _number_or(value, ("persona",))


@register_policy("friedkin_johnsen")
class FriedkinJohnsen(DeGroot):
    """Friedkin-Johnsen (1990): x(t+1) = Λ W x(t) + (I - Λ) x(0), λ_i = 1 - stubbornness_i.

    Synchronous by definition, like DeGroot, whose W it uses.

    ``stubbornness: persona`` reads ``ctx.extra["stubbornness"]`` (one value per agent) and
    falls back to the Persona default when the array is not given. x(0) is the credence at
    setup (or at the first update); claims added later anchor at their first seen values.
    """

    Params: ClassVar[type[RuleParams]] = FriedkinJohnsenParams

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        self.anchor: np.ndarray | None = None

    def setup(self, ctx: RuleContext) -> None:
        """Remember the initial opinions x(0)."""
        self.anchor = ctx.credence.copy()

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One synchronous step towards the Friedkin-Johnsen fixed point."""
        x = ctx.credence
        if self.anchor is None:
            self.anchor = x.copy()
        elif self.anchor.shape[1] < x.shape[1]:
            self.anchor = np.hstack([self.anchor, x[:, self.anchor.shape[1] :]])
        stubborn = self.cfg.stubbornness
        if stubborn == "persona":
            given = ctx.extra.get("stubbornness")
            default = Persona.model_fields["stubbornness"].default
            stubborn = np.full(len(x), default) if given is None else np.asarray(given, dtype=float)
        lam = 1.0 - np.broadcast_to(np.asarray(stubborn, dtype=float), (len(x),))[:, None]
        new = lam * self.averaged(ctx, self.graph(ctx)) + (1.0 - lam) * self.anchor
        return _changes(x, self.weighed(ctx, new), self.acting(ctx))


class DeffuantParams(RuleParams):
    """Deffuant-Weisbuch: confidence bound epsilon, convergence rate mu, update schedule."""

    epsilon: float = Field(0.2, gt=0.0)
    mu: float = Field(0.5, gt=0.0, le=0.5)
    schedule: Literal["pairwise", "synchronous"] = "pairwise"

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        return _one_of(value, ("pairwise", "synchronous"))


@register_policy("deffuant")
class Deffuant(Rule):
    """Deffuant-Weisbuch bounded confidence (Deffuant et al. 2000), each claim on its own.

    One encounter: agents i and j with |x_i - x_j| < epsilon both move mu of the way towards
    each other, x_i += mu (x_j - x_i) and x_j += mu (x_i - x_j), which keeps their sum.

    ``schedule: pairwise`` (default, the textbook model): a step is N random encounters, N
    being the number of acting agents (present, active members); each picks one of them
    uniformly at random (with replacement) and one of its present neighbours uniformly at
    random, and the encounters run one after another, each from the values the previous ones
    left. The log has every move in that order, so an agent may change more than once.

    ``schedule: synchronous``: rounds; every acting agent starts exactly one encounter per
    step with a random present neighbour, in a random order (each encounter also from the
    values the previous ones left); an agent's change is logged once per step, from its
    pre-step value to its end-of-step value, with the other agent of its last encounter.

    Each side of an encounter moves only if it may (a present member of this policy, not
    pinned in ``ctx.extra["pinned"]``); the source of a change is the other agent.
    """

    Params: ClassVar[type[RuleParams]] = DeffuantParams

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One step of the configured schedule."""
        if self.cfg.schedule == "synchronous":
            return self.synchronous(ctx)
        g = self.graph(ctx)
        x = ctx.credence
        picks = self.initiators(ctx, g)
        if len(picks) == 0 or x.shape[1] == 0:
            return RuleUpdate.empty()
        partners = g.random_neighbours(picks, ctx.rng.random((len(picks), 1)))[:, 0]
        movable = self.movable(ctx)
        pairs = list(
            zip(
                picks.tolist(),
                partners.tolist(),
                movable[picks].tolist(),
                movable[partners].tolist(),
                strict=True,
            )
        )
        changes = _Changes()
        for c in range(x.shape[1]):
            changes.extend(c, *_compromise_in_order(x[:, c].tolist(), pairs, self.cfg))
        return changes.update()

    def synchronous(self, ctx: RuleContext) -> RuleUpdate:
        """One round: each acting agent, in a random order, meets one random neighbour."""
        g = self.graph(ctx)
        movable = self.movable(ctx)
        order = ctx.rng.permutation(np.flatnonzero(self.acting(ctx) & (g.listen_degree > 0)))
        partners = g.indices[
            g.indptr[order] + (ctx.rng.random(len(order)) * g.listen_degree[order]).astype(np.int64)
        ]
        pairs = list(
            zip(
                order.tolist(),
                partners.tolist(),
                movable[order].tolist(),
                movable[partners].tolist(),
                strict=True,
            )
        )
        eps, mu = self.cfg.epsilon, self.cfg.mu
        x = ctx.credence
        agents, claims, new, source = [], [], [], []
        for c in range(x.shape[1]):
            col = x[:, c].tolist()
            touched: dict[int, int] = {}
            for i, j, i_moves, j_moves in pairs:
                xi, xj = col[i], col[j]
                if abs(xi - xj) < eps:
                    if i_moves:
                        col[i] = xi + mu * (xj - xi)
                        touched[i] = j
                    if j_moves:
                        col[j] = xj + mu * (xi - xj)
                        touched[j] = i
            for a, s in touched.items():
                if abs(col[a] - x[a, c]) > _TOL:
                    agents.append(a)
                    claims.append(c)
                    new.append(col[a])
                    source.append(s)
        if not agents:
            return RuleUpdate.empty()
        ints = np.int64
        return RuleUpdate(
            np.array(agents, ints), np.array(claims, ints), np.array(new), np.array(source, ints)
        )


def _compromise_in_order(
    col: list[float], pairs: list[tuple[int, int, bool, bool]], cfg: DeffuantParams
) -> tuple[list[int], list[float], list[int]]:
    """Run encounters (i, j, i moves, j moves) one after another on `col`; changes in order.

    A move smaller than the change tolerance is not made (both agents keep their values), so
    that every change made is also logged and the encounter still keeps the sum.
    """
    eps, mu = cfg.epsilon, cfg.mu
    agents: list[int] = []
    new: list[float] = []
    source: list[int] = []
    for i, j, i_moves, j_moves in pairs:
        xi, xj = col[i], col[j]
        if not -eps < xj - xi < eps:
            continue
        shift = mu * (xj - xi)
        if -_TOL <= shift <= _TOL:
            continue
        if i_moves:
            col[i] = xi + shift
            agents.append(i)
            new.append(col[i])
            source.append(j)
        if j_moves:
            col[j] = xj - shift
            agents.append(j)
            new.append(col[j])
            source.append(i)
    return agents, new, source


class HegselmannKrauseParams(RuleParams):
    """Hegselmann-Krause: confidence bound epsilon."""

    epsilon: float = Field(0.2, gt=0.0)


@register_policy("hegselmann_krause")
class HegselmannKrause(Rule):
    """Hegselmann-Krause (2002): each agent moves to the mean of its neighbourhood within epsilon.

    x_i(t+1) is the mean of x_j(t) over i and its present neighbours j with
    |x_j(t) - x_i(t)| <= epsilon. Synchronous by definition: everyone moves at once.
    """

    Params: ClassVar[type[RuleParams]] = HegselmannKrauseParams

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One synchronous bounded-confidence averaging step."""
        g = self.graph(ctx)
        x = ctx.credence
        xe = x[g.indices]
        close = np.abs(xe - x[g.rows]) <= self.cfg.epsilon + _CLOSE
        new = (x + g.row_sum(np.where(close, xe, 0.0))) / (1.0 + g.row_sum(close.astype(float)))
        return _changes(x, self.weighed(ctx, new), self.acting(ctx))


__all__ = [
    "DeGroot",
    "DeGrootParams",
    "Deffuant",
    "DeffuantParams",
    "FriedkinJohnsen",
    "FriedkinJohnsenParams",
    "HegselmannKrause",
    "HegselmannKrauseParams",
    "IndependentCascade",
    "IndependentCascadeParams",
    "LinearThreshold",
    "LinearThresholdParams",
    "RuleParams",
    "Voter",
    "VoterParams",
]
