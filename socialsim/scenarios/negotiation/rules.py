"""Alternating-offers bargaining: the common scale, the concession rule and its closed form.

:class:`Negotiation` holds one pair's state and converts between each side's own terms and
the common scale.

Every negotiation is read on one scale ``y`` in ``[0, pie]``: what the proposer (the side
that opens) gets. In ``split`` mode ``y`` is the proposer's part of the pie; in ``price``
mode it is the price when the seller opens and ``pie - price`` when the buyer opens. The
proposer needs ``y >= a`` and the responder ``y <= c`` (their reservation values on this
scale); a deal that leaves both at least their reservation exists when ``c >= a``, and
``c - a`` is the surplus to share.

The rule baseline concedes geometrically: a side whose ideal is ``h`` and whose
reservation is ``r`` makes, as its k-th offer (k = 0, 1, ...), ``r + (h - r) q**k`` with
``q = 1 - rate``; it accepts the standing offer when that is at least as good for it as the
offer it would make next. With the proposer's offers ``p_k`` (ideal ``H``) and the
responder's ``r_k`` (ideal ``L``), the responder accepts at its k-th reply when
``S q**k <= D`` with ``S = (H - a) + (c - L)`` and ``D = c - a``; the proposer accepts at
its k-th reply (k >= 1) when ``q**(k-1) ((c - L) + (H - a) q) <= D``. Turns alternate
(proposer on odd turns), so with ``k_R`` and ``k_P`` the first such replies the deal happens
at turn ``min(2 k_R + 2, 2 k_P + 1)``, at ``p_{k_R}`` or ``r_{k_P - 1}``, if that turn is
within the turn limit (the last turn allows no offer). There is never a deal when ``D < 0``
(the reservation values leave no overlap). Offers closer than ``TIE * pie`` count as equal,
so ``D`` is read as ``D + TIE * pie``: :func:`concession_outcome` gives the turn and the
deal point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

TIE = 1e-9  # offers closer than TIE * pie count as equal


def concession_offer(reservation: float, ideal: float, rate: float, k: int) -> float:
    """The k-th offer (k = 0 first) of a side that concedes `rate` of its remaining gap per offer.

    The opening offer is the ideal itself (no rounding through the reservation value).
    """
    if k == 0:
        return ideal
    return reservation + (ideal - reservation) * (1.0 - rate) ** k


def accepts(is_proposer: bool, standing: float, next_offer: float, pie: float) -> bool:
    """True when the standing offer is at least as good for the mover as its own next offer.

    Offers less than ``TIE * pie`` apart count as equal (floating-point rounding).
    """
    gain = standing - next_offer if is_proposer else next_offer - standing
    return gain >= -TIE * pie


def ideals(a: float, c: float, pie: float, public: bool) -> tuple[float, float]:
    """The opening offers (H for the proposer, L for the responder) on the ``y`` scale.

    With private reservation values each side opens at its own ideal (the whole range);
    when they are public each opens at the best the other side can accept, and never beyond
    its own reservation value.
    """
    if public:
        return max(a, c), min(a, c)
    return pie, 0.0


def first_crossing(scale: float, room: float, q: float) -> int | None:
    """The smallest k >= 0 with ``scale * q**k <= room`` (None when there is none)."""
    if room < 0:
        return None
    if scale <= room:
        return 0
    if q == 0.0:
        return 1
    if room == 0.0:
        return None
    k = max(1, math.ceil(math.log(room / scale) / math.log(q)))
    while scale * q**k > room:  # the logarithm may round either way at the boundary
        k += 1
    while k > 1 and scale * q ** (k - 1) <= room:
        k -= 1
    return k


@dataclass(frozen=True)
class RuleOutcome:
    """Where two concession rules end: a deal at `value` on turn `turn`, or none."""

    deal: bool
    turn: int | None  # the turn of the acceptance
    value: float | None  # the deal point on the y scale
    accepted_by: str | None  # "proposer" or "responder"


def concession_outcome(
    a: float, c: float, pie: float, rate: float, max_turns: int, public: bool = False
) -> RuleOutcome:
    """The closed form of two concession rules meeting (see the module docstring)."""
    high, low = ideals(a, c, pie, public)
    q = 1.0 - rate
    room = c - a + TIE * pie  # offers within TIE * pie of each other count as equal
    k_r = first_crossing((high - a) + (c - low), room, q)
    k_p = first_crossing((c - low) + (high - a) * q, room, q)
    candidates = []
    if k_r is not None:
        candidates.append((2 * k_r + 2, "responder", concession_offer(a, high, rate, k_r)))
    if k_p is not None:
        candidates.append((2 * k_p + 3, "proposer", concession_offer(c, low, rate, k_p)))
    if not candidates:
        return RuleOutcome(False, None, None, None)
    turn, who, value = min(candidates)
    if turn > max_turns:
        return RuleOutcome(False, None, None, None)
    return RuleOutcome(True, turn, value, who)


@dataclass
class Negotiation:
    """One bargaining pair and its state, on the y scale (what the proposer gets)."""

    id: int
    mode: str
    pie: float
    proposer: int
    responder: int
    seller: int | None
    reservations: tuple[float, float]  # proposer's, responder's, in their own terms
    public: bool
    offers: list[tuple[int, float]] = field(default_factory=list)  # (mover, y)
    turns: int = 0
    ended_by: str | None = None  # "accept" or "walk_away"
    ender: int | None = None
    error: str | None = None
    failed_turn: int | None = None
    done: bool = False

    def to_y(self, agent: int, amount: float) -> float:
        """An amount in `agent`'s terms (what it keeps; the price) on the y scale."""
        if self.mode == "split":
            return amount if agent == self.proposer else self.pie - amount
        return amount if self.proposer == self.seller else self.pie - amount

    def amount(self, agent: int, y: float) -> float:
        """A point of the y scale in `agent`'s terms."""
        return self.to_y(agent, y)  # both conversions are their own inverse

    @property
    def a(self) -> float:
        """The proposer's reservation value on the y scale (it needs y >= a)."""
        return self.to_y(self.proposer, self.reservations[0])

    @property
    def c(self) -> float:
        """The responder's reservation value on the y scale (it needs y <= c)."""
        return self.to_y(self.responder, self.reservations[1])

    def mover(self, turn: int) -> int:
        """Who moves at `turn` (1-based): the proposer on odd turns."""
        return self.proposer if turn % 2 else self.responder

    def position(self, y: float) -> float:
        """Where a point lies on [0, 1]: the proposer's share (split), price / pie (price)."""
        if self.mode == "split":
            return y / self.pie
        return self.amount(self.seller, y) / self.pie

    def fail(self, turn: int, error: str) -> None:
        """Stop at an unusable answer; the outcome fields stay null."""
        self.error, self.failed_turn, self.done = error, turn, True
