"""The follow graph a network-growth run grows, and the attachment rules that choose followees.

:class:`FollowGraph` holds who follows whom (directed: follower -> followee) with follower
counts, and gives the edges as an array for ``SocialModel.set_edges``. The rules
(:func:`attachment_weights`, :func:`pick_weighted`, :func:`pick_from_all`) are pure
functions of the follower counts and a generator: ``preferential`` weighs a candidate by
followers + 1 (Price 1976; Barabasi and Albert 1999), ``uniform`` weighs every candidate the
same, and ``homophilous`` weighs a candidate that shares the chooser's persona attribute by
``homophily_weight`` and any other by 1.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Attachment = Literal["preferential", "uniform", "homophilous"]


class FollowGraph:
    """Who follows whom among `n` agents: follower counts and the live follow edges."""

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self.followers = np.zeros(self.n, dtype=np.int64)
        self.followees: list[set[int]] = [set() for _ in range(self.n)]
        self._src: list[int] = []
        self._dst: list[int] = []
        self._alive: list[bool] = []
        self._index: dict[tuple[int, int], int] = {}

    def follows(self, a: int, b: int) -> bool:
        """True when `a` follows `b`."""
        return b in self.followees[a]

    def follow(self, a: int, b: int) -> bool:
        """`a` follows `b`; False (nothing changes) when it already does or a == b."""
        if a == b or b in self.followees[a]:
            return False
        self.followees[a].add(b)
        self.followers[b] += 1
        self._index[(a, b)] = len(self._src)
        self._src.append(a)
        self._dst.append(b)
        self._alive.append(True)
        return True

    def unfollow(self, a: int, b: int) -> bool:
        """`a` stops following `b`; False when it did not follow."""
        if b not in self.followees[a]:
            return False
        self.followees[a].discard(b)
        self.followers[b] -= 1
        self._alive[self._index.pop((a, b))] = False
        return True

    @property
    def n_edges(self) -> int:
        """Number of live follow edges."""
        return len(self._index)

    def edges(self) -> np.ndarray:
        """The live follow edges as an (m, 2) array (follower, followee), in the order made."""
        src = np.asarray(self._src, dtype=np.int64)
        dst = np.asarray(self._dst, dtype=np.int64)
        alive = np.asarray(self._alive, dtype=bool)
        return np.column_stack([src[alive], dst[alive]]) if len(src) else np.zeros((0, 2), np.int64)


def attachment_weights(
    rule: Attachment,
    followers: np.ndarray,
    candidates: np.ndarray,
    codes: np.ndarray | None = None,
    chooser: int | None = None,
    homophily_weight: float = 1.0,
) -> np.ndarray:
    """Each candidate's weight under `rule` (followers: counts for every agent).

    ``preferential``: followers + 1; ``uniform``: 1; ``homophilous``: `homophily_weight`
    when the candidate's attribute code equals the chooser's, else 1.
    """
    if rule == "preferential":
        return followers[candidates].astype(float) + 1.0
    if rule == "homophilous" and codes is not None and chooser is not None:
        return np.where(codes[candidates] == codes[chooser], float(homophily_weight), 1.0)
    return np.ones(len(candidates))


def pick_weighted(
    rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int
) -> np.ndarray:
    """Up to `k` distinct candidates drawn without replacement, each draw by weight.

    Efraimidis and Spirakis (2006): the `k` largest keys ``log(u) / w`` are a weighted draw
    without replacement. Candidates of weight 0 are never drawn; fewer than `k` come back
    when fewer have a positive weight.
    """
    positive = weights > 0
    candidates, weights = candidates[positive], weights[positive]
    k = min(int(k), len(candidates))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.log(rng.random(len(candidates))) / weights
    top = np.argpartition(-keys, k - 1)[:k] if k < len(candidates) else np.arange(k)
    return np.sort(candidates[top])


def sample_ids(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """`k` distinct ids drawn uniformly from 0..n-1 (all of them, shuffled, when k >= n).

    Draws with replacement and drops repeats, so a small sample of a large population
    costs O(k), not O(n).
    """
    if n <= 4 * k:
        return rng.permutation(n)[:k]
    seen: dict[int, None] = {}
    while len(seen) < k:
        seen.update(dict.fromkeys(rng.integers(n, size=2 * k).tolist()))
    return np.fromiter(seen, dtype=np.int64, count=len(seen))[:k]


def pick_from_all(
    rng: np.random.Generator,
    cumulative: np.ndarray,
    k: int,
    exclude: set[int],
) -> np.ndarray:
    """Up to `k` distinct agents 0..len(cumulative)-1 by weight, none of `exclude`.

    `cumulative` is the running sum of the weights of every agent that may be drawn
    (``np.cumsum(weights)``), computed once for many choosers; each draw is a binary
    search, and drawn agents that are excluded or already drawn are drawn again. When few
    agents are left to draw from, it draws exactly from what is left.
    """
    n = len(cumulative)
    left = n - len(exclude)
    k = min(int(k), max(left, 0))
    if k <= 0 or not n or cumulative[-1] <= 0:
        return np.zeros(0, dtype=np.int64)
    if left <= 4 * k:
        keep = np.ones(n, dtype=bool)
        keep[[e for e in exclude if e < n]] = False
        pool = np.flatnonzero(keep)
        return pick_weighted(rng, pool, np.diff(cumulative, prepend=0.0)[pool], k)
    chosen: list[int] = []
    for _ in range(50):
        draws = np.searchsorted(cumulative, rng.random(2 * k) * cumulative[-1], side="right")
        for d in draws.tolist():
            if d < n and d not in exclude and d not in chosen:
                chosen.append(d)
                if len(chosen) == k:
                    return np.asarray(chosen, dtype=np.int64)
    return np.asarray(chosen, dtype=np.int64)


def weakest_followee(
    rng: np.random.Generator,
    rule: Attachment,
    followers: np.ndarray,
    followees: np.ndarray,
    codes: np.ndarray | None = None,
    chooser: int | None = None,
    homophily_weight: float = 1.0,
) -> int | None:
    """The followee a rule drops first: the lowest attachment weight, ties drawn at random."""
    if not len(followees):
        return None
    w = attachment_weights(rule, followers, followees, codes, chooser, homophily_weight)
    lowest = followees[w == w.min()]
    return int(lowest[int(rng.integers(len(lowest)))])
