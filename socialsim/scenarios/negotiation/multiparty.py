"""Multi-party negotiations (3-6 parties): drawing tables, prompts, playing turns, logging.

Rules of a table are in :mod:`~socialsim.scenarios.negotiation.tables`. Each step draws
disjoint tables of ``parties`` present agents: ``pairs: random`` cuts a random order of
them into tables; ``pairs: edges`` visits agents in a random order and seats each unseated
one with ``parties - 1`` of its unseated neighbours drawn at random (an agent with too few
sits the step out). Turn t of every running table goes out as one ``model.ask`` batch
(after the batch of reflections, for agents that reflect). A party's reservation value is
its two-party draw scaled to the table: ``U(low, high) x pie x 2 / parties``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from socialsim.scenarios.collaboration.scenario import model_label
from socialsim.scenarios.negotiation.events import NegotiationOffer, NegotiationOutcome
from socialsim.scenarios.negotiation.prompts import SYSTEM, _fmt
from socialsim.scenarios.negotiation.reflection import (
    native_extra,
    reflect,
    setting_of,
    with_reflection,
)
from socialsim.scenarios.negotiation.rules import TIE
from socialsim.scenarios.negotiation.tables import Table, rule_move
from socialsim.simulation.queries import Answer, Question

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel

TABLE_TAG = "negotiation_table_v1"


class TableMove(BaseModel):
    """One turn at a table: propose an allocation, accept the standing one, or walk away."""

    action: Literal["propose", "accept", "walk_away"] = Field(
        ..., description="propose a split, accept the standing proposal, or walk_away (no deal)"
    )
    shares: list[float] = Field(
        default_factory=list, description="propose: the coins of each party, in seat order"
    )


def draw_tables(model: SocialModel, size: int, how: str, limit: int | None) -> list[list[int]]:
    """Disjoint tables of `size` present agents (members in drawn seat order)."""
    present = model.present
    tables: list[list[int]] = []
    if how == "random":
        ids = model.rng.permutation(np.flatnonzero(present)).tolist()
        tables = [ids[i : i + size] for i in range(0, len(ids) - size + 1, size)]
    else:
        free = present.copy()
        for i in model.rng.permutation(np.flatnonzero(present)).tolist():
            if not free[i]:
                continue
            near = [int(j) for j in model.network.neighbours(i) if j != i and free[j]]
            if len(near) < size - 1:
                continue
            chosen = model.rng.choice(near, size - 1, replace=False).tolist()
            members = [i, *chosen]
            free[members] = False
            tables.append([members[k] for k in model.rng.permutation(size).tolist()])
    return tables if limit is None else tables[:limit]


def table_prompt(
    names: list[str], seat: int, table: Table, turn: int, reflection: str | None = None
) -> str:
    """The prompt of one turn at a table, for the party at `seat`."""
    me, pie, n = names[seat], table.pie, table.n
    others = [x for k, x in enumerate(names) if k != seat]
    lines = [
        f"You ({me}) and {', '.join(others)} must agree how to split {_fmt(pie)} coins. A "
        "split needs everyone's acceptance; if you do not all agree, nobody gets anything.",
        f"Your reservation value is {_fmt(table.reservations[seat])}: never agree to keep "
        f"less than {_fmt(table.reservations[seat])} coins. The others do not know this number.",
    ]
    if table.public:
        lines += [
            f"{names[k]}'s reservation value is {_fmt(r)}."
            for k, r in enumerate(table.reservations)
            if k != seat
        ]
    order = ", ".join(f"{x} (you)" if k == seat else x for k, x in enumerate(names))
    lines += [f"Seat order, in which turns go round: {order}.", ""]
    if table.proposals:
        lines.append("Proposals so far:")
        for s, alloc in table.proposals:
            who = "You" if s == seat else names[s]
            parts = ", ".join(f"{names[k]} {_fmt(x)}" for k, x in enumerate(alloc))
            lines.append(f"{who} proposed: {parts}.")
        s, alloc = table.proposals[-1]
        maker = "your own" if s == seat else f"{names[s]}'s"
        lines.append(
            f"The standing proposal is {maker}: you would keep {_fmt(alloc[seat])}. "
            f"{table.accepted} of the {n - 1} acceptances it needs are in."
        )
    else:
        lines.append("You make the first proposal.")
    lines.append(f"This is turn {turn} of {table.max_turns}.")
    shares = ", ".join(f"<{x}>" for x in names)
    if turn > table.last_proposal_turn:
        lines.append(
            "No proposal can be accepted by all in time any more: answer "
            '{"action": "accept", "shares": []} or {"action": "walk_away", "shares": []}.'
        )
    else:
        accept = '{"action": "accept", "shares": []}, ' if table.proposals else ""
        lines.append(
            f'Answer {{"action": "propose", "shares": [{shares}]}} (coins of each party in seat '
            f"order, adding up to {_fmt(pie)}), {accept}"
            'or {"action": "walk_away", "shares": []}.'
        )
    text = "\n".join(lines)
    return text if reflection is None else with_reflection(text, reflection)


def check_table_move(move: TableMove, table: Table, turn: int) -> str | None:
    """Why a move cannot be played at `turn` (None when it can): nothing is repaired."""
    if move.action == "accept" and not table.proposals:
        return "accept with no proposal on the table"
    if move.action == "propose":
        if turn > table.last_proposal_turn:
            return f"a proposal after turn {table.last_proposal_turn} (only accept or walk_away)"
        if len(move.shares) != table.n:
            return f"a proposal of {len(move.shares)} shares for {table.n} parties"
        if not all(math.isfinite(x) and x >= 0 for x in move.shares):
            return f"a proposal with a share outside 0..{_fmt(table.pie)}"
        if abs(sum(move.shares) - table.pie) > 1e-3 * table.pie:
            return f"a proposal adding up to {_fmt(sum(move.shares))}, not {_fmt(table.pie)}"
    return None


def run_tables(scenario: Any, model: SocialModel, members: list[list[int]]) -> int:
    """Play this step's tables turn by turn and log their proposals and outcomes.

    `scenario` is the running negotiation scenario (its params, reservation values, arm and
    id counter); returns how many tables ran.
    """
    p = scenario.params
    tables = []
    for seats in members:
        scenario._next_id += 1
        res = [float(scenario.reservation[i]) for i in seats]
        tables.append(Table(scenario._next_id, p.pie, seats, res, scenario.is_control, p.max_turns))
    names = {i: model.persona_of(i).name for t in tables for i in t.members}
    for turn in range(1, p.max_turns + 1):
        live = [t for t in tables if not t.done]
        if not live:
            break
        prompts = {t.id: _prompt(model, t, turn, names) for t in live}
        asks = [
            (t.id, t.mover(turn), turn, prompts[t.id])
            for t in live
            if setting_of(model, p, t.mover(turn)) == "reflect"
        ]
        reflections = reflect(model, asks)
        for t in [t for t in live if reflections.get(t.id, (None, None))[1] is not None]:
            t.fail(turn, reflections[t.id][1] or "")
        live = [t for t in live if not t.done]
        questions = []
        for t in live:
            mover = t.mover(turn)
            text = reflections.get(t.id, (None, None))[0]
            prompt = prompts[t.id] if text is None else with_reflection(prompts[t.id], text)
            questions.append(
                Question(
                    agent_id=mover,
                    prompt=prompt,
                    schema=TableMove,
                    tag=TABLE_TAG,
                    fallback=_rule(t, turn, p.concession),
                    system=SYSTEM,
                    use_memory=False,
                    extra=native_extra(setting_of(model, p, mover), p.reasoning_effort),
                )
            )
        for t, answer in zip(live, model.ask(questions), strict=True):
            _play(model, t, turn, answer)
    for t in tables:
        _finish(scenario, model, t)
    return len(tables)


def _prompt(model: SocialModel, t: Table, turn: int, names: dict[int, str]) -> str:
    if not model.is_llm(t.mover(turn)):
        return ""
    return table_prompt([names[i] for i in t.members], t.seat(turn), t, turn)


def _rule(t: Table, turn: int, rate: float):
    def fallback() -> TableMove:
        action, shares = rule_move(t, turn, rate)
        return TableMove(action=action, shares=shares)

    return fallback


def _play(model: SocialModel, t: Table, turn: int, answer: Answer) -> None:
    if not answer.ok:
        t.fail(turn, answer.error or "no usable answer")
        return
    move = answer.value
    problem = check_table_move(move, t, turn)
    if problem is not None:
        t.fail(turn, problem)
        return
    t.turns = turn
    seat, mover = t.seat(turn), t.mover(turn)
    if move.action == "accept":
        t.accept(turn)
    elif move.action == "walk_away":
        t.walk_away(turn)
    else:
        t.propose(seat, move.shares)
        model.emit(
            "action",
            agent=mover,
            payload=NegotiationOffer(
                status="answered",
                negotiation=t.id,
                mode="split",
                turn=turn,
                role=f"seat {seat}",
                amount=move.shares[seat],
                y=move.shares[0],
                position=move.shares[0] / t.pie,
                source="llm" if model.is_llm(mover) else "rule",
                allocation=list(move.shares),
            ).as_payload(),
        )


def _finish(scenario: Any, model: SocialModel, t: Table) -> None:
    """Log the table's outcome; the deal fields are null when it failed or found no deal."""
    deal = t.deal
    alloc = t.proposals[-1][1] if deal else None
    y = alloc[0] if alloc else None
    res = t.reservations
    payload = NegotiationOutcome(
        status="failed" if deal is None else "answered",
        negotiation=t.id,
        mode="split",
        public=t.public,
        proposer=t.members[0],
        responder=t.members[1],
        seller=None,
        proposer_role=None,
        models=[model_label(model, i) for i in t.members],
        reservation_proposer=res[0],
        reservation_responder=res[1],
        surplus=t.pie - sum(res),
        deal=deal,
        ended_by=t.ended_by,
        ender=t.ender,
        turns=t.turns,
        offers=len(t.proposals),
        y=y,
        position=None if y is None else y / t.pie,
        price=None,
        proposer_amount=y,
        responder_amount=None if alloc is None else alloc[1],
        surplus_proposer=None if y is None else y - res[0],
        surplus_responder=None,
        below_reservation=None
        if alloc is None
        else any(x < r - TIE * t.pie for x, r in zip(alloc, res, strict=True)),
        error=t.error,
        failed_turn=t.failed_turn,
        parties=t.n,
        members=list(t.members),
        reservations=list(res),
        allocation=alloc,
        outcome_class=t.outcome(),
        adopted_from=t.members[t.proposals[-1][0]] if deal else None,
        reflection=[setting_of(model, scenario.params, i) for i in t.members],
    ).as_payload()
    model.emit("action", agent=t.members[0], payload=payload)
