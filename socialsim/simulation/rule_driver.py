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

from socialsim.agents.policies.base import RuleContext
from socialsim.agents.policies.rule_base import FramingWeights

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
        return [
            (group, group.rule.update(self.context(g, active)))
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


_SUSCEPTIBILITIES = ("framing_susceptibility", "source_susceptibility")


def _persona_column(personas: Any, field: str) -> np.ndarray:
    """One numeric persona field for every agent (sampled columns, or persona by persona)."""
    if hasattr(personas, "column"):
        return np.asarray(personas.column(field), dtype=float)
    return np.asarray([getattr(personas.get(i), field) for i in range(len(personas))], float)
