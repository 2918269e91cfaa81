"""The feed's items: claims of the library in framings and source styles, as numpy columns.

Item ``j`` shows claim ``claims[claim[j]]`` in framing ``framings[framing[j]]`` and source
style ``sources[source[j]]``, in the claim's true or manipulated version, posted at step
``posted[j]`` by agent ``poster[j]`` (-1: the scenario). Items are made by
:func:`make_items`: item ``p`` shows claim ``p mod C`` in framing ``(p mod C + p div C) mod F``
(every claim once per round of ``C`` items, the framings balanced in each round, each claim
in every framing once in ``F`` rounds), until there are ``n_items``, then shuffled. The
source style of each item, which claims are shown in their manipulated version and which
items an agent posts are seeded draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from socialsim.core.claims import FRAMINGS, SOURCE_STYLES, LibraryClaim
from socialsim.scenarios.feed.params import NEUTRAL, PLAIN, FeedParams


@dataclass
class FeedItems:
    """Every item of a run as columns (one entry per item) and the tables the codes index."""

    claims: list[LibraryClaim]
    framings: list[str]
    sources: list[str]
    claim: np.ndarray  # int32 code into claims
    framing: np.ndarray  # int8 code into framings
    source: np.ndarray  # int8 code into sources
    manipulated: np.ndarray  # bool: the manipulated version is shown
    posted: np.ndarray  # int32 step posted
    poster: np.ndarray  # int32 agent, -1 for the scenario

    def __len__(self) -> int:
        return len(self.claim)

    def statement(self, j: int) -> str:
        """The version of item j's claim it shows."""
        claim = self.claims[int(self.claim[j])]
        return claim.manipulated_statement if self.manipulated[j] else claim.true_statement

    def text(self, j: int, neutral: bool = False) -> str:
        """Item j as a post reads (`neutral`: the plain statement, as the control arm shows it)."""
        if neutral:
            return self.statement(j)
        return item_text(
            self.statement(j), self.framings[self.framing[j]], self.sources[self.source[j]]
        )


def item_text(statement: str, framing: str, source_style: str) -> str:
    """A statement in a framing (``neutral``: none) and a source style (``plain``: none)."""
    inner = statement if framing == NEUTRAL else FRAMINGS[framing][0].format(s=statement)
    return inner if source_style == PLAIN else SOURCE_STYLES[source_style][0].format(t=inner)


def make_items(
    claims: list[LibraryClaim],
    params: FeedParams,
    steps: int,
    n_agents: int,
    rng: np.random.Generator,
) -> FeedItems:
    """``params.n_items`` items of `claims` (see the module), posted over `steps` steps.

    A share ``params.agent_posts`` of them is posted by a random one of `n_agents` agents.
    """
    n = params.n_items
    framings, sources = list(params.framings), list(params.source_styles)
    p, order = np.arange(n), rng.permutation(n)
    claim = (p % len(claims))[order].astype(np.int32)
    framing = ((p % len(claims) + p // len(claims)) % len(framings))[order].astype(np.int8)
    source = rng.integers(0, len(sources), n).astype(np.int8)
    manipulated_claims = rng.random(len(claims)) < params.manipulated_share
    if params.posting == "start":
        posted = np.ones(n, dtype=np.int32)
    else:
        posted = (1 + (np.arange(n) * steps) // n).astype(np.int32)
    by_agent = rng.random(n) < params.agent_posts
    agent = rng.integers(0, max(n_agents, 1), n)
    poster = np.where(by_agent & (n_agents > 0), agent, -1).astype(np.int32)
    return FeedItems(
        claims=claims,
        framings=framings,
        sources=sources,
        claim=claim,
        framing=framing,
        source=source,
        manipulated=manipulated_claims[claim],
        posted=posted,
        poster=poster,
    )
