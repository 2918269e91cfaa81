"""The payloads the negotiation scenario logs: reservations, offers and outcomes."""

from __future__ import annotations

from socialsim.core.events import ABSENT, EventPayload, described, event_payload


@event_payload("action", "negotiation_reservation")
class NegotiationReservation(EventPayload):
    """An agent's reservation value, drawn at set-up."""

    mode: str = described("split or price")
    reservation: float = described("the value below (above, for a buyer) which it walks away")


@event_payload("action", "negotiation_offer")
class NegotiationOffer(EventPayload):
    """One offer (``target`` the other side)."""

    status: str = described("answered")
    negotiation: int = described("the negotiation's id")
    mode: str = described("split or price")
    turn: int = described("the turn it was made at")
    role: str = described("the mover's role: proposer, responder, seller or buyer")
    amount: float = described("the amount in the mover's own terms")
    y: float = described("the offer as the proposer's share (or the price)")
    position: float = described("where the offer sits between the reservations")
    source: str = described("llm or rule")
    allocation: list[float] = described("a multi-party proposal: the amount of each seat", ABSENT)


@event_payload("action", "negotiation_outcome")
class NegotiationOutcome(EventPayload):
    """How a negotiation ended: deal or not, the split and each side's surplus (null if failed)."""

    status: str = described("answered or failed")
    negotiation: int = described("the negotiation's id")
    mode: str = described("split or price")
    public: bool = described("the reservations were known to both sides")
    proposer: int = described("the proposing agent")
    responder: int = described("the responding agent")
    seller: int | None = described("the seller, in price mode")
    proposer_role: str | None = described("seller or buyer, in price mode")
    models: list[str] = described("the proposer's and responder's models")
    reservation_proposer: float = described("the proposer's reservation")
    reservation_responder: float = described("the responder's reservation")
    surplus: float = described("the room for a deal between the reservations")
    deal: bool | None = described("they agreed")
    ended_by: str | None = described("accept, reject or walk_away")
    ender: int | None = described("the agent that ended it")
    turns: int = described("turns taken")
    offers: int = described("offers made")
    y: float | None = described("the agreed offer")
    position: float | None = described("where the deal sits between the reservations")
    price: float | None = described("the agreed price, in price mode")
    proposer_amount: float | None = described("the proposer's amount, in split mode")
    responder_amount: float | None = described("the responder's amount, in split mode")
    surplus_proposer: float | None = described("the proposer's surplus")
    surplus_responder: float | None = described("the responder's surplus")
    below_reservation: bool | None = described("the deal is outside a reservation")
    error: str | None = described("why it failed, if it did")
    failed_turn: int | None = described("the turn whose answer failed")
    parties: int = described("parties at the table (2: bilateral)", ABSENT)
    members: list[int] | None = described("the parties in seat order (seat 0 opened)", ABSENT)
    reservations: list[float] | None = described("each seat's reservation value", ABSENT)
    allocation: list[float] | None = described("the deal: each seat's amount (split mode)", ABSENT)
    outcome_class: str | None = described(
        "authority, compromise or no_deal (null if failed)", ABSENT
    )
    adopted_from: int | None = described("the agent whose proposal became the deal", ABSENT)
    reflection: list[str] | None = described("each seat's reflection setting in effect", ABSENT)


@event_payload("action", "negotiation_reflection")
class NegotiationReflection(EventPayload):
    """A private reflection before a move (``reflect`` setting); shown to no other party."""

    status: str = described("answered or failed")
    negotiation: int = described("the negotiation's id")
    turn: int = described("the turn the reflection came before")
    text: str | None = described("the reflection (null if failed)")
    error: str | None = described("why it failed, if it did")
