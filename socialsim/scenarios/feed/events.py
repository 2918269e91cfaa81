"""The payloads the feed scenario logs: one ``feed_post`` per item posted, one ``feed_exposure``
per item an agent sees (with its answer).

Both are logged many at a time (``emit_many``); the event's ``agent`` is the poster (-1: the
scenario) or the agent exposed, and its ``claim`` the item's claim id.
"""

from __future__ import annotations

from socialsim.core.events import EventPayload, described, event_payload


@event_payload("action", "feed_post")
class FeedPost(EventPayload):
    """An item entered the feed: what it shows and how many feeds it reached."""

    item: int = described("the item's number")
    framing: str = described("its framing (neutral: none)")
    source_style: str = described("its source style (plain: none)")
    version: str = described("true or manipulated: which statement of the claim it shows")
    neutral: bool = described("shown as the plain statement (the control arm)")
    text: str = described("the post as agents read it")
    audience: int = described("feeds it reached when posted")


@event_payload("action", "feed_exposure")
class FeedExposure(EventPayload):
    """An agent saw an item in its feed and answered whether it accepts the claim."""

    item: int = described("the item's number")
    framing: str = described("the item's framing (neutral: none)")
    source_style: str = described("the item's source style (plain: none)")
    version: str = described("true or manipulated")
    neutral: bool = described("shown as the plain statement (the control arm)")
    poster: int = described("who posted it (-1: the scenario)")
    posted: int = described("the step it was posted")
    exposure: int = described(
        "1 for this agent's first exposure to the claim, 2 for its second, ..."
    )
    rank: int = described("its place in the agent's feed this step (1: top)")
    status: str = described("answered or failed")
    source: str = described("llm or rule")
    accepted: bool | None = described("the agent accepts the claim (null when failed)")
    confidence: float | None = described(
        "how sure the agent is of its answer, 0..1 (null when failed)"
    )
    reshared: bool = described("the agent reshared it to its listeners")
    error: str | None = described("why the answer failed, if it did")
