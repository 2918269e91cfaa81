"""The population on its network: who sits on which node, under which policy, as arrays.

:func:`place_population` builds (or takes) the network, places the personas on its nodes
(the config's ``population.assign``; given personas keep their row order), forms the policy
groups and assigns every agent to one, and keeps per agent what the step loop reads: names,
activity rates, stubbornness and the persona store (the neighbour lists are the network's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from socialsim.agents.persona import PersonaStore
from socialsim.agents.population import Population, assignment_order, field_values, placed
from socialsim.agents.sampling import SampledPersonas
from socialsim.core.network import Network
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.given import Given
from socialsim.simulation.network import build_network
from socialsim.simulation.policies import PolicyGroup, build_policy_groups


class Names:
    """Agent names by id (a list, not a dict: 100,000 agents); negative ids are public posts."""

    __slots__ = ("_names", "_public")

    def __init__(self, names: list[str], public: str) -> None:
        self._names = names
        self._public = public

    def __getitem__(self, agent_id: int) -> str:
        if agent_id < 0:
            return self._public
        return self._names[agent_id]

    def get(self, agent_id: int, default: str | None = None) -> str | None:
        """The name, or `default` for an id past the last agent."""
        return self[agent_id] if agent_id < len(self._names) else default

    def __len__(self) -> int:
        return len(self._names)


@dataclass
class Placement:
    """Everything per agent that the step loop needs, and the policy groups."""

    network: Network
    groups: list[PolicyGroup]
    policy_of: np.ndarray
    names: Names
    activity_rates: np.ndarray
    stubbornness: np.ndarray
    personas: PersonaStore | SampledPersonas


def place_population(
    given: Given,
    rng: np.random.Generator,
    *,
    network_seed: int,
    clients: dict | None = None,
    decision_fields: dict[str, Any] | None = None,
    default_template: str | None = None,
) -> Placement:
    """Network, personas on its nodes, policy groups and per-agent arrays (draws from `rng`)."""
    cfg = given.cfg
    n = cfg.population.size
    base_dir = getattr(cfg, "_base_dir", None)
    network = given.network or build_network(
        cfg.network.kind,
        n,
        cfg.network.params,
        seed=network_seed,
        directed=cfg.network.directed,
        base_dir=base_dir,
    )
    if given.personas is None:
        population = Population.from_config(n, cfg.population.personas, rng, base_dir)
        order = assignment_order(population.personas, network, cfg.population.assign, rng)
    else:
        population, order = Population(given.personas), list(range(n))
    groups = build_policy_groups(
        cfg,
        rng,
        clients=clients,
        decision_fields=decision_fields,
        default_template=default_template,
    )
    policy_of = assign_groups(cfg, groups, rng).astype(np.int16)
    source = population.personas
    names, rates, stubbornness = (
        [values[i] for i in order]
        for values in (field_values(source, f) for f in ("name", "activity_rate", "stubbornness"))
    )
    return Placement(
        network=network,
        groups=groups,
        policy_of=policy_of,
        names=Names(names, public="a public post"),
        activity_rates=np.asarray(rates, dtype=float),
        stubbornness=np.asarray(stubbornness, dtype=float),
        personas=(
            source.take(order)  # compact columns are the store
            if isinstance(source, SampledPersonas)
            else PersonaStore(placed(source, order))
        ),
    )


def assign_groups(
    cfg: ExperimentConfig, groups: list[PolicyGroup], rng: np.random.Generator
) -> np.ndarray:
    """Each agent's policy group: group 0 (the base policy) but for each mix share, in
    counts that add up to the population (:func:`group_counts`)."""
    n = cfg.population.size
    membership = np.zeros(n, dtype=np.int64)
    order = rng.permutation(n)
    start = 0
    counts = group_counts(n, [group.fraction for group in groups[1:]])
    for g, count in enumerate(counts[1:], start=1):
        membership[order[start : start + count]] = g
        start += count
    return membership


def group_counts(n: int, fractions: list[float]) -> list[int]:
    """Agents per group for the mix `fractions` (the base policy first, with what they
    leave): largest remainders, so the counts add up to `n`, each is within one of its
    share of `n`, and mix shares adding up to 1 leave the base policy none.

    >>> group_counts(5, [0.5, 0.5]), group_counts(6, [0.25, 0.25, 0.25, 0.25])
    ([0, 3, 2], [0, 2, 2, 1, 1])
    """
    shares = [max(0.0, 1.0 - sum(fractions)), *fractions]
    if shares[0] < 1e-9:
        shares[0] = 0.0
    exact = [f * n for f in shares]
    counts = [int(np.floor(x + 1e-9)) for x in exact]
    left = n - sum(counts)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[:left]:
        counts[i] += 1
    return counts
