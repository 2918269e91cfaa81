"""How a claim spreads: adoption over time, reach, exposure, persistence, disagreement.

Every function takes the event table (either shape, see :mod:`socialsim.analysis.io`) or the
agents long table (``step, agent, claim, credence``) and returns plain data. An agent
*adopts* a claim when its credence is at or above ``threshold`` (0.5 by default).
"""

from __future__ import annotations

import warnings
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats as sps

from socialsim.analysis.io import as_bool, list_column, of_kind, payload


def _is_agents_table(data: pd.DataFrame) -> bool:
    return "credence" in data.columns and "kind" not in data.columns


def credence_matrix(data: pd.DataFrame, claim: str) -> pd.DataFrame:
    """Credence per step (rows) and agent (columns), carried forward between changes.

    From the agents table directly; from events, rebuilt from ``belief_change`` events
    (each agent starts at the ``old`` value of its first change).
    """
    if _is_agents_table(data):
        rows = data[data["claim"] == claim]
        if rows.empty:
            return pd.DataFrame(dtype=float)
        wide = rows.groupby(["step", "agent"])["credence"].last().unstack("agent")
        lo, hi = int(wide.index.min()), int(wide.index.max())
    else:
        changes = of_kind(data, "belief_change")
        changes = changes[changes["claim"] == claim]
        if changes.empty:
            return pd.DataFrame(dtype=float)
        table = pd.DataFrame(
            {
                "step": changes["step"].astype(int).to_numpy(),
                "agent": changes["agent"].astype(int).to_numpy(),
                "old": pd.to_numeric(payload(changes, "old"), errors="coerce").to_numpy(),
                "new": pd.to_numeric(payload(changes, "new"), errors="coerce").to_numpy(),
            }
        )
        steps = pd.to_numeric(data["step"], errors="coerce").dropna()
        lo, hi = int(steps.min()), int(steps.max())
        first = table.groupby("agent", sort=False).first().reset_index()
        start = pd.DataFrame({"step": lo, "agent": first["agent"], "credence": first["old"]})
        moves = table.rename(columns={"new": "credence"})[["step", "agent", "credence"]]
        long = pd.concat([start, moves], ignore_index=True)
        wide = long.groupby(["step", "agent"], sort=True)["credence"].last().unstack("agent")
    wide = wide.reindex(range(lo, hi + 1)).ffill()
    wide.index.name = "step"
    return wide


def final_credence(data: pd.DataFrame, claim: str) -> pd.Series:
    """Last known credence of every agent in `claim` (index: agent)."""
    wide = credence_matrix(data, claim)
    if wide.empty:
        return pd.Series(dtype=float, name="credence")
    return wide.iloc[-1].dropna().rename("credence")


def adoption_curve(
    data: pd.DataFrame,
    claim: str,
    threshold: float = 0.5,
    *,
    events: pd.DataFrame | None = None,
    n_agents: int | None = None,
) -> pd.DataFrame:
    """Share of agents at or above `threshold` per step, plus the probe manipulated share.

    ``adoption_curve(events, "c1")`` -> columns ``step, adopted, n, share,
    probe_manipulated_share``. `n` is `n_agents` when given, else the agents seen.
    Pass `events` for probe shares when `data` is the agents table.
    """
    wide = credence_matrix(data, claim)
    probe_source = events if events is not None else (None if _is_agents_table(data) else data)
    probes = _probe_share_by_step(probe_source, claim)
    if wide.empty:
        curve = pd.DataFrame(columns=["step", "adopted", "n", "share"])
    else:
        adopted = (wide >= threshold).sum(axis=1)
        n = n_agents if n_agents is not None else wide.shape[1]
        curve = pd.DataFrame(
            {"step": wide.index.astype(int), "adopted": adopted.to_numpy(), "n": n}
        )
        curve["share"] = curve["adopted"] / max(n, 1)
    if probes is not None and not probes.empty:
        curve = curve.merge(probes, on="step", how="outer").sort_values("step")
    else:
        curve["probe_manipulated_share"] = np.nan
    return curve.reset_index(drop=True)


