"""Multi-party tables: seats, turn order, unanimity, the concession rule, and outcome classes.

A table of ``n`` parties (2-6) splits ``pie`` coins. Seats are drawn at random; seat 0
opens and turns go round the table in seat order (turn ``t`` is seat ``(t - 1) mod n``).
A proposal is an allocation, one amount per seat, adding up to ``pie``. On its turn a party
proposes (the new proposal becomes the standing one, with no acceptance yet), accepts the
standing proposal, or walks away (no deal for anyone). The acceptance rule is unanimity: the
standing proposal is the deal once each of the other ``n - 1`` parties has accepted it, in
turn. The deadline is ``max_turns``: a proposal made after turn ``max_turns - (n - 1)``
could not be accepted by all in time, so from then on only accept or walk away is allowed.
With ``n = 2`` this is the bilateral alternating-offers game.

The rule baseline generalises the bilateral concession rule: a party's k-th proposal keeps
``r + (h - r) q**k`` for itself (``r`` its reservation value, ``h`` its ideal: ``pie``
when reservation values are private, ``max(r, pie - sum of the others' r)`` when public,
``q = 1 - concession``); every other party gets what the proposer knows it needs (its
reservation value when public, 0 when private) plus an equal share of the rest. It accepts
a standing proposal that gives it at least what it would keep in its own next proposal.

Outcome classes (:func:`outcome_class`): an **authority** decision is a deal on a proposal
adopted unchanged from its maker's opening proposal (the maker never conceded, the others
took its first word); a **compromise** is a deal on a proposal its maker made after
revising its opening one; **no_deal** is a walk-away. A failed negotiation has no class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from socialsim.scenarios.negotiation.rules import TIE, concession_offer

CLASSES = ("authority", "compromise", "no_deal")


def outcome_class(
    deal: bool | None, adopted: list[float] | None, opening: list[float] | None, pie: float
) -> str | None:
    """authority, compromise or no_deal (None for a failed negotiation).

    `adopted` is the proposal the deal took, `opening` its maker's first proposal (both as
    allocations, or one-number lists on the bilateral scale); equal within ``TIE * pie``.
    """
    if deal is None:
        return None
    if not deal:
        return "no_deal"
    if adopted is None or opening is None:
        raise ValueError("a deal needs its adopted proposal and its maker's opening one")
    same = len(adopted) == len(opening) and all(
        abs(x - y) <= TIE * pie for x, y in zip(adopted, opening, strict=True)
    )
    return "authority" if same else "compromise"


def rule_ideal(seat: int, reservations: list[float], pie: float, public: bool) -> float:
    """What a rule party keeps in its opening proposal (the whole pie when values are private)."""
    if not public:
        return pie
    others = sum(reservations) - reservations[seat]
    return max(reservations[seat], pie - others)


def rule_proposal(
    seat: int, reservations: list[float], pie: float, public: bool, rate: float, k: int
) -> list[float]:
    """The k-th proposal (k = 0 first) of the rule party at `seat`, as an allocation by seat."""
    n = len(reservations)
    keep = concession_offer(
        reservations[seat], rule_ideal(seat, reservations, pie, public), rate, k
    )
    known = [0.0 if (j == seat or not public) else reservations[j] for j in range(n)]
    rest = (pie - keep - sum(known)) / (n - 1)
    return [keep if j == seat else known[j] + rest for j in range(n)]


@dataclass
class Table:
    """One multi-party negotiation and its state (amounts by seat)."""

    id: int
    pie: float
    members: list[int]  # agent ids in seat order: seat 0 opens
    reservations: list[float]  # least amount each seat keeps
    public: bool
    max_turns: int
    proposals: list[tuple[int, list[float]]] = field(default_factory=list)  # (seat, allocation)
    accepted: int = 0  # acceptances of the standing proposal so far
    turns: int = 0
    ended_by: str | None = None  # "accept" (unanimity reached) or "walk_away"
    ender: int | None = None
    error: str | None = None
    failed_turn: int | None = None
    done: bool = False

    @property
    def n(self) -> int:
        """Parties at the table."""
        return len(self.members)

    def seat(self, turn: int) -> int:
        """The seat that moves at `turn` (1-based): turns go round in seat order."""
        return (turn - 1) % self.n

    def mover(self, turn: int) -> int:
        """The agent that moves at `turn`."""
        return self.members[self.seat(turn)]

    @property
    def last_proposal_turn(self) -> int:
        """The last turn a proposal can still be accepted by all before the deadline."""
        return self.max_turns - (self.n - 1)

    @property
    def standing(self) -> tuple[int, list[float]] | None:
        """(seat, allocation) of the standing proposal, None before the first one."""
        return self.proposals[-1] if self.proposals else None

    def made_by(self, seat: int) -> int:
        """How many proposals `seat` has made."""
        return sum(1 for s, _ in self.proposals if s == seat)

    def propose(self, seat: int, allocation: list[float]) -> None:
        """A new standing proposal, with no acceptance yet."""
        self.proposals.append((seat, list(allocation)))
        self.accepted = 0

    def accept(self, turn: int) -> None:
        """One more acceptance; the deal when every other party has accepted."""
        self.accepted += 1
        if self.accepted == self.n - 1:
            self.ended_by, self.ender, self.done = "accept", self.mover(turn), True

    def walk_away(self, turn: int) -> None:
        """No deal for anyone."""
        self.ended_by, self.ender, self.done = "walk_away", self.mover(turn), True

    def fail(self, turn: int, error: str) -> None:
        """Stop at an unusable answer; the outcome fields stay null."""
        self.error, self.failed_turn, self.done = error, turn, True

    @property
    def deal(self) -> bool | None:
        """Whether the table agreed (None when it failed)."""
        return None if self.error is not None else self.ended_by == "accept"

    def opening_of(self, seat: int) -> list[float] | None:
        """The first proposal `seat` made."""
        return next((a for s, a in self.proposals if s == seat), None)

    def outcome(self) -> str | None:
        """The table's outcome class (see :func:`outcome_class`)."""
        if not self.deal:
            return outcome_class(self.deal, None, None, self.pie)
        seat, adopted = self.proposals[-1]
        return outcome_class(True, adopted, self.opening_of(seat), self.pie)


def rule_move(table: Table, turn: int, rate: float) -> tuple[str, list[float]]:
    """The rule party's move at `turn`: ("accept" | "walk_away" | "propose", allocation)."""
    seat = table.seat(turn)
    k = table.made_by(seat)
    nxt = rule_proposal(seat, table.reservations, table.pie, table.public, rate, k)
    standing = table.standing
    if standing is not None and standing[1][seat] - nxt[seat] >= -TIE * table.pie:
        return "accept", []
    if turn > table.last_proposal_turn:
        return "walk_away", []
    return "propose", nxt
