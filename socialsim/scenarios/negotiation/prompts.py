"""What a negotiating agent is asked each turn, and how its answer is checked.

The prompt shows the task (a split of a pie, or a price between a seller and a buyer), the
agent's own reservation value, the offers so far from the agent's side, and the moves open
to it. The other side's reservation value is shown only when reservation values are public
(the control arm). :func:`check_move` turns an answer into a move on the common ``y``
scale, or says why the answer cannot be used; nothing is guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

SYSTEM = (
    "You are negotiating on your own behalf. Think about what you can get, answer with the "
    "JSON object asked for and nothing else."
)
TAG = "negotiation_turn_v1"


class Move(BaseModel):
    """One turn of a negotiation: an offer, an acceptance or walking away."""

    action: Literal["offer", "accept", "walk_away"] = Field(
        ..., description="offer, accept the last offer, or walk_away (no deal)"
    )
    amount: float = Field(
        ..., description="split: what you keep; price: the price (ignored unless you offer)"
    )


class RuleMove(Move):
    """A move of the concession rule, which also states its offer on the common y scale."""

    y: float = 0.0


@dataclass
class Seat:
    """One side as the prompt describes it: who it is and what it knows."""

    name: str
    other: str
    is_proposer: bool
    role: str  # "proposer" / "responder" (split), "seller" / "buyer" (price)
    reservation: float  # in the side's own terms: least it keeps, least price, most price
    other_reservation: float | None  # shown when reservation values are public


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def describe_offer(mode: str, other: str, amount: float, pie: float, mine: bool) -> str:
    """One line of the offer history, from the reader's side (`amount` in the mover's terms)."""
    who, receiver = ("You", other) if mine else (other, "you")
    if mode == "split":
        rest = _fmt(pie - amount)
        return f"{who} offered to keep {_fmt(amount)} ({receiver} would get {rest})."
    return f"{who} offered a price of {_fmt(amount)}."


def _who_knows(seat: Seat) -> str:
    """Whether the other side knows this seat's reservation value: not in the treatment
    (values private); in the control arm each side is told the other's, so it does."""
    if seat.other_reservation is None:
        return f"{seat.other} does not know this number."
    return f"{seat.other} is told this number too, as you are told theirs."


def turn_prompt(
    mode: str,
    seat: Seat,
    pie: float,
    history: list[tuple[bool, float]],
    turn: int,
    max_turns: int,
) -> str:
    """The prompt of one turn: task, own reservation value, offers so far, allowed moves.

    `history` holds (made by this seat, amount in the mover's terms) per earlier offer.
    """
    if mode == "split":
        lines = [
            f"You and {seat.other} must agree how to split {_fmt(pie)} coins. If you do not "
            "agree, nobody gets anything.",
            f"Your reservation value is {_fmt(seat.reservation)}: never agree to keep less "
            f"than {_fmt(seat.reservation)} coins. {_who_knows(seat)}",
        ]
        if seat.other_reservation is not None:
            lines.append(
                f"{seat.other}'s reservation value is {_fmt(seat.other_reservation)}: "
                f"{seat.other} will not keep less than that."
            )
        unit = "amount = the coins you keep"
    else:
        if seat.role == "seller":
            own = f"never sell for less than {_fmt(seat.reservation)}"
            theirs = "will not pay more than"
        else:
            own = f"never pay more than {_fmt(seat.reservation)}"
            theirs = "will not sell for less than"
        lines = [
            f"You are the {seat.role} of an item and negotiate its price with {seat.other}. "
            f"Prices run from 0 to {_fmt(pie)}. Without agreement there is no sale.",
            f"Your reservation value is {_fmt(seat.reservation)}: {own}. {_who_knows(seat)}",
        ]
        if seat.other_reservation is not None:
            lines.append(
                f"{seat.other}'s reservation value is {_fmt(seat.other_reservation)}: "
                f"{seat.other} {theirs} {_fmt(seat.other_reservation)}."
            )
        unit = "amount = the price"
    lines.append("")
    if history:
        lines.append("Offers so far:")
        lines += [describe_offer(mode, seat.other, x, pie, mine) for mine, x in history]
        last_mine, last = history[-1]
        if not last_mine:
            you_get = pie - last if mode == "split" else last
            what = f"you keep {_fmt(you_get)}" if mode == "split" else f"the price is {_fmt(last)}"
            lines.append(f"If you accept {seat.other}'s last offer, {what}.")
    else:
        lines.append("You make the first offer.")
    lines.append(f"This is turn {turn} of {max_turns}.")
    if turn >= max_turns:
        lines.append(
            'This is the last turn: answer {"action": "accept", "amount": 0} to take the last '
            'offer or {"action": "walk_away", "amount": 0} to end without a deal.'
        )
    elif history:
        lines.append(
            f'Answer {{"action": "offer", "amount": <number>}} ({unit}), '
            '{"action": "accept", "amount": 0} or {"action": "walk_away", "amount": 0}.'
        )
    else:
        lines.append(
            f'Answer {{"action": "offer", "amount": <number>}} ({unit}) '
            'or {"action": "walk_away", "amount": 0}.'
        )
    return "\n".join(lines)


def check_move(move: Move, has_standing: bool, last_turn: bool, pie: float) -> str | None:
    """Why a move cannot be played (None when it can): nothing is repaired or guessed."""
    if move.action == "accept" and not has_standing:
        return "accept with no offer on the table"
    if move.action == "offer":
        if last_turn:
            return "an offer on the last turn (only accept or walk_away)"
        if not math.isfinite(move.amount) or not 0.0 <= move.amount <= pie:
            return f"offer {move.amount!r} outside 0..{_fmt(pie)}"
    return None
