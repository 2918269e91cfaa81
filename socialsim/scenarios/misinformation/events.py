"""The injection payloads the misinformation scenario logs (its probes are the generic
``probe`` payload, :class:`socialsim.core.events.Probe`)."""

from __future__ import annotations

from socialsim.core.events import EventPayload, described, event_payload


@event_payload("injection", "attacker")
class AttackerInjection(EventPayload):
    """An attacker seeded with the false claim."""

    framing: str = described("how the attack is framed")
    source_style: str = described("the style of source it cites")


@event_payload("injection", "memory")
class MemoryInjection(EventPayload):
    """A poisoned memory placed in an agent's store."""

    source: str = described("who the memory says it came from")
    text: str = described("the memory's text")


@event_payload("injection", "broadcast")
class BroadcastInjection(EventPayload):
    """A rule agent that received the attackers' broadcast takes on its credence."""

    message: str = described("the broadcast message's id")
    sender: int = described("the attacker that posted it")
