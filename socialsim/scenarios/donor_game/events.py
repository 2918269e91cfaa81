"""The payloads the donor game logs: rounds, standings, replacements and strategies.

The ledger logs many agents at once (``emit_many``): each field then holds one value per
event, or one value shared by all.
"""

from __future__ import annotations

from socialsim.core.events import ABSENT, EventPayload, described, event_payload


@event_payload("action", "donor_round")
class DonorRound(EventPayload):
    """A donor's move in a round (``target`` the recipient) and what it did to resources."""

    generation: int = described("the generation")
    round: int = described("the round within it")
    status: str = described("answered or failed")
    action: str | None = described("donate, punish or none")
    share: float | None = described("the share of resources given")
    given: float = described("resources the donor gave")
    cost: float = described("what giving or punishing cost the donor")
    received: float = described("resources the donor received this round")
    damage: float = described("resources the donor lost to punishment")
    resources_before: float = described("the donor's resources before the round")
    resources_after: float = described("the donor's resources after the round")
    reputation: float | None = described("the recipient's reputation shown, if any")
    error: str | None = described("why the answer failed, if it did")


@event_payload("action", "donor_standing")
class DonorStanding(EventPayload):
    """An agent's standing at a generation's end."""

    generation: int = described("the generation")
    resources: float = described("its resources")
    rank: int = described("its rank, richest first")
    survives: bool = described("it survives into the next generation")
    source: str = described("llm or rule")
    kind: str | None = described("a rule agent's strategy kind")
    share: float | None = described("a rule agent's share")
    threshold: float | None = described("a rule agent's reputation threshold")
    born: int = described("the generation it was born in")


@event_payload("action", "donor_replaced")
class DonorReplaced(EventPayload):
    """A slot a newcomer takes (logged before the old agent's state is overwritten)."""

    generation: int = described("the generation that ended")
    replaced_born: int = described("the replaced agent's generation of birth")
    replaced_resources: float = described("its resources")
    replaced_rank: int = described("its rank")
    parent: int | None = described("the survivor the newcomer copies, if any")
    mutated: bool | None = described("the copy mutated")


@event_payload("action", "donor_strategy")
class DonorStrategy(EventPayload):
    """A newcomer's strategy: a rule's kind, share and threshold, or an LLM's text."""

    generation: int = described("the generation it starts in")
    source: str = described("llm or rule")
    status: str = described("answered or failed")
    kind: str | None = described("a rule strategy's kind")
    share: float | None = described("a rule strategy's share")
    threshold: float | None = described("a rule strategy's reputation threshold")
    strategy: str | None = described("an LLM's strategy in words")
    shown: int = described("how many survivors' strategies the LLM was shown", ABSENT)
    error: str | None = described("why the answer failed, if it did")
