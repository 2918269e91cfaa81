"""The donor game's books: who is paired with whom, what a round pays, and its log records.

:func:`settle` is the payoff arithmetic of one round, simultaneous for every donor: each
gives (or spends on punishment) its share of its resources at the start of the round; then
``after = before - given - cost + multiplier x gifts received - damage``, where damage is
``punishment_multiplier`` x the punishment spent on the agent, capped so that nobody goes
below 0. The ``log_*`` functions write the scenario's ``action`` events in one batch each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from socialsim.scenarios.donor_game.events import (
    DonorReplaced,
    DonorRound,
    DonorStanding,
    DonorStrategy,
)
from socialsim.scenarios.donor_game.rules import ACTIONS, GIVE, KINDS, NO_ACTION, PUNISH

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel


def pair_agents(
    rng: np.random.Generator, n: int, pairing: str, indptr: Any = None, indices: Any = None
) -> np.ndarray:
    """Each agent's recipient (-1: none): a seeded random cycle through all `n` agents
    (everyone gives once and receives once), or a uniformly drawn graph neighbour."""
    out = np.full(n, -1, dtype=np.int64)
    if pairing == "random":
        order = rng.permutation(n)
        out[order] = np.roll(order, -1)
        return out
    indptr, indices = np.asarray(indptr), np.asarray(indices)
    degree = np.diff(indptr)
    draws = rng.random(n)
    has = degree > 0
    pick = indptr[:-1] + np.minimum((draws * degree).astype(np.int64), np.maximum(degree - 1, 0))
    out[has] = indices[pick[has]]
    out[out == np.arange(n)] = -1
    return out


@dataclass
class Settlement:
    """One round's amounts: per donor (`given`, `cost`), per agent (the rest)."""

    given: np.ndarray
    cost: np.ndarray
    received: np.ndarray
    damage: np.ndarray
    before: np.ndarray
    after: np.ndarray


def settle(
    resources: np.ndarray,
    donors: np.ndarray,
    target: np.ndarray,
    action: np.ndarray,
    share: np.ndarray,
    multiplier: float,
    punishment_multiplier: float,
) -> Settlement:
    """The payoffs of one round; donors without an action (failed answers) move nothing."""
    n = len(resources)
    stake = np.nan_to_num(share) * np.maximum(resources[donors], 0.0)
    given = np.where(action == GIVE, stake, 0.0)
    cost = np.where(action == PUNISH, stake, 0.0)
    received = multiplier * np.bincount(target, weights=given, minlength=n)
    nominal = punishment_multiplier * np.bincount(target, weights=cost, minlength=n)
    spent = np.zeros(n)
    spent[donors] = given + cost
    gross = resources - spent + received
    damage = np.minimum(nominal, np.maximum(gross, 0.0))
    return Settlement(given, cost, received, damage, resources.copy(), gross - damage)


def names(codes: np.ndarray, table: tuple[str, ...]) -> list[str | None]:
    """Codes as names for the log; negative codes are null."""
    lookup = np.array([*table, None], dtype=object)
    return lookup[np.where(codes < 0, len(table), codes)].tolist()


def nullable(values: np.ndarray) -> np.ma.MaskedArray:
    """A float column whose NaNs are written as null."""
    return np.ma.masked_invalid(np.asarray(values, dtype=float))


def _column(values: list[Any]) -> Any:
    """A list whose entries are all equal as one value (written once, not per event)."""
    first = values[0] if values else None
    return first if all(v == first for v in values) else values


def _emit(model: SocialModel, agent: np.ndarray, payload: dict[str, Any], target=None) -> None:
    payload = {k: _column(v) if isinstance(v, list) else v for k, v in payload.items()}
    model.log.emit_many(
        "action", step=model.step_index, time=model.time, agent=agent, target=target,
        payload=payload,
    )  # fmt: skip
    model.recorder.count("action", len(agent))


def log_round(
    model: SocialModel,
    where: tuple[int, int],
    donors: np.ndarray,
    target: np.ndarray,
    action: np.ndarray,
    share: np.ndarray,
    paid: Settlement,
    reputation: np.ndarray | None,
    errors: list[str | None],
) -> None:
    """One ``donor_round`` per donor: its answer and what the round did to its resources."""
    answered = action != NO_ACTION
    _emit(
        model,
        donors,
        DonorRound(
            generation=where[0],
            round=where[1],
            status=np.where(answered, "answered", "failed").tolist(),
            action=names(action, ACTIONS),
            share=nullable(share),
            given=paid.given,
            cost=paid.cost,
            received=paid.received[donors],
            damage=paid.damage[donors],
            resources_before=paid.before[donors],
            resources_after=paid.after[donors],
            reputation=None if reputation is None else nullable(reputation),
            error=errors,
        ).as_payload(),
        target=target,
    )


def log_standings(model: SocialModel, generation: int, state: Any) -> None:
    """One ``donor_standing`` per agent at a generation's end."""
    _emit(
        model,
        np.arange(len(state.resources)),
        DonorStanding(
            generation=generation,
            resources=state.resources.copy(),
            rank=state.rank.copy(),
            survives=state.survives.copy(),
            source=np.where(state.llm, "llm", "rule").tolist(),
            kind=names(state.kind, KINDS),
            share=nullable(state.share),
            threshold=nullable(state.threshold),
            born=state.born.copy(),
        ).as_payload(),
    )


def log_replaced(
    model: SocialModel,
    generation: int,
    state: Any,
    dropped: np.ndarray,
    parent: np.ndarray,
    mutated: list[bool | None],
) -> None:
    """One ``donor_replaced`` per slot a newcomer takes (before its state is overwritten)."""
    _emit(
        model,
        dropped,
        DonorReplaced(
            generation=generation,
            replaced_born=state.born[dropped],
            replaced_resources=state.resources[dropped].copy(),
            replaced_rank=state.rank[dropped],
            parent=np.ma.masked_less(parent, 0),
            mutated=mutated,
        ).as_payload(),
    )


def log_rule_strategies(
    model: SocialModel, generation: int, state: Any, agents: np.ndarray
) -> None:
    """One ``donor_strategy`` per rule newcomer: its kind, share and threshold."""
    _emit(
        model,
        agents,
        DonorStrategy(
            generation=generation,
            source="rule",
            status="answered",
            kind=names(state.kind[agents], KINDS),
            share=state.share[agents],
            threshold=state.threshold[agents],
            strategy=None,
            error=None,
        ).as_payload(),
    )
