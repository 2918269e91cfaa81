"""Rule strategies of the donor game and the reputations they read, vectorised over agents.

A rule strategy is a kind, a give share and a threshold. ``always_give`` gives its share of
its resources to every recipient; ``never_give`` keeps everything; a ``discriminator``
(image scoring, Nowak & Sigmund 1998) gives its share when the recipient's image score is at
or above its threshold and keeps everything otherwise; a ``punisher`` is a discriminator
that punishes a recipient below its threshold instead of keeping. A recipient's image score
is the share of gifts among its last ``depth`` actions as a donor (:class:`Traces`); an
agent with no recorded action has the initial reputation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("always_give", "never_give", "discriminator", "punisher")
ALWAYS, NEVER, DISCRIMINATOR, PUNISHER = range(len(KINDS))
NO_RULE = -1  # the kind of an LLM agent's slot
ACTIONS = ("keep", "give", "punish")
KEEP, GIVE, PUNISH = range(len(ACTIONS))
NO_ACTION = -1  # a trace entry not yet filled; a donor whose answer failed


def initial_kinds(weights: dict[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` kind codes in the proportions of `weights` (largest remainder), in a seeded order."""
    names = [k for k in KINDS if weights.get(k, 0.0) > 0]
    total = sum(weights[k] for k in names)
    exact = np.array([weights[k] / total * n for k in names])
    counts = np.floor(exact).astype(int)
    for j in np.argsort(-(exact - counts), kind="stable")[: n - int(counts.sum())]:
        counts[j] += 1
    codes = np.repeat([KINDS.index(k) for k in names], counts).astype(np.int8)
    return codes[rng.permutation(n)]


def rule_actions(
    kind: np.ndarray, share: np.ndarray, threshold: np.ndarray, score: np.ndarray, punishment: bool
) -> np.ndarray:
    """The action code of each rule donor, given the image score of its recipient."""
    good = score >= threshold
    judging = (kind == DISCRIMINATOR) | (kind == PUNISHER)
    gives = (kind == ALWAYS) | (judging & good)
    punishes = (kind == PUNISHER) & ~good if punishment else np.zeros(len(kind), dtype=bool)
    action = np.full(len(kind), KEEP, dtype=np.int8)
    action[gives & (share > 0)] = GIVE
    action[punishes & (share > 0)] = PUNISH
    return action


@dataclass
class Offspring:
    """The strategies of new agents: kind, share, threshold, parent slot, whether mutated."""

    kind: np.ndarray
    share: np.ndarray
    threshold: np.ndarray
    parent: np.ndarray  # -1 when no rule survivor was there to inherit from
    mutated: np.ndarray


def inherit(
    survivors: np.ndarray,
    kind: np.ndarray,
    share: np.ndarray,
    threshold: np.ndarray,
    draws: np.ndarray,
    mutation_rate: float,
    kinds_allowed: tuple[int, ...],
) -> Offspring:
    """Strategies of new agents copied from uniformly drawn `survivors`, with mutation.

    `draws` is (new agents x 5) uniforms: parent, mutation, kind, share, threshold. A
    mutated strategy has a kind drawn uniformly from `kinds_allowed` and a share and a
    threshold drawn uniformly from [0, 1]; without a survivor every new strategy is mutated.
    """
    m = len(draws)
    if len(survivors):
        parent = survivors[
            np.minimum((draws[:, 0] * len(survivors)).astype(int), len(survivors) - 1)
        ]
        mutated = draws[:, 1] < mutation_rate
    else:
        parent = np.full(m, -1, dtype=np.int64)
        mutated = np.ones(m, dtype=bool)
    allowed = np.asarray(kinds_allowed, dtype=np.int8)
    fresh = allowed[np.minimum((draws[:, 2] * len(allowed)).astype(int), len(allowed) - 1)]
    safe = np.maximum(parent, 0)
    return Offspring(
        kind=np.where(mutated, fresh, kind[safe]).astype(np.int8),
        share=np.where(mutated, draws[:, 3], share[safe]),
        threshold=np.where(mutated, draws[:, 4], threshold[safe]),
        parent=parent,
        mutated=mutated,
    )


def describe(kind: int, share: float, threshold: float) -> str:
    """A rule strategy in words (what an LLM newcomer reads of a surviving rule agent)."""
    pct = f"{round(share * 100)}%"
    if kind == ALWAYS:
        return f"Always give {pct} of my resources."
    if kind == NEVER:
        return "Never give anything."
    rule = f"Give {pct} of my resources when the recipient gave in at least {round(threshold * 100)}% of its recent rounds"
    return rule + ("; otherwise punish it." if kind == PUNISHER else "; otherwise give nothing.")


class Traces:
    """Each agent's last `depth` actions as a donor: action, share, recipient, step."""

    def __init__(self, n: int, depth: int) -> None:
        self.depth = depth
        self.action = np.full((n, depth), NO_ACTION, dtype=np.int8)
        self.share = np.zeros((n, depth))
        self.target = np.zeros((n, depth), dtype=np.int64)
        self.step = np.zeros((n, depth), dtype=np.int64)
        self.count = np.zeros(n, dtype=np.int64)

    def record(
        self,
        agents: np.ndarray,
        action: np.ndarray,
        share: np.ndarray,
        target: np.ndarray,
        step: int,
    ) -> None:
        """Append one action per agent (agents distinct; failed answers are not recorded)."""
        if not self.depth or not len(agents):
            return
        col = self.count[agents] % self.depth
        self.action[agents, col] = action
        self.share[agents, col] = share
        self.target[agents, col] = target
        self.step[agents, col] = step
        self.count[agents] += 1

    def score(self, agents: np.ndarray, initial: float) -> np.ndarray:
        """Image scores: share of gifts among the recorded actions; `initial` with none."""
        if not self.depth:
            return np.full(len(agents), float(initial))
        rows = self.action[agents]
        filled = (rows != NO_ACTION).sum(axis=1)
        gifts = (rows == GIVE).sum(axis=1)
        return np.where(filled > 0, gifts / np.maximum(filled, 1), float(initial))

    def recent(self, agent: int) -> list[tuple[int, int, float, int]]:
        """(step, action, share, recipient) of the agent's recorded actions, newest first."""
        k = int(min(self.count[agent], self.depth))
        cols = [(int(self.count[agent]) - 1 - j) % self.depth for j in range(k)]
        return [
            (int(self.step[agent, c]), int(self.action[agent, c]), float(self.share[agent, c]),
             int(self.target[agent, c]))
            for c in cols
        ]  # fmt: skip

    def reset(self, agents: np.ndarray) -> None:
        """Forget the actions of these agents (newcomers start without a record)."""
        self.action[agents] = NO_ACTION
        self.count[agents] = 0
