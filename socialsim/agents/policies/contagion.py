"""Discrete and contagion rules: voter model, independent cascade, linear threshold.

The cascade and threshold rules treat credences as binary (>= 0.5 is active) and set newly
activated cells to 1.0; every change names the neighbour it came from. Both are progressive
and advance in synchronous rounds, as defined. The voter model is asynchronous by default.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from socialsim.agents.policies.base import RuleContext, RuleUpdate
from socialsim.agents.policies.rule_base import (
    _TOL,
    Rule,
    RuleParams,
    _Changes,
    _number_or,
    _one_of,
)
from socialsim.core.registry import register_policy


def _gather(
    indptr: np.ndarray, indices: np.ndarray, nodes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The CSR entries of `nodes`, flattened: (neighbour, owner) pairs."""
    starts = indptr[nodes]
    lengths = indptr[nodes + 1] - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    return indices[offsets], np.repeat(nodes, lengths)


class VoterParams(RuleParams):
    """Voter model: the update schedule (asynchronous, the textbook model, or synchronous)."""

    schedule: Literal["asynchronous", "synchronous"] = "asynchronous"

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        return _one_of(value, ("asynchronous", "synchronous"))


@register_policy("voter")
class Voter(Rule):
    """Voter model (Clifford & Sudbury 1973; Holley & Liggett 1975), each claim on its own.

    ``schedule: asynchronous`` (default, the textbook model): one elementary update picks one
    acting agent uniformly at random, which copies the credence of one of its present
    neighbours chosen uniformly at random. A step is N elementary updates, N being the number
    of acting agents (present, active members), drawn with replacement and applied one after
    another, so later updates see earlier ones; the log has every copy in that order, and an
    agent may change more than once in a step. On a complete graph the share of believers is a
    martingale and consensus on a view comes with probability equal to its initial share.

    ``schedule: synchronous``: every acting agent copies a random neighbour's credence from
    before the step, all at once (on a bipartite graph a two-colouring can flip for ever).

    Pinned agents (``ctx.extra["pinned"]``) and non-members never change but are copied.
    """

    Params: ClassVar[type[RuleParams]] = VoterParams

    def update(self, ctx: RuleContext) -> RuleUpdate:
        """One step of the configured schedule."""
        if self.cfg.schedule == "synchronous":
            return self.synchronous(ctx)
        g = self.graph(ctx)
        x = ctx.credence
        picks = self.initiators(ctx, g)
        if len(picks) == 0 or x.shape[1] == 0:
            return RuleUpdate.empty()
        partners = g.random_neighbours(picks, ctx.rng.random((len(picks), x.shape[1])))
        keep = self.movable(ctx)[picks]
        picks, partners = picks[keep].tolist(), partners[keep]
        changes = _Changes()
        for c in range(x.shape[1]):
            changes.extend(c, *_copy_in_order(x[:, c].tolist(), picks, partners[:, c].tolist()))
        return changes.update()

    def synchronous(self, ctx: RuleContext) -> RuleUpdate:
        """Every acting agent copies, per claim, one random neighbour's pre-step credence."""
        g = self.graph(ctx)
        x = ctx.credence
        agents = np.flatnonzero(self.acting(ctx) & (g.listen_degree > 0))
        n_claims = x.shape[1]
        offsets = (ctx.rng.random((len(agents), n_claims)) * g.listen_degree[agents, None]).astype(
            np.int64
        )
        chosen = g.indices[g.indptr[agents, None] + offsets].astype(np.int64)
        copied = x[chosen, np.arange(n_claims)]
        moved = np.abs(copied - x[agents]) > _TOL
        rows, claims = np.nonzero(moved)
        return RuleUpdate(
            agents[rows].astype(np.int64), claims.astype(np.int64), copied[moved], chosen[moved]
        )


def _copy_in_order(
    col: list[float], picks: list[int], partners: list[int]
) -> tuple[list[int], list[float], list[int]]:
    """Apply voter copies one after another on `col`; the (agent, new, source) of each change."""
    agents: list[int] = []
    new: list[float] = []
    source: list[int] = []
    for i, j in zip(picks, partners, strict=True):
        value = col[j]
        if value != col[i] and abs(value - col[i]) > _TOL:
            col[i] = value
            agents.append(i)
            new.append(value)
            source.append(j)
    return agents, new, source


class IndependentCascadeParams(RuleParams):
    """Independent cascade: per-edge activation probability p; seeded start by default."""

    initial: float | Literal["uniform", "seeded"] = "seeded"
    p: float = Field(0.1, ge=0.0, le=1.0)


@register_policy("independent_cascade")
class IndependentCascade(Rule):
    """Independent cascade (Goldenberg et al. 2001; Kempe, Kleinberg & Tardos 2003).

    Credences are binary (>= 0.5 is active). A step is one round: an agent that became active
    in the previous step (at the first step: every active agent) gets one chance to activate
    each inactive acting agent that listens to it, independently with probability p. Agents
    activated from outside the rule (injections, LLM agents adopting) count as newly active at
    the next step. An activated agent's source is drawn uniformly among the neighbours whose
    attempt succeeded; attempts on agents not acting this step are spent. An agent sent the
    claim in a framed message is activated with probability min(1, p * w), w its framing
    factor (``ctx.extra["framing_weight"]``; 1 by default).
    """

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
        weight = self.framing(ctx)
        activated = np.zeros_like(cur)
        parts = []
        for c in range(cur.shape[1]):
            frontier = np.flatnonzero(newly[:, c])
            if p <= 0.0 or len(frontier) == 0:
                continue
            targets, speakers = _gather(out_ptr, out_idx, frontier)
            open_ = acting[targets] & ~cur[targets, c]
            targets, speakers = targets[open_], speakers[open_]
            chance = p if weight is None else np.minimum(p * weight[targets, c], 1.0)
            hit = ctx.rng.random(len(targets)) < chance
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


@register_policy("linear_threshold")
class LinearThreshold(Rule):
    """Linear threshold (Granovetter 1978; Kempe, Kleinberg & Tardos 2003).

    Credences are binary (>= 0.5 is active). A step is one synchronous round: neighbours weigh
    1/deg(i) each (present neighbours), and an inactive acting agent activates when the
    active share of its neighbours at the end of the previous step reaches its threshold
    θ_i (drawn once per agent and claim, U(0, 1) by default); activation is permanent. The
    source is the active neighbour that activated most recently (ties: the lowest id), i.e.
    the one that tipped the agent over its threshold. An agent sent the claim in a framed
    message compares its weighted share (share times its framing factor w, 1 by default)
    with its threshold.
    """

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
        share = g.row_sum(cur[g.indices].astype(float)) / np.maximum(g.listen_degree, 1)[:, None]
        weight = self.framing(ctx)
        if weight is not None:
            share = share * weight
        fires = (
            (self.acting(ctx) & (g.listen_degree > 0))[:, None]
            & ~cur
            & (share >= self.thresholds - _TOL)
        )
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
    "IndependentCascade",
    "IndependentCascadeParams",
    "LinearThreshold",
    "LinearThresholdParams",
    "Voter",
    "VoterParams",
]
