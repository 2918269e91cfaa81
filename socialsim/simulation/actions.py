"""What scenarios and agents do to a model: events, messages, credences, roles, removal.

:class:`ModelActions` is the part of :class:`~socialsim.simulation.model.SocialModel` that
changes the run and logs each change: ``emit``, ``send``, ``set_credence``,
``forget_credence``, ``inject``, ``assign_role``, ``remove_agent`` and ``pin``. It works on
the model's state (``log``, ``mail``, ``beliefs``, ``present``, ``roles``, ``groups``,
``recorder``) and has none of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, get_args

from socialsim.agents.beliefs import BeliefChange
from socialsim.core.messages import Channel, Message
from socialsim.core.trusted import trusted

if TYPE_CHECKING:
    import numpy as np

    from socialsim.agents.beliefs import BeliefStore
    from socialsim.core.messages import Mailroom
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.log import InteractionLog
    from socialsim.simulation.policies import PolicyGroup
    from socialsim.simulation.recorder import Recorder


class ModelActions:
    """Logged changes to a run: the actions scenarios take (a SocialModel's own methods)."""

    cfg: ExperimentConfig
    log: InteractionLog
    mail: Mailroom
    beliefs: BeliefStore
    present: np.ndarray
    roles: dict[int, str]
    groups: list[PolicyGroup]
    recorder: Recorder
    time: float
    steps: int
    n_agents: int
    neighbours: Callable[[int], list[int]]
    present_neighbours: Callable[[int], list[int]]

    def emit(self, kind: str, *, agent=None, target=None, claim=None, payload=None) -> None:
        """Log an event at the current step and time."""
        self.recorder.count(kind)
        self.log.emit(
            kind,
            step=self.steps,
            time=self.time,
            agent=agent,
            target=target,
            claim=claim,
            payload=payload,
        )

    def send(
        self,
        sender: int,
        text: str,
        to: str | int | list[int] = "all",
        claims: list[str] | tuple[str, ...] = (),
        channel: str | None = None,
        reply_to: str | None = None,
        framing: str | None = None,
        source_style: str | None = None,
    ) -> Message | None:
        """Send a message (logged now, delivered at the end of the step or after the latency).

        `framing` and `source_style` say how the message presents its claims, when known (rule
        policies of susceptible agents weigh the claims by them; they are not logged).
        """
        if to == "all":
            recipients = (
                self.present_neighbours(sender)
                if sender >= 0
                else [i for i in range(self.n_agents) if self.present[i]]
            )
            channel = channel or ("post" if sender >= 0 else "broadcast")
        elif isinstance(to, int):
            recipients = [to] if self.present[to] else []
            channel = channel or "direct"
        else:
            recipients = [int(j) for j in to if self.present[j]]
            channel = channel or "post"
        if not recipients:
            return None
        deliver_at = self.time + self.cfg.event.latency if self.cfg.mode == "event" else None
        values = {
            "id": self.mail.next_id(),
            "sender": sender,
            "recipients": recipients,
            "step": self.steps,
            "time": self.time,
            "text": text,
            "claims": list(claims),
            "reply_to": reply_to,
            "channel": channel,
            "deliver_at": deliver_at,
            "framing": framing,
            "source_style": source_style,
        }
        # what agents say (the common case) is built without validating again; anything
        # else a caller gave is validated
        message = trusted(Message, values) if _plain(values) else Message(**values)
        self.mail.send(message)
        self.emit(
            "message",
            agent=sender,
            target=recipients[0] if channel == "direct" else None,
            claim=message.claims[0] if message.claims else None,
            payload={
                "id": message.id,
                "text": text,
                "recipients": recipients,
                "claims": message.claims,
                "reply_to": reply_to,
                "channel": channel,
            },
        )
        return message

    def set_credence(
        self,
        agent: int,
        claim_id: str,
        value: float,
        cause: str,
        ref=None,
        reason: str | None = None,
        source: int | None = None,
    ) -> bool:
        """Set one credence; log a belief_change with its cause if it moved (or was unknown)."""
        change = self._change(agent, claim_id, value, cause, ref, reason)
        if not self.beliefs.set(agent, change):
            return False
        self._log_change(agent, change, self.beliefs.get(agent, claim_id), source)
        return True

    def forget_credence(
        self, agent: int, claim_id: str, cause: str, ref=None, reason: str | None = None
    ) -> bool:
        """The answer that was to measure this credence failed: it is unknown (NaN in the
        agents table, left out of belief measures) until a usable answer sets it again.
        Logs a ``belief_change`` with ``new: null`` when it was known before."""
        change = self._change(agent, claim_id, None, cause, ref, reason)
        if not self.beliefs.forget(agent, change):
            return False
        self._log_change(agent, change, None, None)
        return True

    def _change(
        self, agent: int, claim_id: str, new: float | None, cause: str, ref, reason: str | None
    ) -> BeliefChange:
        old = self.beliefs.get(agent, claim_id)
        return BeliefChange(
            step=self.steps, time=self.time, claim=claim_id, old=old, new=new, cause=cause,
            ref=ref, reason=reason,
        )  # fmt: skip

    def _log_change(
        self, agent: int, change: BeliefChange, new: float | None, source: int | None
    ) -> None:
        payload = {"old": change.old, "new": new, "cause": change.cause, "ref": change.ref,
                   "reason": change.reason}  # fmt: skip
        self.emit("belief_change", agent=agent, target=source, claim=change.claim, payload=payload)

    def inject(
        self, agent: int, claim_id: str | None, credence: float | None, route: str, **payload: Any
    ) -> None:
        """Record an injection (attacker, memory poisoning, broadcast, ...) and set a credence."""
        self.emit("injection", agent=agent, claim=claim_id, payload={"route": route, **payload})
        if credence is not None and claim_id is not None:
            self.set_credence(agent, claim_id, credence, cause="injection", ref=route)

    def assign_role(self, agent_id: int, role: str, placebo: bool = False) -> None:
        """Record a scenario role (attacker, guardian, persuader, violator, ...).

        Logs an ``action`` of type ``role``; the analysis leaves every agent with a role out of
        the benign population. ``placebo`` marks the agent that holds the role in the treatment
        arm but acts as an ordinary agent in the control arm, so both arms measure the same
        agents.
        """
        self.roles[int(agent_id)] = role
        self.emit(
            "action",
            agent=int(agent_id),
            payload={"type": "role", "role": role, "placebo": bool(placebo)},
        )

    def remove_agent(self, agent_id: int) -> None:
        """The agent leaves: no more decisions or messages; logs an ``action`` ``removed``.

        What others remember of it stays.
        """
        if not self.present[agent_id]:
            return
        self.present[agent_id] = False
        self.mail.drop_agent(agent_id)
        self.emit(
            "action",
            agent=int(agent_id),
            payload={"type": "removed", "role": self.roles.get(int(agent_id))},
        )

    def pin(self, agent_id: int, pinned: bool = True) -> None:
        """Keep an agent's credences fixed against rule updates (attackers, guardians)."""
        for group in self.groups:
            group.pinned[agent_id] = pinned


def _plain(values: dict[str, Any]) -> bool:
    """True when a message's values are of its fields' types as they are: int ids (every
    recipient is one when the first is: they are made that way), text, claim ids, a known
    channel, no framing or source style (validating would change nothing)."""
    return (
        type(values["sender"]) is int
        and type(values["recipients"][0]) is int
        and type(values["text"]) is str
        and type(values["step"]) is int
        and type(values["time"]) is float
        and (values["deliver_at"] is None or type(values["deliver_at"]) is float)
        and values["reply_to"] is None
        and values["framing"] is None
        and values["source_style"] is None
        and values["channel"] in _CHANNELS
        and all(type(c) is str for c in values["claims"])
    )


_CHANNELS = frozenset(get_args(Channel))
