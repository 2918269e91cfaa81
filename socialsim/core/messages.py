"""Messages between agents, the two channels (direct, post to all neighbours), and inboxes."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from pydantic import BaseModel, Field

from socialsim.core.claims import Framing, SourceStyle

Channel = Literal["direct", "post", "broadcast"]


class Message(BaseModel):
    """A message from one agent (or the scenario, sender -1) to one or more agents."""

    id: str
    sender: int
    recipients: list[int]
    step: int
    time: float = 0.0
    text: str
    claims: list[str] = Field(default_factory=list, description="claim ids referenced")
    reply_to: str | None = None
    channel: Channel = "post"
    deliver_at: float | None = Field(None, description="event mode: arrival time after latency")
    framing: Framing | None = Field(None, description="how the claims are framed, when known")
    source_style: SourceStyle | None = Field(
        None, description="the source style the claims are presented in, when known"
    )


#: how far past `now` (relative, at least 1e-9 absolute) a delivery time may lie and still be
#: due: a message sent at a window end with a latency of whole windows arrives at a window end,
#: whatever the rounding of the sum
DUE_TOLERANCE = 1e-9


def is_due(message: Message, now: float) -> bool:
    """True when the message's `deliver_at` is `now` or earlier (within rounding)."""
    return (message.deliver_at or 0.0) <= now + DUE_TOLERANCE * max(1.0, abs(now))


class Mailroom:
    """Holds sent messages until delivery and the inbox of every agent.

    Step mode delivers everything sent during a step at the end of it; event mode delivers
    each message once the clock reaches its `deliver_at` time (:func:`is_due`). A message
    with a known framing or source style marks each (recipient, claim) it carries as framed
    from the moment it is sent (:meth:`take_framed`), for rule policies that weigh a claim by
    how it was presented.
    """

    def __init__(self) -> None:
        self._pending: list[Message] = []
        self._inboxes: dict[int, list[Message]] = defaultdict(list)
        self._counter = 0
        self._framed: dict[tuple[int, str], tuple[str | None, str | None]] = {}

    def next_id(self) -> str:
        """A fresh message id, unique within the run and reproducible."""
        self._counter += 1
        return f"m{self._counter}"

    def send(self, message: Message) -> None:
        """Queue a message for delivery (and note the claims it carries framed)."""
        self._pending.append(message)
        if message.framing is not None or message.source_style is not None:
            for recipient in message.recipients:
                for claim in message.claims:
                    self._framed[(recipient, claim)] = (message.framing, message.source_style)

    def take_framed(self) -> dict[tuple[int, str], tuple[str | None, str | None]]:
        """(recipient, claim) -> (framing, source style) of framed messages since the last call."""
        framed, self._framed = self._framed, {}
        return framed

    def deliver(self, now: float | None = None) -> list[Message]:
        """Move due messages into inboxes (all of them when `now` is None); return them."""
        if now is None:
            due, self._pending = self._pending, []
        else:
            due, waiting = [], []
            for message in self._pending:
                (due if is_due(message, now) else waiting).append(message)
            self._pending = waiting
        for message in due:
            for recipient in message.recipients:
                self._inboxes[recipient].append(message)
        return due

    def take_inbox(self, agent_id: int) -> list[Message]:
        """Return and clear an agent's inbox."""
        return self._inboxes.pop(agent_id, [])

    def peek_inbox(self, agent_id: int) -> list[Message]:
        """An agent's inbox without clearing it."""
        return list(self._inboxes.get(agent_id, []))

    def drop_agent(self, agent_id: int) -> None:
        """Forget an agent's inbox (the agent left the run); messages it sent stay delivered."""
        self._inboxes.pop(agent_id, None)

    @property
    def pending(self) -> list[Message]:
        """Messages sent but not delivered yet."""
        return list(self._pending)