def _probe_share_by_step(events: pd.DataFrame | None, claim: str) -> pd.DataFrame | None:
    if events is None:
        return None
    probes = of_kind(events, "probe")
    probes = probes[probes["claim"] == claim]
    if probes.empty:
        return None
    frame = pd.DataFrame(
        {"step": probes["step"].astype(int), "m": as_bool(payload(probes, "manipulated"))}
    )
    out = frame.groupby("step")["m"].mean().rename("probe_manipulated_share").reset_index()
    return out


def reach_stats(curve: pd.DataFrame) -> dict[str, Any]:
    """Final reach, peak, and first steps reaching 10/50/90% of the final number adopted."""
    curve = curve.dropna(subset=["share"]) if "share" in curve else curve.iloc[0:0]
    if curve.empty:
        return {"final_reach": None, "peak": None, "peak_step": None}
    shares = curve["share"].to_numpy(dtype=float)
    steps = curve["step"].to_numpy()
    final = float(shares[-1])
    out: dict[str, Any] = {
        "final_reach": final,
        "initial_reach": float(shares[0]),
        "peak": float(shares.max()),
        "peak_step": int(steps[int(shares.argmax())]),
    }
    for q in (10, 50, 90):
        if final <= 0:
            out[f"time_to_{q}"] = None
            continue
        hit = np.flatnonzero(shares >= final * q / 100 - 1e-12)
        out[f"time_to_{q}"] = int(steps[hit[0]]) if hit.size else None
    return out


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
    events: pd.DataFrame,
    claim: str,
    threshold: float = 0.5,
    *,
    agents: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Exposed vs adopting agents and the conversion rate (exposed who end up adopting).

    ``conversion_rate`` = exposed agents whose final credence >= threshold / exposed agents;
    ``adoption_rate_unexposed`` compares against agents who never received the claim.
    """
    exp = exposures(events, claim)
    exposed = set(exp["recipient"].unique().tolist())
    final = final_credence(agents if agents is not None else events, claim)
    adopters = set(final.index[final >= threshold].astype(int).tolist())
    known = set(final.index.astype(int).tolist()) | exposed
    unexposed = known - exposed
    n_exp = len(exposed)
    return {
        "n_exposed": n_exp,
        "n_adopters": len(adopters),
        "n_exposed_adopters": len(exposed & adopters),
        "conversion_rate": len(exposed & adopters) / n_exp if n_exp else None,
        "adoption_rate_unexposed": len(unexposed & adopters) / len(unexposed)
        if unexposed
        else None,
        "deliveries": int(len(exp)),
    }


def removal_step(events: pd.DataFrame) -> int | None:
    """Step of the first ``action`` of type ``removed`` (an attacker leaving), if any."""
    actions = of_kind(events, "action")
    removed = actions[payload(actions, "type") == "removed"]
    return int(removed["step"].min()) if not removed.empty else None


def persistence(
    events: pd.DataFrame,
    claim: str,
    threshold: float = 0.5,
    *,
    agents: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Does the claim persist after the attackers leave? Adoption and probes before/after.

    Adoption at the removal step vs at the last step; probe manipulated share for probes
    before the removal step vs at or after it.
    """
    step = removal_step(events)
    out: dict[str, Any] = {"removal_step": step}
    if step is None:
        return out
    curve = adoption_curve(
        agents if agents is not None else events, claim, threshold, events=events
    )
    curve = curve.dropna(subset=["share"])
    at = curve[curve["step"] <= step]
    out["reach_at_removal"] = float(at["share"].iloc[-1]) if not at.empty else None
    out["reach_final"] = float(curve["share"].iloc[-1]) if not curve.empty else None
    if out["reach_at_removal"] is not None and out["reach_final"] is not None:
        out["reach_change"] = out["reach_final"] - out["reach_at_removal"]
    probes = of_kind(events, "probe")
    probes = probes[probes["claim"] == claim]
    m = as_bool(payload(probes, "manipulated"))
    before, after = m[probes["step"] < step], m[probes["step"] >= step]
    out["probe_manipulated_before"] = float(before.mean()) if before.notna().any() else None
    out["probe_manipulated_after"] = float(after.mean()) if after.notna().any() else None
    return out


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
    data: pd.DataFrame, claim: str, groups: dict[Any, Any] | pd.Series, threshold: float = 0.5
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
    data: pd.DataFrame, claim: str, graph: nx.Graph, attribute: str, threshold: float = 0.5
) -> pd.DataFrame:
    """Final adoption share per value of a persona (node) attribute, e.g. ``country``."""
    return adoption_by_group(data, claim, nx.get_node_attributes(graph, attribute), threshold)


