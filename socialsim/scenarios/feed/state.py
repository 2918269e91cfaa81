"""The feed's state as agents x items arrays: what is in whose feed, what was seen, and when.

Per (agent, item): in the feed, seen, the step it last arrived (posted or reshared to the
agent) and how often neighbours reshared it; per (agent, claim): exposures so far; per item:
acceptances and reshares. One step (:meth:`FeedState.select`) ranks every unseen item of
every present agent's feed and keeps the ``k`` best: no Python object per exposure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from socialsim.scenarios.feed.rankings import FeedView, Ranking

#: most agents x items cells a run may hold (about 35 bytes each while a step is ranked)
MAX_CELLS = 30_000_000


@dataclass
class Exposures:
    """One step's exposures, one entry per (agent, item) shown: agent, item, rank, index."""

    agent: np.ndarray
    item: np.ndarray
    rank: np.ndarray
    exposure: np.ndarray

    def __len__(self) -> int:
        return len(self.agent)


def occurrence(keys: np.ndarray) -> np.ndarray:
    """For each entry, how many earlier entries have the same key (0 for the first)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    within = np.arange(len(keys)) - np.repeat(starts, sizes)
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = within
    return out


def _read_only(array: np.ndarray) -> np.ndarray:
    """A view of `array` that cannot be written through (what a ranking is handed)."""
    view = array.view()
    view.flags.writeable = False
    return view


def listeners_of(indptr: np.ndarray, indices: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) whose row a lists the agents that listen to a: the transpose of
    whom each agent listens to (``Network.indptr`` / ``indices``)."""
    indptr, indices = np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    order = np.argsort(indices, kind="stable")
    counts = np.bincount(indices, minlength=n)
    return np.r_[0, np.cumsum(counts)].astype(np.int64), rows[order]


class FeedState:
    """Who has which item in the feed, what each agent saw, and each item's counts."""

    def __init__(
        self,
        n_agents: int,
        posted: np.ndarray,
        n_claims: int,
        listeners: tuple[np.ndarray, np.ndarray],
    ):
        n_items = len(posted)
        self.posted = np.asarray(posted, dtype=np.int32)
        self.in_feed = np.zeros((n_agents, n_items), dtype=bool)
        self.seen = np.zeros((n_agents, n_items), dtype=bool)
        self.arrival = np.full((n_agents, n_items), -1, dtype=np.int32)
        self.shared_by = np.zeros((n_agents, n_items), dtype=np.int32)
        self.exposures = np.zeros((n_agents, n_claims), dtype=np.int32)
        self.accepts = np.zeros(n_items, dtype=np.int64)
        self.shares = np.zeros(n_items, dtype=np.int64)
        self.listeners = listeners

    @property
    def n_agents(self) -> int:
        """Agents."""
        return self.in_feed.shape[0]

    def post(
        self, items: np.ndarray, posters: np.ndarray, step: int, audience: float,
        rng: np.random.Generator,
    ) -> np.ndarray:  # fmt: skip
        """Put `items` in the feeds of a seeded `audience` share of agents and of each poster's
        listeners (a poster does not see its own post); the feeds each reached."""
        if not len(items):
            return np.zeros(0, dtype=np.int64)
        reached = rng.random((self.n_agents, len(items))) < audience
        by_agent = np.flatnonzero(posters >= 0)
        if len(by_agent):
            rows, cols = self._spread(posters[by_agent], by_agent)
            reached[rows, cols] = True
            reached[posters[by_agent], by_agent] = False
            self.seen[posters[by_agent], items[by_agent]] = True
        self.in_feed[:, items] |= reached
        arrival = self.arrival[:, items]
        arrival[reached] = step
        self.arrival[:, items] = arrival
        return reached.sum(axis=0)

    def _spread(self, sharers: np.ndarray, what: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(listener, what) pairs: every listener of each sharer, with that sharer's `what`."""
        ptr, idx = self.listeners
        starts, counts = ptr[sharers], ptr[sharers + 1] - ptr[sharers]
        total = int(counts.sum())
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        return idx[np.repeat(starts, counts) + offsets], np.repeat(what, counts)

    def select(
        self, ranking: Ranking, params: BaseModel, k: int, step: int, present: np.ndarray,
        rng: np.random.Generator,
    ) -> Exposures:  # fmt: skip
        """The `k` best-ranked unseen items in each present agent's feed (fewer if it has
        fewer), best first, with each exposure's index for its agent and claim (`claim_of`
        is applied by :meth:`count`)."""
        m = int(np.searchsorted(self.posted, step, side="right"))  # items posted so far
        view = FeedView(
            step=step,
            arrival=_read_only(self.arrival[:, :m]),
            shared_by_neighbours=_read_only(self.shared_by[:, :m]),
            accepts=_read_only(self.accepts[:m]),
            shares=_read_only(self.shares[:m]),
            posted=_read_only(self.posted[:m]),
        )
        scores = np.asarray(ranking(view, params, rng), dtype=np.float64) + rng.random(view.shape)
        candidate = self.in_feed[:, :m] & ~self.seen[:, :m] & present[:, None]
        scores[~candidate] = -np.inf
        kk = min(k, m)
        if kk == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Exposures(empty, empty, empty, empty)
        best = (
            np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
            if kk < m
            else np.tile(np.arange(m), (len(scores), 1))
        )
        top = np.take_along_axis(scores, best, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        best = np.take_along_axis(best, order, axis=1)
        shown = np.isfinite(np.take_along_axis(top, order, axis=1))
        agent, place = np.nonzero(shown)
        item = best[agent, place]
        return Exposures(agent, item, place + 1, np.zeros(len(agent), dtype=np.int64))

    def count(self, shown: Exposures, claim_of: np.ndarray) -> None:
        """Mark `shown` seen and number each exposure for its agent and claim (1, 2, ...)."""
        claim = claim_of[shown.item].astype(np.int64)
        before = self.exposures[shown.agent, claim]
        shown.exposure = before + 1 + occurrence(shown.agent * self.exposures.shape[1] + claim)
        np.add.at(self.exposures, (shown.agent, claim), 1)
        self.seen[shown.agent, shown.item] = True

    def answered(
        self, shown: Exposures, accepted: np.ndarray, reshared: np.ndarray, step: int
    ) -> None:
        """Count acceptances per item and put reshared items in the resharers' listeners' feeds."""
        np.add.at(self.accepts, shown.item[accepted], 1)
        sharers, items = shown.agent[reshared], shown.item[reshared]
        np.add.at(self.shares, items, 1)
        if not len(sharers):
            return
        rows, cols = self._spread(sharers, items)
        self.in_feed[rows, cols] = True
        self.arrival[rows, cols] = step
        np.add.at(self.shared_by, (rows, cols), 1)
