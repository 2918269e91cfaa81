"""The rule groups' part of a step: set-up, updates from the pre-step credences, application.

Every rule group computes its update from the credences as they stand before any decision
of the step; the updates are applied after the LLM decisions, pinned and removed agents
skipped, and logged as ``belief_change`` events with ``cause: rule`` in one batch.
Claims sent in framed messages reach the rules as ``ctx.extra["framing_weight"]``
(:class:`~socialsim.agents.policies.rule_base.FramingWeights`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from socialsim.agents.policies.base import RuleContext, RuleUpdate
from socialsim.agents.policies.rule_base import FramingWeights
from socialsim.core.errors import PolicyError
from socialsim.core.validation import shown

if TYPE_CHECKING:
    from socialsim.core.model_view import ModelView
    from socialsim.simulation.policies import PolicyGroup


class RuleDriver:
    """Steps the model's rule groups with a generator of their own (sub-seeded per run)."""

    def __init__(self, model: ModelView, rng: np.random.Generator) -> None:
        self.model = model
        self.rng = rng
        self.ready = False  # set-up is redone when a claim comes into play
        self.framing: FramingWeights | None = None  # made when a framed message is first sent

    def context(self, g: int, active: np.ndarray) -> RuleContext:
        """What rule group `g` sees this step."""
        model = self.model
        group = model.groups[g]
        return RuleContext(
            credence=model.beliefs.credence,
            indptr=model.network.indptr,
            indices=model.network.indices,
            members=group.members,
            active=active & group.members,
            rng=self.rng,
            step=model.steps,
            claim_ids=[c.id for c in model.beliefs.claims],
            present=model.present,
            extra={
                "stubbornness": model.stubbornness,
                "pinned": group.pinned,
                "framing_weight": self.framing_weight(),
            },
        )

    def framing_weight(self) -> np.ndarray | None:
        """Per (agent, claim) factor on the rules' pull towards each claim (None: all 1)."""
        if self.framing is None:
            return None
        return self.framing.current(len(self.model.beliefs.claims))

    def read_framed(self) -> None:
        """Take the framed messages sent since the last step into the framing factors."""
        model = self.model
        framed = model.mail.take_framed()
        if not framed:
            return
        if self.framing is None:
            self.framing = FramingWeights(
                *(_persona_column(model.personas, f) for f in _SUSCEPTIBILITIES)
            )
        self.framing.receive(framed, [c.id for c in model.beliefs.claims])

    def setup(self) -> None:
        """Set every group's members and let each rule read the starting state."""
        model = self.model
        for g, group in enumerate(model.groups):
            group.members = model.policy_of == g
            if group.rule is not None:
                group.rule.setup(self.context(g, model.present.copy()))
        self.ready = True

    def updates(self, active: np.ndarray) -> list[tuple[PolicyGroup, Any]]:
        """Each rule group's update for the `active` agents, from the current credences."""
        if not self.model.beliefs.claims:
            return []  # nothing to update: no claim is in play
        if not self.ready:
            self.setup()
        self.read_framed()
        n_agents, n_claims = len(self.model.present), len(self.model.beliefs.claims)
        return [
            (
                group,
                checked(group.name, group.rule.update(self.context(g, active)), n_agents, n_claims),
            )
            for g, group in enumerate(self.model.groups)
            if group.rule is not None
        ]

    def apply(self, group: PolicyGroup, update: Any) -> int:
        """Apply one group's update and log its changes; returns how many were logged."""
        if not len(update.agents):
            return 0
        model = self.model
        cred = model.beliefs.credence
        keep = model.present[update.agents] & ~group.pinned[update.agents]
        agents, claims = update.agents[keep], update.claims[keep]
        new, source = np.clip(update.new[keep], 0.0, 1.0), update.source[keep]
        old = cred[agents, claims]
        # Sequential schedules (voter, Deffuant) list a cell once per change, in order: each
        # entry starts from the previous entry's value and the cell ends at its last entry.
        cell = agents * cred.shape[1] + claims
        order = np.argsort(cell, kind="stable")
        again = np.flatnonzero(cell[order][1:] == cell[order][:-1]) + 1
        old[order[again]] = new[order[again - 1]]
        last = np.ones(len(cell), dtype=bool)
        last[order[again - 1]] = False
        cred[agents[last], claims[last]] = new[last]
        model.beliefs.record_bulk(model.steps, model.time, agents, claims, old, new, "rule", source)
        claim_ids = [c.id for c in model.beliefs.claims]
        model.log.emit_many(
            "belief_change",
            step=model.steps,
            time=model.time,
            agent=agents,
            target=np.ma.masked_less(source, 0),
            claim=np.asarray(claim_ids, dtype=object)[claims],
            payload={"old": old, "new": new, "cause": "rule", "ref": group.name},
        )
        return len(agents)


