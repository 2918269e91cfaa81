"""Per-agent belief states: credence 0..1 per claim, every change with its cause.

The claim itself (:class:`~socialsim.core.claims.Claim`) is a shared noun in
``socialsim.core``; it is named here too, where earlier versions defined it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from socialsim.core.claims import Claim


class BeliefChange(BaseModel):
    """One change of credence and what caused it."""

    step: int
    time: float = 0.0
    claim: str
    old: float
    new: float | None = Field(..., description="None: not known (its measurement failed)")
    cause: str = Field(..., description="message | injection | probe | rule | decision | scenario")
    ref: str | int | None = Field(None, description="message id, source agent or probe id")
    reason: str | None = None

    def as_payload(self) -> dict[str, Any]:
        """JSON-ready payload for a belief_change event."""
        return self.model_dump(exclude={"step", "time", "claim"})


class BeliefStore:
    """Credences of every agent in every claim, as one (agents x claims) array.

    Rule policies read and write the array directly (vectorised); LLM agents go through
    :meth:`set`. Every change is kept in a per-agent history with its cause.

    A credence read from an answer that failed is *unknown* (:meth:`forget`) until a usable
    answer sets it again: the array keeps the last value (what the run carries on with),
    while :meth:`measured`, what the agents table records, has NaN there.
    """

    def __init__(self, n_agents: int, claims: list[Claim] | None = None, default: float = 0.5):
        self.default = default
        self.claims: list[Claim] = []
        self.index: dict[str, int] = {}
        self.credence = np.full((n_agents, 0), default, dtype=np.float64)
        self.unknown = np.zeros((n_agents, 0), dtype=bool)
        self._history: dict[int, list[tuple]] = {}
        for claim in claims or []:
            self.add_claim(claim)

    @property
    def n_agents(self) -> int:
        """Number of agent rows."""
        return self.credence.shape[0]

    def add_claim(self, claim: Claim, initial: float | None = None) -> int:
        """Add a claim (idempotent) and return its column index; `initial` is clamped to 0..1."""
        if claim.id in self.index:
            return self.index[claim.id]
        value = self.default if initial is None else min(1.0, max(0.0, float(initial)))
        column = np.full((self.n_agents, 1), value, dtype=np.float64)
        self.credence = np.hstack([self.credence, column])
        self.unknown = np.hstack([self.unknown, np.zeros((self.n_agents, 1), dtype=bool)])
        self.claims.append(claim)
        self.index[claim.id] = len(self.claims) - 1
        return self.index[claim.id]

    def claim(self, claim_id: str) -> Claim:
        """The claim with this id (KeyError if unknown)."""
        return self.claims[self.index[claim_id]]

    def get(self, agent: int, claim_id: str) -> float:
        """Credence of one agent in one claim."""
        return float(self.credence[agent, self.index[claim_id]])

    def of(self, agent: int) -> dict[str, float]:
        """All credences of one agent, by claim id."""
        row = self.credence[agent]
        return {c.id: float(row[i]) for i, c in enumerate(self.claims)}

    def set(self, agent: int, change: BeliefChange) -> bool:
        """Apply a change (clamped to 0..1); record it if the value moved or was unknown.
        True if it was recorded."""
        col = self.index[change.claim]
        if change.new is None:
            raise ValueError("a credence change needs a value: use forget() for an unknown one")
        new = min(1.0, max(0.0, float(change.new)))
        old = float(self.credence[agent, col])
        if abs(new - old) < 1e-12 and not self.unknown[agent, col]:
            return False
        self.credence[agent, col] = new
        self.unknown[agent, col] = False
        self._remember(agent, change, old, new)
        return True

    def forget(self, agent: int, change: BeliefChange) -> bool:
        """Mark the credence in `change.claim` unknown (its measurement failed); the array
        keeps its value. True if it was known before (and the change is recorded)."""
        col = self.index[change.claim]
        if self.unknown[agent, col]:
            return False
        self.unknown[agent, col] = True
        self._remember(agent, change, float(self.credence[agent, col]), None)
        return True

    def _remember(self, agent: int, change: BeliefChange, old: float, new: float | None) -> None:
        self._history.setdefault(agent, []).append(
            (change.step, change.time, change.claim, old, new, change.cause, change.ref,
             change.reason)
        )  # fmt: skip

    def measured(self) -> np.ndarray:
        """The credences with NaN where one is unknown (the array itself when none is)."""
        if not self.unknown.any():
            return self.credence
        return np.where(self.unknown, np.nan, self.credence)

    def known_column(self, col: int) -> np.ndarray | None:
        """Which agents' credence in claim column `col` is known (None: all of them)."""
        column = self.unknown[:, col]
        return ~column if column.any() else None

    def record_bulk(
        self, step: int, time: float, agents, claim_cols, old, new, cause: str, refs
    ) -> None:
        """Record history for a vectorised update already written into `credence`."""
        for a, c, o, n, r in zip(agents, claim_cols, old, new, refs, strict=True):
            self._history.setdefault(int(a), []).append(
                (
                    step,
                    time,
                    self.claims[int(c)].id,
                    float(o),
                    float(n),
                    cause,
                    None if r < 0 else int(r),
                    None,
                )
            )

    def history(self, agent: int) -> list[BeliefChange]:
        """Every change of this agent's credences, oldest first, with causes."""
        keys = ("step", "time", "claim", "old", "new", "cause", "ref", "reason")
        return [
            BeliefChange(**dict(zip(keys, row, strict=True)))
            for row in self._history.get(agent, [])
        ]
