"""Textbook opinion dynamics over the shared credence array, one vectorised step at a time.

Every rule reads ``ctx.credence`` (agents x claims), treats each claim column on its own and
returns the changed cells as a :class:`RuleUpdate`; the model applies and logs them. Only
agents in ``ctx.active & ctx.members`` (and ``ctx.present``) update; absent agents neither
update nor influence. Neighbours are whom an agent listens to (the CSR rows of the context).

This module holds the averaging rules (DeGroot, Friedkin-Johnsen, Deffuant,
Hegselmann-Krause); the discrete and contagion rules live in
:mod:`socialsim.agents.policies.contagion` and the shared base in
:mod:`socialsim.agents.policies.rule_base`. All of them are importable from here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from socialsim.agents.persona import Persona
from socialsim.agents.policies.base import RuleContext, RuleUpdate
from socialsim.agents.policies.contagion import (
    IndependentCascade,
    IndependentCascadeParams,
    LinearThreshold,
    LinearThresholdParams,
    Voter,
)
from socialsim.agents.policies.rule_base import _TOL, RuleParams, _Graph, _number_or, _Rule

_CLOSE = 1e-9  # slack on bounded-confidence comparisons against float round-off


def _changes(old: np.ndarray, new: np.ndarray, acting: np.ndarray) -> RuleUpdate:
    """The cells of acting agents whose value moved (aggregate rules: source -1)."""
    agents, claims = np.nonzero(acting[:, None] & (np.abs(new - old) > _TOL))
    source = np.full(len(agents), -1, dtype=np.int64)
    return RuleUpdate(agents.astype(np.int64), claims.astype(np.int64), new[agents, claims], source)


class DeGrootParams(RuleParams):
    """DeGroot: the weight an agent keeps on its own view (default: an equal share)."""

    self_weight: float | None = Field(None, ge=0.0, le=1.0)


class DeGroot(_Rule):
    """DeGroot averaging: x(t+1) = W x(t), W row-stochastic over each closed neighbourhood."""

    name: ClassVar[str] = "degroot"
    Params: ClassVar[type[RuleParams]] = DeGrootParams

    def averaged(self, ctx: RuleContext, g: _Graph) -> np.ndarray:
        """W x for every agent (agents without neighbours keep their value)."""
        x = ctx.credence
        sums = g.row_sum(x[g.indices])
        deg = g.deg[:, None].astype(float)
        if self.cfg.self_weight is None:
            return (x + sums) / (deg + 1.0)
        s = self.cfg.self_weight
        return np.where(deg > 0, s * x + (1.0 - s) * sums / np.maximum(deg, 1.0), x)

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One synchronous averaging step."""
        return _changes(ctx.credence, self.averaged(ctx, self.graph(ctx)), self.acting(ctx))


class FriedkinJohnsenParams(DeGrootParams):
    """Friedkin-Johnsen: stubbornness (attachment to initial views), a number or 'persona'."""

    stubbornness: float | Literal["persona"] = 0.3

    @field_validator("stubbornness", mode="before")
    @classmethod
    def _stubbornness(cls, value: Any) -> Any:
        return _number_or(value, ("persona",))


class FriedkinJohnsen(DeGroot):
    """Friedkin-Johnsen: x(t+1) = Λ W x(t) + (I - Λ) x(0), with λ_i = 1 - stubbornness_i.

    ``stubbornness: persona`` reads ``ctx.extra["stubbornness"]`` (one value per agent) and
    falls back to the Persona default when the array is not given. x(0) is the credence at
    setup (or at the first update); claims added later anchor at their first seen values.
    """

    name: ClassVar[str] = "friedkin_johnsen"
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
        return _changes(x, new, self.acting(ctx))


class DeffuantParams(RuleParams):
    """Deffuant-Weisbuch: confidence bound epsilon and convergence rate mu."""

    epsilon: float = Field(0.2, gt=0.0)
    mu: float = Field(0.5, gt=0.0, le=0.5)


class Deffuant(_Rule):
    """Deffuant-Weisbuch bounded confidence: random pairwise compromises within epsilon.

    Each acting agent, in a random order, meets one random present neighbour; when their
    views on a claim differ by less than epsilon both move mu of the way towards each other
    (from the values just before that meeting). The neighbour moves only if it is a member
    of this policy. The source of a change is the other agent of the meeting.
    """

    name: ClassVar[str] = "deffuant"
    Params: ClassVar[type[RuleParams]] = DeffuantParams

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One sweep of pairwise meetings."""
        g = self.graph(ctx)
        movable = (ctx.members & ctx.present) if ctx.present is not None else ctx.members
        order = ctx.rng.permutation(np.flatnonzero(self.acting(ctx) & (g.deg > 0)))
        partners = g.indices[
            g.indptr[order] + (ctx.rng.random(len(order)) * g.deg[order]).astype(np.int64)
        ]
        pairs = list(
            zip(order.tolist(), partners.tolist(), movable[partners].tolist(), strict=True)
        )
        eps, mu = self.cfg.epsilon, self.cfg.mu
        x = ctx.credence
        agents, claims, new, source = [], [], [], []
        for c in range(x.shape[1]):
            col = x[:, c].tolist()
            touched: dict[int, int] = {}
            for i, j, j_moves in pairs:
                xi, xj = col[i], col[j]
                if abs(xi - xj) < eps:
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


class HegselmannKrauseParams(RuleParams):
    """Hegselmann-Krause: confidence bound epsilon."""

    epsilon: float = Field(0.2, gt=0.0)


class HegselmannKrause(_Rule):
    """Hegselmann-Krause: each agent moves to the mean of its closed neighbourhood within epsilon."""

    name: ClassVar[str] = "hegselmann_krause"
    Params: ClassVar[type[RuleParams]] = HegselmannKrauseParams

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One synchronous bounded-confidence averaging step."""
        g = self.graph(ctx)
        x = ctx.credence
        xe = x[g.indices]
        close = np.abs(xe - x[g.rows]) <= self.cfg.epsilon + _CLOSE
        new = (x + g.row_sum(np.where(close, xe, 0.0))) / (1.0 + g.row_sum(close.astype(float)))
        return _changes(x, new, self.acting(ctx))


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
]
