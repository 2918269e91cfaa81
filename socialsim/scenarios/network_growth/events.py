"""The payloads the network-growth scenario logs: joins, follow choices, follows and unfollows."""

from __future__ import annotations

from socialsim.core.events import EventPayload, described, event_payload


@event_payload("action", "joined")
class Joined(EventPayload):
    """An agent joined the growing network."""


@event_payload("action", "follow_choice")
class FollowChoice(EventPayload):
    """Whom an agent chose to follow or unfollow (the lists only for an LLM's choice)."""

    on: str = described("join or revisit")
    status: str = described("answered or failed")
    by: str = described("llm or rule")
    rule: str | None = described("the attachment rule of a rule choice")
    shown: list[int] | None = described("the candidates shown to the model")
    follow: list[int] | None = described("those it chose to follow")
    unfollow: list[int] | None = described("those it chose to unfollow")
    error: str | None = described("why the answer failed, if it did")


@event_payload("action", "follow")
class Follow(EventPayload):
    """An edge made: ``agent`` now follows ``target``."""


@event_payload("action", "unfollow")
class Unfollow(EventPayload):
    """An edge removed: ``agent`` no longer follows ``target``."""
