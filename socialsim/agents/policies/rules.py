"""Textbook opinion dynamics over the shared credence array, one vectorised step at a time.

Every rule reads ``ctx.credence`` (agents x claims), treats each claim column on its own and
returns the changed cells as a :class:`RuleUpdate`; the model applies and logs them. Only
agents in ``ctx.active & ctx.members`` (and ``ctx.present``) update; absent agents neither
update nor influence. Neighbours are whom an agent listens to (the CSR rows of the context).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from socialsim.agents.persona import Persona
from socialsim.agents.policies.base import RuleContext, RulePolicy, RuleUpdate
from socialsim.errors import ConfigError

_TOL = 1e-12  # smaller moves than this are not changes
_CLOSE = 1e-9  # slack on bounded-confidence comparisons against float round-off
_BOUNDS = {
    "greater_than": "> {gt}",
    "greater_than_equal": ">= {ge}",
    "less_than": "< {lt}",
    "less_than_equal": "<= {le}",
}


def _number_or(value: Any, words: tuple[str, ...]) -> Any:
    """Accept a number in [0, 1] or one of `words`; ValueError with the allowed values otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
        return float(value)
    if isinstance(value, str) and value in words:
        return value
    allowed = ", ".join(repr(w) for w in words)
    raise ValueError(f"{value!r} must be {allowed} or a number in [0, 1]")


class RuleParams(BaseModel):
    """Parameters every rule takes: how credences start (`initial`, `seed_fraction`)."""

    model_config = ConfigDict(extra="forbid")

    initial: float | Literal["uniform", "seeded"] = Field(
        "uniform",
        description="uniform: U(0,1); a number: everyone; seeded: seed_fraction at 1.0, rest 0.0",
    )
    seed_fraction: float = Field(0.05, ge=0.0, le=1.0, description="share of members seeded at 1.0")

    @field_validator("initial", mode="before")
    @classmethod
    def _initial(cls, value: Any) -> Any:
        return _number_or(value, ("uniform", "seeded"))


def _param_error(exc: ValidationError, params: type[BaseModel]) -> ConfigError:
    """One line naming the parameter, the bad value and what is allowed."""
    err = exc.errors()[0]
    name = ".".join(str(p) for p in err["loc"])
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "extra_forbidden":
        allowed = ", ".join(params.model_fields)
        return ConfigError(f"agents.params.{name}: unknown parameter; allowed: {allowed}")
    if kind == "value_error":
        return ConfigError(f"agents.params.{name}: {err['msg'].removeprefix('Value error, ')}")
    if kind in _BOUNDS:
        return ConfigError(f"agents.params.{name}: {value!r} must be {_BOUNDS[kind].format(**ctx)}")
    if kind.startswith(("float", "int")):
        return ConfigError(f"agents.params.{name}: {value!r} must be a number")
    return ConfigError(f"agents.params.{name}: {value!r} {err['msg'].lower()}")


@dataclass
class _Graph:
    """Neighbour lists without absent agents: CSR arrays, the row of every entry, degrees."""

    indptr: np.ndarray
    indices: np.ndarray
    rows: np.ndarray
    deg: np.ndarray

    @property
    def n(self) -> int:
        """Number of agents."""
        return len(self.deg)

    def row_sum(self, edge_values: np.ndarray) -> np.ndarray:
        """Sum (E, C) per-entry values over each agent's neighbours -> (n, C)."""
        out = np.empty((self.n, edge_values.shape[1]))
        for c in range(edge_values.shape[1]):
            out[:, c] = np.bincount(self.rows, weights=edge_values[:, c], minlength=self.n)
        return out


