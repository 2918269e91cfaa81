"""Credences of the record: the agents table as a step x agent array, presence, populations.

The belief measures of :mod:`socialsim.analysis.spread` and the figures read credences
through these, once per claim (cached on the :class:`~socialsim.core.rundata.RunData`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from socialsim.core.credences import matrix_from_rows
from socialsim.core.rundata import RunData, join_steps, populations, removal_steps

AgentsLike = RunData | pd.DataFrame


def _agents(data: AgentsLike) -> pd.DataFrame:
    if isinstance(data, RunData):
        return data.agents
    if isinstance(data, pd.DataFrame) and "kind" in data.columns:
        raise TypeError(
            "this measure reads the agents table (every agent from step 0), not the event log; "
            "pass the run (socialsim.analysis.load_run(dir) or the result of socialsim.run) or "
            "its .agents table"
        )
    return data


def credence_array(data: AgentsLike, claim: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, matrix)``: the credence of every agent (columns) at every step (rows).

    Read from the agents table (one row per step x agent x claim, step 0 included), in one
    pass: O(rows). Agents missing at a step are NaN. Cached on a :class:`RunData`.
    """
    key = ("credence", claim)
    if isinstance(data, RunData) and key in data.cache:
        return data.cache[key]
    from_source = data.credence_rows(claim) if isinstance(data, RunData) else None
    if from_source is not None:
        steps, matrix = from_source
        if len(steps) and matrix.shape[1] < data.n_agents:
            pad = np.full((len(steps), data.n_agents - matrix.shape[1]), np.nan)
            matrix = np.concatenate([matrix, pad], axis=1)
        out = (steps, matrix)
    else:
        table = _agents(data)
        rows = table[(table["claim"].astype(str) == str(claim)).to_numpy(dtype=bool)]
        n = data.n_agents if isinstance(data, RunData) else 0
        out = matrix_from_rows(
            rows["step"].to_numpy(dtype=np.int64),
            rows["agent"].to_numpy(dtype=np.int64),
            rows["credence"].to_numpy(dtype=float),
            n,
        )
    if isinstance(data, RunData):
        data.cache[key] = out
    return out


def credence_matrix(data: AgentsLike, claim: str) -> pd.DataFrame:
    """Credence per step (rows) and agent (columns), from the agents table."""
    steps, matrix = credence_array(data, claim)
    if not len(steps):
        return pd.DataFrame(dtype=float)
    wide = pd.DataFrame(matrix, index=pd.Index(steps, name="step"))
    wide.columns.name = "agent"
    return wide


def final_credence(data: AgentsLike, claim: str) -> pd.Series:
    """Last recorded credence of every agent in `claim` (index: agent)."""
    steps, matrix = credence_array(data, claim)
    if not len(steps):
        return pd.Series(dtype=float, name="credence")
    last = pd.Series(matrix[-1], name="credence")
    last.index.name = "agent"
    return last.dropna()


def presence(data: RunData, steps: np.ndarray) -> np.ndarray:
    """Boolean (steps x agents): present at the end of each step.

    Removed agents drop out from the step they leave; agents that joined later (a grown
    network) count from the step they join.
    """
    n = data.n_agents
    mask = np.ones((len(steps), n), dtype=bool)
    at = np.asarray(steps)
    for agent, step in removal_steps(data.events).items():
        if agent < n:
            mask[at >= step, agent] = False
    for agent, step in join_steps(data.events).items():
        if agent < n:
            mask[at < step, agent] = False
    return mask


def population_ids(data: AgentsLike, population: str | np.ndarray | None) -> np.ndarray | None:
    """The agent ids of a named population (see :func:`populations`), or the ids given."""
    if population is None or (isinstance(population, str) and population == "all"):
        return None
    if isinstance(population, str):
        if not isinstance(data, RunData):
            raise ValueError(f"population {population!r} needs the run (RunData), not a table")
        pops = populations(data)
        if population not in pops:
            raise ValueError(
                f"population {population!r} is not in this run; it has {', '.join(pops)}"
            )
        return pops[population]
    return np.asarray(population, dtype=np.int64)
