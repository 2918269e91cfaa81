"""How a claim spreads: adoption over time, reach, exposure, persistence, disagreement.

Belief measures read the agents table (``step, agent, claim, credence``, every agent from
step 0) of a :class:`~socialsim.core.rundata.RunData`, never the event log, so agents whose
belief never changed count too. Message and probe measures read the event log. An agent
*adopts* a claim when its credence is at or above ``threshold`` (0.5 by default). Measures
take a ``population``: ``all`` agents, ``benign`` ones (no scenario role), a role, or ids.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats as sps

from socialsim.analysis.credences import (  # noqa: F401 - part of this module's API
    AgentsLike,
    credence_array,
    credence_matrix,
    final_credence,
    population_ids,
    presence,
)
from socialsim.analysis.probes import (  # noqa: F401 - part of this module's API
    credence_probe_gap,
    probe_accuracy,
    probe_frame,
    probe_share_by_step,
)
from socialsim.core.rundata import RunData, list_column, of_kind, payload


def adoption_curve(
    data: AgentsLike,
    claim: str,
    threshold: float = 0.5,
    *,
    population: str | np.ndarray | None = "all",
    events: pd.DataFrame | None = None,
    n_agents: int | None = None,
) -> pd.DataFrame:
    """Adoption of `claim` per step, step 0 (the state after set-up) included.

    Columns ``step, adopted, n, unmeasured, share, mean_credence,
    probe_manipulated_share``: `n` is the number of agents of `population` present at the
    end of the step with a known credence, `unmeasured` those present whose credence is
    unknown (the answer that was to measure it failed; left out, never carried over),
    `adopted` the agents of `n` with credence >= `threshold`, ``share = adopted / n``. From the agents table, so every
    agent counts whether or not its belief ever changed. `n_agents` overrides `n` (a plain
    agents table of part of the population). Probe shares come from the run's events (or
    `events`), over answered probes of the same population.

    ``adoption_curve(ss.analysis.load_run(run_dir), "c1", population="benign")``
    """
    steps, matrix = credence_array(data, claim)
    ids = population_ids(data, population)
    columns = ["step", "adopted", "n", "unmeasured", "share", "mean_credence"]
    if not len(steps):
        curve = pd.DataFrame(columns=columns)
    else:
        there = presence(data, steps) if isinstance(data, RunData) else ~np.isnan(matrix)
        present = there & ~np.isnan(matrix)
        if ids is not None:
            matrix, present, there = matrix[:, ids], present[:, ids], there[:, ids]
        unmeasured = (there & ~present).sum(axis=1)
        held = np.where(present, matrix, np.nan)
        adopted = ((held >= threshold) & present).sum(axis=1)
        n = present.sum(axis=1) if n_agents is None else np.full(len(steps), n_agents)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(n > 0, adopted / np.maximum(n, 1), np.nan)
            mean = np.where(
                present.any(axis=1),
                np.nansum(held, axis=1) / np.maximum(present.sum(axis=1), 1),
                np.nan,
            )
        curve = pd.DataFrame(
            {
                "step": steps,
                "adopted": adopted,
                "n": n,
                "unmeasured": unmeasured,
                "share": share,
                "mean_credence": mean,
            }
        )
    if events is None and isinstance(data, RunData):
        events = data.events
    probes = probe_share_by_step(events, claim, ids)
    if probes is not None and not probes.empty:
        curve = curve.merge(probes, on="step", how="outer").sort_values("step")
    else:
        curve["probe_manipulated_share"] = np.nan
    return curve.reset_index(drop=True)


def reach_stats(curve: pd.DataFrame) -> dict[str, Any]:
    """Initial, final and peak reach, mean credence, and first steps reaching 10/50/90%.

    ``n`` is the number of agents the final reach is over, ``unmeasured`` those present at
    the last step whose credence is unknown (left out of ``n``).

    ``time_to_q`` is the first step whose share reaches q% of the final share (None when
    the final share is 0). Every "final" value is the last step's: None when no agent's
    credence is known there (never an earlier step's value); peak and initial values are
    over the steps with a known credence.
    """
    if "share" not in curve or curve.empty:
        return {"final_reach": None, "peak": None, "peak_step": None}
    last = curve.iloc[-1]  # the last step, measured or not: never an earlier step's value
    measured = curve.dropna(subset=["share"])
    final = _number(last["share"])
    out: dict[str, Any] = {
        "n": int(_number(last["n"]) or 0),
        "unmeasured": int(_number(last["unmeasured"]) or 0) if "unmeasured" in curve else 0,
        "initial_reach": _number(measured["share"].iloc[0]) if len(measured) else None,
        "final_reach": final,
        "peak": None,
        "peak_step": None,
    }
    if len(measured):
        shares = measured["share"].to_numpy(dtype=float)
        out["peak"] = float(shares.max())
        out["peak_step"] = int(measured["step"].to_numpy()[int(shares.argmax())])
    if "mean_credence" in curve:
        out["mean_credence_initial"] = (
            _number(measured["mean_credence"].iloc[0]) if len(measured) else None
        )
        out["mean_credence_final"] = _number(last["mean_credence"])
    for q in (10, 50, 90):
        if final is None or final <= 0:
            out[f"time_to_{q}"] = None
            continue
        shares, steps = measured["share"].to_numpy(dtype=float), measured["step"].to_numpy()
        hit = np.flatnonzero(shares >= final * q / 100 - 1e-12)
        out[f"time_to_{q}"] = int(steps[hit[0]]) if hit.size else None
    return out


def _number(value: Any) -> float | None:
    """A float, or None for a missing (NaN) one."""
    value = float(value)
    return None if math.isnan(value) else value


def exposures(events: pd.DataFrame, claim: str) -> pd.DataFrame:
    """One row per message delivery referencing `claim`: ``step, sender, recipient``.

    A message references a claim through its ``claim`` column or ``payload.claims``;
    recipients come from ``payload.recipients`` (else the ``target`` column).
    """
    msgs = of_kind(events, "message")
    if msgs.empty:
        return pd.DataFrame(columns=["step", "sender", "recipient"])
    msgs = msgs.reset_index(drop=True)
    hit = (msgs["claim"] == claim).fillna(False).to_numpy(dtype=bool)
    claims = list_column(payload(msgs, "claims"))
    rest = ~hit & claims.notna().to_numpy()
    if rest.any():
        exploded = claims[rest].explode()
        found = exploded[exploded == claim].index.unique()
        hit = hit | msgs.index.isin(found)
    msgs = msgs[hit]
    recipients = list_column(payload(msgs, "recipients"))
    recipients = recipients.where(recipients.notna(), msgs["target"])
    frame = pd.DataFrame(
        {
            "step": msgs["step"].to_numpy(),
            "sender": msgs["agent"].to_numpy(),
            "recipient": recipients.to_numpy(),
        }
    )
    frame = frame.explode("recipient")
    frame["recipient"] = pd.to_numeric(frame["recipient"], errors="coerce")
    frame = frame.dropna(subset=["recipient"])
    frame["recipient"] = frame["recipient"].astype(int)
    frame["step"] = frame["step"].astype(int)
    return frame.reset_index(drop=True)


def exposure_adoption(
    data: RunData,
    claim: str,
    threshold: float = 0.5,
    *,
    population: str | np.ndarray | None = "all",
) -> dict[str, Any]:
    """Exposed vs adopting agents and the conversion rate, over one population.

    ``conversion_rate`` = exposed agents whose final credence >= threshold / exposed agents;
    ``adoption_rate_unexposed`` = the same share among agents that never received a message
    referencing the claim. Final adopters include agents that held the claim from the start.
    An agent whose final credence is unknown (its measuring answer failed) is left out of
    every count but ``unmeasured`` and ``deliveries``.
    """
    ids = population_ids(data, population)
    members = np.arange(data.n_agents) if ids is None else ids
    exp = exposures(data.events, claim)
    exposed = np.zeros(data.n_agents, dtype=bool)
    rec = exp["recipient"].to_numpy(dtype=np.int64)
    exposed[rec[(rec >= 0) & (rec < data.n_agents)]] = True
    steps, matrix = credence_array(data, claim)
    adopter = np.zeros(data.n_agents, dtype=bool)
    known = np.ones(data.n_agents, dtype=bool)
    if len(steps):
        adopter[: matrix.shape[1]] = matrix[-1] >= threshold
        known[: matrix.shape[1]] = ~np.isnan(matrix[-1])
    deliveries = int(np.isin(rec, members).sum())
    unmeasured = int((~known[members]).sum())
    members = members[known[members]]
    e, a = exposed[members], adopter[members]
    n_exp, n_unexp = int(e.sum()), int((~e).sum())
    return {
        "n": int(len(members)),
        "unmeasured": unmeasured,
        "n_exposed": n_exp,
        "n_adopters": int(a.sum()),
        "n_exposed_adopters": int((e & a).sum()),
        "conversion_rate": float((e & a).sum() / n_exp) if n_exp else None,
        "adoption_rate_unexposed": float((~e & a).sum() / n_unexp) if n_unexp else None,
        "deliveries": deliveries,
    }


def removal_step(events: pd.DataFrame, role: str | None = "attacker") -> int | None:
    """First step at which an agent of `role` left the run, if any.

    Any departure counts when `role` is None or the log does not say who left.
    """
    actions = of_kind(events, "action")
    removed = actions[(payload(actions, "type") == "removed").to_numpy(dtype=bool)]
    if role is not None and payload(removed, "role").notna().any():
        removed = removed[(payload(removed, "role") == role).to_numpy(dtype=bool)]
    return int(removed["step"].min()) if not removed.empty else None


def persistence(
    data: RunData,
    claim: str,
    threshold: float = 0.5,
    *,
    population: str | np.ndarray | None = "all",
) -> dict[str, Any]:
    """Does the claim persist after the attackers leave? Reach and probes before/after.

    ``reach_at_removal`` is the population's adoption share at the end of the step before
    the attackers left, ``reach_final`` at the last step. ``probe_manipulated_before`` and
    ``probe_manipulated_after`` hold, per probe distance, the manipulated share of the
    answered probes before the removal step / at or after it (distances are never pooled:
    peripheral probes are not about the claim).
    """
    step = removal_step(data.events)
    out: dict[str, Any] = {"removal_step": step}
    if step is None:
        return out
    curve = adoption_curve(data, claim, threshold, population=population).dropna(subset=["share"])
    at = curve[curve["step"] < step]
    out["reach_at_removal"] = float(at["share"].iloc[-1]) if not at.empty else None
    out["reach_final"] = float(curve["share"].iloc[-1]) if not curve.empty else None
    if out["reach_at_removal"] is not None and out["reach_final"] is not None:
        out["reach_change"] = out["reach_final"] - out["reach_at_removal"]
    probes = probe_frame(data.events, claim, population_ids(data, population))
    probes = probes.dropna(subset=["manipulated"])
    for key, rows in (
        ("probe_manipulated_before", probes[probes["step"] < step]),
        ("probe_manipulated_after", probes[probes["step"] >= step]),
    ):
        shares = rows.groupby("distance")["manipulated"].mean()
        out[key] = {str(d): float(shares[d]) for d in _by_distance(shares.index)}
    return out


def _by_distance(distances: Any) -> list[Any]:
    """Probe distances in their order: direct, indirect, peripheral, then any other."""
    order = {"direct": 0, "indirect": 1, "peripheral": 2}
    return sorted(distances, key=lambda d: (order.get(d, 9), str(d)))


def communities(graph: nx.Graph, greedy_limit: int = 2000, seed: int = 0) -> dict[Any, Any]:
    """Community of each node: the ``community`` attribute, else modularity communities.

    Greedy modularity up to `greedy_limit` nodes; seeded Louvain above (much faster).
    """
    given = nx.get_node_attributes(graph, "community")
    if given and len(given) == graph.number_of_nodes():
        return given
    if graph.number_of_edges() == 0:
        return dict.fromkeys(graph.nodes, 0)
    und = graph.to_undirected() if graph.is_directed() else graph
    if und.number_of_nodes() <= greedy_limit:
        parts = nx.community.greedy_modularity_communities(und)
    else:
        parts = nx.community.louvain_communities(und, seed=seed)
        parts = sorted(parts, key=lambda p: (-len(p), min(p)))
    return {node: i for i, part in enumerate(parts) for node in part}


def adoption_by_group(
    data: AgentsLike, claim: str, groups: dict[Any, Any] | pd.Series, threshold: float = 0.5
) -> pd.DataFrame:
    """Final adoption share per group of agents: ``group, n, adopted, share``."""
    final = final_credence(data, claim)
    frame = pd.DataFrame({"agent": final.index, "credence": final.to_numpy()})
    frame["group"] = frame["agent"].map(pd.Series(groups) if isinstance(groups, dict) else groups)
    frame = frame.dropna(subset=["group"])
    frame["adopted"] = frame["credence"] >= threshold
    out = frame.groupby("group").agg(n=("adopted", "size"), adopted=("adopted", "sum"))
    out["share"] = out["adopted"] / out["n"]
    return out.reset_index()


def adoption_by_attribute(
    data: AgentsLike, claim: str, graph: nx.Graph, attribute: str, threshold: float = 0.5
) -> pd.DataFrame:
    """Final adoption share per value of a persona (node) attribute, e.g. ``country``."""
    return adoption_by_group(data, claim, nx.get_node_attributes(graph, attribute), threshold)


def edge_array(graph: Any) -> np.ndarray:
    """The edges of a networkx graph or :class:`~socialsim.core.network.Network` as an (m, 2)
    integer array."""
    from socialsim.core.network import Network

    return Network.of(graph).edges


def present_credences(data: AgentsLike, claim: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, matrix)`` of :func:`credence_array` with agents absent at a step (removed,
    or not yet joined) set to NaN at that step (a plain agents table: as recorded)."""
    steps, matrix = credence_array(data, claim)
    if not isinstance(data, RunData) or not len(steps):
        return steps, matrix
    key = ("present_credence", claim)
    if key not in data.cache:
        present = np.ones(matrix.shape, dtype=bool)
        known = presence(data, steps)[:, : matrix.shape[1]]
        present[:, : known.shape[1]] = known
        data.cache[key] = (steps, matrix if present.all() else np.where(present, matrix, np.nan))
    return data.cache[key]


def disagreement(data: AgentsLike, claim: str, graph: Any = None) -> pd.DataFrame:
    """Mean absolute credence difference across edges per step: ``step, disagreement``.

    O(steps x edges); edges with an agent absent at a step (removed, not yet joined, or
    missing from the table) are skipped at that step. The network is the run's unless
    `graph` (networkx or :class:`~socialsim.core.network.Network`) is given.
    """
    if graph is None and isinstance(data, RunData) and data.has_network:
        graph = data.network
    steps, matrix = present_credences(data, claim)
    if graph is None or not len(steps):
        return pd.DataFrame(columns=["step", "disagreement"])
    edges = edge_array(graph)
    edges = edges[(edges < matrix.shape[1]).all(axis=1)]
    if not len(edges):
        return pd.DataFrame(columns=["step", "disagreement"])
    values = np.empty(len(steps))
    for i in range(len(steps)):
        diff = np.abs(matrix[i, edges[:, 0]] - matrix[i, edges[:, 1]])
        values[i] = np.nanmean(diff) if np.isfinite(diff).any() else np.nan
    return pd.DataFrame({"step": steps, "disagreement": values})


def bimodality_coefficient(values: np.ndarray | pd.Series) -> float:
    """Sarle's bimodality coefficient (g^2 + 1) / (k + 3(n-1)^2 / ((n-2)(n-3))).

    Above 5/9 (a uniform distribution) suggests two modes; NaN for fewer than 4 values or
    no spread.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 4 or np.ptp(x) <= 1e-9 * max(1.0, float(np.abs(x).max())):
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = sps.skew(x, bias=False)
        k = sps.kurtosis(x, bias=False)
    return float((g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def polarization(
    data: AgentsLike, claim: str, *, population: str | np.ndarray | None = "all"
) -> pd.DataFrame:
    """Per step: bimodality coefficient, standard deviation and mean of the credences of the
    population's agents present at the end of the step."""
    steps, matrix = present_credences(data, claim)
    if not len(steps):
        return pd.DataFrame(columns=["step", "bimodality", "std", "mean"])
    ids = population_ids(data, population)
    if ids is not None:
        matrix = matrix[:, ids]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pd.DataFrame(
            {
                "step": steps,
                "bimodality": [bimodality_coefficient(row) for row in matrix],
                "std": np.nanstd(matrix, axis=1),
                "mean": np.nanmean(matrix, axis=1),
            }
        )