#: how far past [0, 1] a new credence may lie by rounding (it is then clipped)
ROUNDING = 1e-9


def checked(policy: str, update: Any, n_agents: int, n_claims: int) -> RuleUpdate:
    """A rule's update as arrays the driver can apply; :class:`PolicyError` naming the policy
    and what is wrong with it otherwise (a user's rule that returns NaN, an agent that does
    not exist, a credence past [0, 1])."""
    if not isinstance(update, RuleUpdate):
        raise PolicyError(
            f"policy {policy}: update() returned {type(update).__name__}, not a RuleUpdate; "
            "return RuleUpdate.empty() when nothing changes"
        )
    parts = {}
    for field in ("agents", "claims", "new", "source"):
        values = np.asarray(getattr(update, field))
        if values.ndim != 1:
            raise PolicyError(f"policy {policy}: RuleUpdate.{field} must be a 1-D array")
        whole = field != "new"
        if len(values) and values.dtype.kind not in ("iu" if whole else "iuf"):
            sort = "whole numbers" if whole else "numbers"
            raise PolicyError(
                f"policy {policy}: RuleUpdate.{field} must hold {sort}, not {values.dtype}"
            )
        parts[field] = values.astype(np.int64 if whole else float, copy=False)
    if len({len(v) for v in parts.values()}) > 1:
        lengths = ", ".join(f"{k} {len(v)}" for k, v in parts.items())
        raise PolicyError(
            f"policy {policy}: RuleUpdate's arrays must have one length (one entry per "
            f"change); got {lengths}"
        )
    _within(policy, "agents", parts["agents"], 0, n_agents - 1)
    _within(policy, "claims", parts["claims"], 0, n_claims - 1)
    _within(policy, "source", parts["source"], -1, n_agents - 1)
    new = parts["new"]
    if len(new) and not (
        np.isfinite(new).all() and new.min() >= -ROUNDING and new.max() <= 1 + ROUNDING
    ):
        bad = new[~(np.isfinite(new) & (new >= -ROUNDING) & (new <= 1 + ROUNDING))][0]
        raise PolicyError(
            f"policy {policy}: RuleUpdate.new must hold credences in [0, 1]; got {shown(float(bad))}"
        )
    return RuleUpdate(**parts)


def _within(policy: str, field: str, values: np.ndarray, low: int, high: int) -> None:
    if len(values) and (values.min() < low or values.max() > high):
        bad = values[(values < low) | (values > high)][0]
        raise PolicyError(
            f"policy {policy}: RuleUpdate.{field} must be in {low}..{high}; got {int(bad)}"
        )


_SUSCEPTIBILITIES = ("framing_susceptibility", "source_susceptibility")


def _persona_column(personas: Any, field: str) -> np.ndarray:
    """One numeric persona field for every agent (sampled columns, or persona by persona)."""
    if hasattr(personas, "column"):
        return np.asarray(personas.column(field), dtype=float)
    return np.asarray([getattr(personas.get(i), field) for i in range(len(personas))], float)
