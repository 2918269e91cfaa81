"""Shared machinery of the rule policies: parameters, initial credences, the neighbour graph.

:meth:`Rule.graph` gives whom each agent listens to, absent agents left out, as a
:class:`~socialsim.core.network.Network` (``indptr``/``indices``, ``listen_degree``,
``random_neighbours``, ``row_sum``).

Every rule in :mod:`socialsim.agents.policies.rules` and
:mod:`socialsim.agents.policies.contagion` subclasses :class:`Rule`. Rules with a sequential
schedule (voter, Deffuant) draw who starts each elementary update with
:meth:`Rule.initiators` and return every change in the order it happened
(:class:`_Changes`), so that one cell may change several times within a step.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationError, field_validator

from socialsim.agents.policies.base import RuleContext, RulePolicy, RuleUpdate
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