def _gather(
    indptr: np.ndarray, indices: np.ndarray, nodes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The CSR entries of `nodes`, flattened: (neighbour, owner) pairs."""
    starts = indptr[nodes]
    lengths = indptr[nodes + 1] - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    return indices[offsets], np.repeat(nodes, lengths)


def _changes(old: np.ndarray, new: np.ndarray, acting: np.ndarray) -> RuleUpdate:
    """The cells of acting agents whose value moved (aggregate rules: source -1)."""
    agents, claims = np.nonzero(acting[:, None] & (np.abs(new - old) > _TOL))
    source = np.full(len(agents), -1, dtype=np.int64)
    return RuleUpdate(agents.astype(np.int64), claims.astype(np.int64), new[agents, claims], source)


class _Rule(RulePolicy):
    """Parameter validation, initial credences and the neighbour graph shared by every rule."""

    Params: ClassVar[type[RuleParams]] = RuleParams

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        try:
            self.cfg = self.Params.model_validate(self.params)
        except ValidationError as exc:
            raise _param_error(exc, self.Params) from None
        self._graph_key: tuple | None = None
        self._graph_value: _Graph | None = None

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

    def graph(self, ctx: RuleContext) -> _Graph:
        """The CSR adjacency without absent agents (cached while nothing changes)."""
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
        indptr, indices = np.asarray(ctx.indptr), np.asarray(ctx.indices)
        n = len(indptr) - 1
        rows = np.repeat(np.arange(n, dtype=indices.dtype), np.diff(indptr))
        if absent:
            keep = ctx.present[indices]
            indices, rows = indices[keep], rows[keep]
        deg = np.bincount(rows, minlength=n)
        indptr = np.concatenate([[0], np.cumsum(deg)]).astype(np.int64)
        self._graph_key, self._graph_value = key, _Graph(indptr, indices, rows, deg)
        return self._graph_value


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


class Voter(_Rule):
    """Voter model: each acting agent copies, per claim, one uniformly random neighbour.

    Updates are synchronous, so on a bipartite graph with everyone active a two-colouring can
    flip for ever; activate a fraction of agents per step for the asynchronous variant.
    """

    name: ClassVar[str] = "voter"

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One synchronous copying step."""
        g = self.graph(ctx)
        x = ctx.credence
        agents = np.flatnonzero(self.acting(ctx) & (g.deg > 0))
        n_claims = x.shape[1]
        offsets = (ctx.rng.random((len(agents), n_claims)) * g.deg[agents, None]).astype(np.int64)
        chosen = g.indices[g.indptr[agents, None] + offsets].astype(np.int64)
        copied = x[chosen, np.arange(n_claims)]
        moved = np.abs(copied - x[agents]) > _TOL
        rows, claims = np.nonzero(moved)
        return RuleUpdate(
            agents[rows].astype(np.int64), claims.astype(np.int64), copied[moved], chosen[moved]
        )


class IndependentCascadeParams(RuleParams):
    """Independent cascade: per-edge activation probability p; seeded start by default."""

    initial: float | Literal["uniform", "seeded"] = "seeded"
    p: float = Field(0.1, ge=0.0, le=1.0)


class IndependentCascade(_Rule):
    """Independent cascade (Kempe-Kleinberg-Tardos) on binary credences (>= 0.5 is active).

    An agent that became active in the previous step (at the first step: every active agent)
    gets one chance to activate each inactive acting agent that listens to it, with
    probability p. Agents activated from outside the rule (injections, LLM agents adopting)
    count as newly active at the next step. An activated agent's source is drawn uniformly
    among the neighbours whose attempt succeeded; attempts on agents not acting this step
    are spent.
    """

    name: ClassVar[str] = "independent_cascade"
    Params: ClassVar[type[RuleParams]] = IndependentCascadeParams

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        self.known: np.ndarray | None = None  # (n, C) bool: active as last seen
        self.newly: np.ndarray | None = None  # (n, C) bool: activated in the previous step
        self._out_key: tuple | None = None
        self._out: tuple[np.ndarray, np.ndarray] | None = None

    def setup(self, ctx: RuleContext) -> None:
        """Take the current active agents as the seeds."""
        self.known = None
        self.newly = None

    def listeners(self, ctx: RuleContext) -> tuple[np.ndarray, np.ndarray]:
        """CSR of who listens to each agent (the transpose of the context's lists), cached."""
        if (
            self._out_key is None
            or self._out_key[0] is not ctx.indptr
            or self._out_key[1] is not ctx.indices
        ):
            indptr, indices = np.asarray(ctx.indptr), np.asarray(ctx.indices)
            n = len(indptr) - 1
            rows = np.repeat(np.arange(n, dtype=indices.dtype), np.diff(indptr))
            order = np.argsort(indices, kind="stable")
            out_ptr = np.concatenate([[0], np.cumsum(np.bincount(indices, minlength=n))]).astype(
                np.int64
            )
            self._out_key, self._out = (ctx.indptr, ctx.indices), (out_ptr, rows[order])
        return self._out  # type: ignore[return-value]

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One wave of activation attempts from the newly active agents."""
        cur = ctx.credence >= 0.5
        if self.known is None or self.known.shape != cur.shape:
            newly = cur.copy()
            if self.known is not None and self.newly is not None:
                k = self.known.shape[1]
                newly[:, :k] = (self.newly | (cur[:, :k] & ~self.known)) & cur[:, :k]
        else:
            newly = (self.newly | (cur & ~self.known)) & cur
        if ctx.present is not None:
            newly &= ctx.present[:, None]
        out_ptr, out_idx = self.listeners(ctx)
        acting = self.acting(ctx)
        p = self.cfg.p
        activated = np.zeros_like(cur)
        parts = []
        for c in range(cur.shape[1]):
            frontier = np.flatnonzero(newly[:, c])
            if p <= 0.0 or len(frontier) == 0:
                continue
            targets, speakers = _gather(out_ptr, out_idx, frontier)
            open_ = acting[targets] & ~cur[targets, c]
            targets, speakers = targets[open_], speakers[open_]
            hit = ctx.rng.random(len(targets)) < p
            targets, speakers = targets[hit], speakers[hit]
            if len(targets) == 0:
                continue
            shuffle = ctx.rng.permutation(len(targets))
            won, first = np.unique(targets[shuffle], return_index=True)
            activated[won, c] = True
            parts.append((won, np.full(len(won), c), speakers[shuffle][first]))
        self.known = cur | activated
        self.newly = activated
        return _binary_update(parts)


def _binary_update(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> RuleUpdate:
    """A RuleUpdate setting the given (agents, claims, sources) cells to 1.0."""
    if not parts:
        return RuleUpdate.empty()
    agents, claims, source = (np.concatenate(p).astype(np.int64) for p in zip(*parts, strict=True))
    return RuleUpdate(agents, claims, np.ones(len(agents)), source)


class LinearThresholdParams(RuleParams):
    """Linear threshold: a threshold for everyone, or 'uniform' (U(0,1) per agent and claim)."""

    initial: float | Literal["uniform", "seeded"] = "seeded"
    threshold: float | Literal["uniform"] = "uniform"

    @field_validator("threshold", mode="before")
    @classmethod
    def _threshold(cls, value: Any) -> Any:
        return _number_or(value, ("uniform",))


class LinearThreshold(_Rule):
    """Linear threshold (Kempe-Kleinberg-Tardos) on binary credences (>= 0.5 is active).

    Neighbours weigh 1/deg(i) each (present neighbours); an inactive acting agent activates
    when the active share of its neighbours reaches its threshold θ_i; activation is
    permanent. The source is the active neighbour that activated most recently (ties: the
    lowest id), i.e. the one that tipped the agent over its threshold.
    """

    name: ClassVar[str] = "linear_threshold"
    Params: ClassVar[type[RuleParams]] = LinearThresholdParams

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        self.thresholds: np.ndarray | None = None  # (n, C)
        self.since: np.ndarray | None = None  # (n, C) step at which each cell was seen active

    def setup(self, ctx: RuleContext) -> None:
        """Draw the thresholds (once per run)."""
        self.thresholds = None
        self.since = None
        self._grow(ctx)

    def _grow(self, ctx: RuleContext) -> None:
        """Thresholds and activation steps for any claims not seen yet."""
        n, n_claims = ctx.credence.shape
        have = 0 if self.thresholds is None else self.thresholds.shape[1]
        if self.thresholds is not None and have == n_claims:
            return
        theta = self.cfg.threshold
        extra = (
            ctx.rng.random((n, n_claims - have))
            if theta == "uniform"
            else np.full((n, n_claims - have), theta)
        )
        since = np.full((n, n_claims - have), np.iinfo(np.int64).min, dtype=np.int64)
        self.thresholds = extra if self.thresholds is None else np.hstack([self.thresholds, extra])
        self.since = since if self.since is None else np.hstack([self.since, since])

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """Activate every acting agent whose active-neighbour share reaches its threshold."""
        self._grow(ctx)
        assert self.thresholds is not None and self.since is not None
        g = self.graph(ctx)
        cur = ctx.credence >= 0.5
        seen = cur & (self.since == np.iinfo(np.int64).min)
        self.since[seen] = ctx.step - 1
        share = g.row_sum(cur[g.indices].astype(float)) / np.maximum(g.deg, 1)[:, None]
        fires = (self.acting(ctx) & (g.deg > 0))[:, None] & ~cur & (share >= self.thresholds - _TOL)
        parts = []
        for c in range(cur.shape[1]):
            rows = np.flatnonzero(fires[:, c])
            if len(rows) == 0:
                continue
            nb, owner = _gather(g.indptr, g.indices, rows)
            on = cur[nb, c]
            nb, owner = nb[on].astype(np.int64), owner[on]
            order = np.lexsort((nb, -self.since[nb, c], owner))
            tipped, first = np.unique(owner[order], return_index=True)
            source = np.full(len(rows), -1, dtype=np.int64)  # -1: threshold 0, no active neighbour
            source[np.searchsorted(rows, tipped)] = nb[order][first]
            parts.append((rows, np.full(len(rows), c), source))
            self.since[rows, c] = ctx.step
        return _binary_update(parts)


__all__ = [
    "DeGroot",
    "Deffuant",
    "FriedkinJohnsen",
    "HegselmannKrause",
    "IndependentCascade",
    "LinearThreshold",
    "RuleParams",
    "Voter",
]
