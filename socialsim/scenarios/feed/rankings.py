"""Ranking policies: which items each agent sees in its feed at a step, registered by name.

A ranking scores every (agent, item) pair; each agent sees the ``k`` highest-scoring items
it has in its feed and has not seen yet (the scenario masks the rest). Scores are floats,
higher first; ties are broken by a seeded random draw the scenario adds below one unit, so a
ranking gives whole numbers where order within a tie should be random. A ranking draws only
from the generator it is handed (the model's seeded one), so a run is the same for a seed.

    from socialsim.scenarios.feed import register_ranking

    @register_ranking("newest_from_friends")
    def newest_from_friends(feed, params, rng):
        return feed.arrival + 100.0 * (feed.shared_by_neighbours > 0)

Built in: ``recency`` (the latest arrival in the agent's feed first: posting or a
neighbour's reshare), ``popularity`` (the most accepted so far, by anyone, first) and
``random``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from socialsim.core.registry import Registry
from socialsim.core.validation import choices, shown


@dataclass(frozen=True)
class FeedView:
    """What a ranking may read: agents x items arrays and per-item counts (read-only)."""

    step: int
    #: step each item last arrived in each agent's feed (posted or reshared to it), -1 never
    arrival: np.ndarray
    #: times a neighbour reshared each item to each agent
    shared_by_neighbours: np.ndarray
    #: per item: how many exposures so far ended in acceptance
    accepts: np.ndarray
    #: per item: how many times it was reshared
    shares: np.ndarray
    #: per item: the step it was posted
    posted: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """(agents, items)."""
        return self.arrival.shape


#: ``fn(feed, params, rng) -> scores``: an (agents, items) float array, higher first
Ranking = Callable[[FeedView, BaseModel, np.random.Generator], np.ndarray]


class RankingRegistry(Registry):
    """The ranking policies by name; the built-ins load on first use."""

    def unknown(self, name: object) -> str:
        """The one-line error for a ranking that is not registered."""
        return (
            f"scenario.params.ranking: {shown(name)} is not one of {choices(self.names(), name)} "
            "(register your own with socialsim.scenarios.feed.register_ranking)"
        )


RANKINGS = RankingRegistry("ranking", "scenario.params.ranking", ())


def register_ranking(
    name: str, *, params: type[BaseModel] | None = None
) -> Callable[[Ranking], Ranking]:
    """Function decorator: a ranking ``fn(feed, params, rng) -> scores`` for ``ranking: name``."""

    def deco(fn: Ranking) -> Ranking:
        RANKINGS.add(name, fn, params)
        return fn

    return deco


@register_ranking("recency")
def recency(feed: FeedView, params: BaseModel, rng: np.random.Generator) -> np.ndarray:
    """Newest arrival in the agent's feed first (posted or reshared to it)."""
    return feed.arrival.astype(np.float64)


@register_ranking("popularity")
def popularity(feed: FeedView, params: BaseModel, rng: np.random.Generator) -> np.ndarray:
    """Most accepted so far first (by every agent), the same order for everyone."""
    return np.broadcast_to(feed.accepts.astype(np.float64), feed.shape)


@register_ranking("random")
def random_order(feed: FeedView, params: BaseModel, rng: np.random.Generator) -> np.ndarray:
    """A seeded random order (the tie-break alone)."""
    return np.zeros(feed.shape)
