"""Whether a run fits in memory: the estimate of its peak, and the refusal before it starts.

:func:`memory_needed` is fitted to end-to-end runs (``docs/benchmarks.md``) from what the
config says before anything is built: the population, the steps and claims recorded, whether
``graph.graphml`` is written, the share of deciding (LLM) agents and what each is expected to
remember. :func:`check_memory` refuses a run whose peak, less what this process holds
already, exceeds 90% of the memory available.
"""

from __future__ import annotations

import os

from pydantic import ValidationError

from socialsim.core.errors import ConfigError, SocialsimError
from socialsim.core.registry import NETWORKS, POLICIES
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.network import effective_params

#: The peak resident memory of a run, fitted to end-to-end rule runs of 50,000 to 10,000,000
#: agents (docs/benchmarks.md): what any run holds (the interpreter, its libraries, the
#: report's), bytes per agent, per agent, claim and recorded step (credence snapshots, the
#: measures' step x agent matrices, the agents table's chunks), and per agent while
#: ``graph.graphml`` is written (up to ``output.graphml_max_agents``: a networkx graph with
#: every node attribute).
BASE_BYTES = 450 * 2**20
BYTES_PER_AGENT = 915
BYTES_PER_AGENT_STEP = 32
GRAPHML_BYTES_PER_AGENT = 4_200
#: An agent of a deciding (LLM) policy group holds more: its objects (fitted to
#: ``bench_llm_million.py`` runs of 10,000 to 1,000,000 agents), and its memory, filled by
#: what it hears up to ``agents.memory_size`` items. An item holds about 2,200 bytes for a
#: message of 40 words of English (its place in the relevance index, its share of the text
#: and its term counts; ``bench_memory.py``): fewer for shorter messages, up to 3,000 for
#: 40 words that share no term (docs/benchmarks.md).
LLM_BYTES_PER_AGENT = 700
MEMORY_ITEM_BYTES = 2_200
#: the mean degree taken where the network's kind and parameters do not give one (a file, a
#: kind registered by a user)
TYPICAL_DEGREE = 6.0
#: the kinds whose parameters give their mean degree (:func:`mean_degree`)
BUILT_IN_KINDS = (
    "erdos_renyi",
    "barabasi_albert",
    "powerlaw_cluster",
    "watts_strogatz",
    "stochastic_block",
)


def memory_needed(cfg: ExperimentConfig) -> int:
    """Bytes a run of `cfg` is expected to hold at its peak, the interpreter included."""
    n = cfg.population.size
    steps = _recorded_steps(cfg)
    claims = max(1, len(cfg.claims))
    per_agent = BYTES_PER_AGENT + BYTES_PER_AGENT_STEP * claims * (steps + 1)
    if n <= cfg.output.graphml_max_agents:
        per_agent += GRAPHML_BYTES_PER_AGENT
    deciding = _deciding_share(cfg)
    if deciding:
        agents = cfg.agents
        active = agents.activation_fraction if agents.activation == "fraction" else 1.0
        heard = steps * active * (mean_degree(cfg) + 1)  # a message reaches its neighbours
        items = min(agents.memory_size, heard)  # and its sender's own memory
        per_agent += deciding * (LLM_BYTES_PER_AGENT + MEMORY_ITEM_BYTES * items)
    return BASE_BYTES + int(n * per_agent)


def _recorded_steps(cfg: ExperimentConfig) -> int:
    """Steps (event mode: windows, at least one) whose rows a run records."""
    return cfg.steps if cfg.mode == "step" else max(cfg.steps, 1)


def _deciding_share(cfg: ExperimentConfig) -> float:
    """The share of the population in deciding (LLM) policy groups: the base policy's
    (what the mix leaves) and each ``agents.mix`` entry's."""
    agents = cfg.agents
    shares = [(agents.policy, 1.0 - sum(m.fraction for m in agents.mix))]
    shares += [(m.policy, m.fraction) for m in agents.mix]
    return sum(share for name, share in shares if POLICIES.get(name).sort == "deciding")


def mean_degree(cfg: ExperimentConfig) -> float:
    """The mean degree the config's network kind and parameters give, before it is built
    (:data:`TYPICAL_DEGREE` for a file or a kind registered by a user)."""
    n = cfg.population.size
    kind = cfg.network.kind
    known = {"complete": n - 1.0, "ring": 2.0, "grid": 4.0}
    if kind in known:
        return known[kind]
    if kind not in BUILT_IN_KINDS:  # a file, or a user's kind: its parameters are not read
        return TYPICAL_DEGREE
    try:
        params = NETWORKS.get(kind).params(**effective_params(kind, cfg.network.params))
    except (ValidationError, SocialsimError):  # refused with its own line when built
        return TYPICAL_DEGREE
    if kind == "erdos_renyi":
        return params.p * (n - 1) if params.p is not None else params.mean_degree
    if kind in ("barabasi_albert", "powerlaw_cluster"):
        return 2.0 * params.m
    if kind == "watts_strogatz":
        return float(params.k)
    if kind == "stochastic_block":
        size = n / (len(params.sizes) if params.sizes else params.blocks)
        return params.p_in * (size - 1) + params.p_out * (n - size)
    return TYPICAL_DEGREE


def check_memory(cfg: ExperimentConfig) -> None:
    """Refuse, before anything is written, a run this machine cannot hold in memory: one
    whose peak, less what this process holds already, exceeds 90% of the memory available."""
    available = _available_memory()
    if available is None:
        return
    n = cfg.population.size
    steps = _recorded_steps(cfg)
    need = memory_needed(cfg)
    more = need - _resident_memory()
    if more > 0.9 * available:
        raise ConfigError(
            f"population.size {n:,} with {steps} steps needs about {need / 2**30:.1f} GiB of "
            f"memory at its peak ({more / 2**30:.1f} GiB more than this process holds now), "
            f"and this machine has {available / 2**30:.1f} GiB available; reduce "
            + (
                "population.size, steps or agents.memory_size (what each LLM agent remembers)"
                if _deciding_share(cfg)
                else "population.size or steps"
            )
        )


def _resident_memory() -> int:
    """Bytes this process holds now (Linux), or 0 where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _available_memory() -> int | None:
    """Bytes of memory available now (Linux), or None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None