def disagreement(data: pd.DataFrame, claim: str, graph: nx.Graph) -> pd.DataFrame:
    """Mean absolute credence difference across edges per step: ``step, disagreement``."""
    wide = credence_matrix(data, claim)
    edges = np.asarray([(u, v) for u, v in graph.edges() if u in wide and v in wide])
    if wide.empty or edges.size == 0:
        return pd.DataFrame(columns=["step", "disagreement"])
    pos = {a: i for i, a in enumerate(wide.columns)}
    u = np.fromiter((pos[a] for a in edges[:, 0]), dtype=np.int64)
    v = np.fromiter((pos[b] for b in edges[:, 1]), dtype=np.int64)
    mat = wide.to_numpy(dtype=float)
    diff = np.abs(mat[:, u] - mat[:, v])
    return pd.DataFrame({"step": wide.index.astype(int), "disagreement": np.nanmean(diff, axis=1)})


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


def polarization(data: pd.DataFrame, claim: str) -> pd.DataFrame:
    """Per step: bimodality coefficient, standard deviation and mean of credences."""
    wide = credence_matrix(data, claim)
    if wide.empty:
        return pd.DataFrame(columns=["step", "bimodality", "std", "mean"])
    mat = wide.to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "step": wide.index.astype(int),
            "bimodality": [bimodality_coefficient(row) for row in mat],
            "std": np.nanstd(mat, axis=1),
            "mean": np.nanmean(mat, axis=1),
        }
    )


def _probe_frame(events: pd.DataFrame, claim: str | None) -> pd.DataFrame:
    probes = of_kind(events, "probe")
    if claim is not None:
        probes = probes[probes["claim"] == claim]
    return pd.DataFrame(
        {
            "step": probes["step"].to_numpy(),
            "agent": probes["agent"].to_numpy(),
            "claim": probes["claim"].to_numpy(),
            "distance": payload(probes, "distance").fillna("unknown").to_numpy(),
            "correct": as_bool(payload(probes, "correct")).to_numpy(),
            "manipulated": as_bool(payload(probes, "manipulated")).to_numpy(),
            "credence": pd.to_numeric(payload(probes, "credence"), errors="coerce").to_numpy(),
        }
    )


def probe_accuracy(events: pd.DataFrame, claim: str | None = None) -> pd.DataFrame:
    """Probe accuracy and manipulated share by distance (direct, indirect, peripheral)."""
    frame = _probe_frame(events, claim)
    if frame.empty:
        return pd.DataFrame(columns=["distance", "n", "accuracy", "manipulated_share"])
    out = frame.groupby("distance").agg(
        n=("correct", "size"),
        accuracy=("correct", "mean"),
        manipulated_share=("manipulated", "mean"),
    )
    order = {"direct": 0, "indirect": 1, "peripheral": 2}
    out = out.reset_index()
    out["_o"] = out["distance"].map(order).fillna(9)
    return out.sort_values(["_o", "distance"]).drop(columns="_o").reset_index(drop=True)


def credence_probe_gap(
    events: pd.DataFrame, claim: str | None = None, threshold: float = 0.5
) -> dict[str, Any]:
    """How often stated belief (credence >= threshold) and probe behaviour disagree.

    ``disagreement`` is the share of probes where believing the claim and answering the
    manipulated way differ; ``mean_abs_gap`` is mean |credence - manipulated|.
    """
    frame = _probe_frame(events, claim).dropna(subset=["credence", "manipulated"])
    if frame.empty:
        return {"n": 0, "disagreement": None, "mean_abs_gap": None}
    believes = (frame["credence"] >= threshold).astype(float)
    return {
        "n": int(len(frame)),
        "disagreement": float((believes != frame["manipulated"]).mean()),
        "mean_abs_gap": float((frame["credence"] - frame["manipulated"]).abs().mean()),
    }
