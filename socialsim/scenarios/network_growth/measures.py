"""Grown follow networks: the friendship paradox, degree distributions, homophily, over time.

Reads the network_growth scenario's ``action`` events: ``joined`` (agent), ``follow`` /
``unfollow`` (agent = follower, target = followee) and ``follow_choice`` (one per choice,
``status`` answered / failed). :func:`follow_graph` rebuilds the follow graph at any step
from them; every measure is a function of that graph (a directed
:class:`~socialsim.core.network.Network`) and runs in time linear in agents +
edges; :func:`growth_series` takes them at no more than ``max_points`` steps. Degree here is
the in-degree: the number of followers. ``docs/measures.md`` defines each measure.

Example: ``network_growth_summary(load_run("runs/x"))["friendship_paradox"]["share"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from socialsim.analysis.network import homophily
from socialsim.analysis.power_law import power_law_fit
from socialsim.analysis.report.parts import register_report_part
from socialsim.core.network import Network
from socialsim.core.registry import register_measure
from socialsim.core.rundata import RunData, of_kind, payload
from socialsim.scenarios.network_growth.attachment import attachment_exponent, gain_correlations
from socialsim.scenarios.network_growth.plots import degree_ccdf, paradox_over_time

ATTRIBUTES = (
    "political_leaning", "gender", "country", "occupation", "education", "communication_style",
)  # fmt: skip


def _actions(events: pd.DataFrame, kind: str) -> pd.DataFrame:
    actions = of_kind(events, "action")
    if actions.empty:
        return actions
    return actions[(payload(actions, "type") == kind).to_numpy(dtype=bool)]


def follow_events(events: pd.DataFrame) -> pd.DataFrame:
    """``follow`` (+1) and ``unfollow`` (-1) actions in log order: ``step, agent, target, sign``."""
    actions = of_kind(events, "action")
    if actions.empty:
        return pd.DataFrame(columns=["step", "agent", "target", "sign"])
    kind = payload(actions, "type")
    rows = actions[kind.isin(["follow", "unfollow"]).to_numpy(dtype=bool)]
    sign = np.where(payload(rows, "type").to_numpy() == "follow", 1, -1)
    return pd.DataFrame(
        {
            "step": rows["step"].to_numpy(dtype=np.int64),
            "agent": rows["agent"].to_numpy(dtype=np.int64),
            "target": rows["target"].to_numpy(dtype=np.int64),
            "sign": sign.astype(np.int64),
        }
    )


def join_steps(events: pd.DataFrame) -> pd.Series:
    """The step at which each agent joined (index: agent), from ``joined`` actions."""
    rows = _actions(events, "joined")
    if rows.empty:
        return pd.Series(dtype=np.int64, name="step")
    table = pd.Series(rows["step"].to_numpy(dtype=np.int64), index=rows["agent"].astype(np.int64))
    return table.groupby(level=0).min().rename("step")


def follow_graph(events: pd.DataFrame, n: int, step: int | None = None) -> Network:
    """The follow graph (follower -> followee) at the end of `step` (None: the last step).

    An edge is live when its follows outnumber its unfollows up to that step. `events` is
    a run's event table or the table of :func:`follow_events`.
    """
    table = events if "sign" in events.columns else follow_events(events)
    if step is not None:
        table = table[table["step"].to_numpy() <= step]
    return _live(table["agent"].to_numpy(), table["target"].to_numpy(), table["sign"].to_numpy(), n)


def _live(src: np.ndarray, dst: np.ndarray, sign: np.ndarray, n: int) -> Network:
    if not len(src):
        return Network(n, np.zeros(0, np.int64), np.zeros(0, np.int64), directed=True)
    key = src.astype(np.int64) * n + dst.astype(np.int64)
    keys, inverse = np.unique(key, return_inverse=True)
    net = np.bincount(inverse, weights=sign, minlength=len(keys))
    live = keys[net > 0]
    return Network(n, live // n, live % n, directed=True)


def in_degrees(graph: Network) -> np.ndarray:
    """Followers of every agent."""
    return np.bincount(graph.dst, minlength=graph.n)


def out_degrees(graph: Network) -> np.ndarray:
    """Followees of every agent."""
    return np.bincount(graph.src, minlength=graph.n)


def paradox_table(graph: Network) -> pd.DataFrame:
    """Per agent that follows someone: its followers and its followees' mean followers.

    ``agent, degree, mean_neighbour_degree`` (degree = in-degree, neighbours = followees).
    """
    deg_in, deg_out = in_degrees(graph), out_degrees(graph)
    total = np.bincount(graph.src, weights=deg_in[graph.dst], minlength=graph.n)
    agents = np.flatnonzero(deg_out > 0)
    return pd.DataFrame(
        {
            "agent": agents,
            "degree": deg_in[agents],
            "mean_neighbour_degree": total[agents] / deg_out[agents],
        }
    )


def friendship_paradox_in(graph: Network) -> dict[str, float | int | None]:
    """Share of agents whose followees have more followers than they do; both means; gap.

    Over agents that follow at least one agent. A 4-leaf star whose leaves all follow the
    hub, which follows one leaf: leaves have 1 or 0 followers, the hub 4; the hub's followee
    has 1 -> share 4/5 = 0.8, mean degree (4 + 1 + 0 + 0 + 0) / 5 = 1.0, mean neighbour
    degree (4 * 4 + 1) / 5 = 3.4.
    """
    table = paradox_table(graph)
    if table.empty:
        return {"agents": 0, "share": None, "mean_degree": None, "mean_neighbour_degree": None,
                "gap": None}  # fmt: skip
    mean_deg = float(table["degree"].mean())
    mean_nbr = float(table["mean_neighbour_degree"].mean())
    return {
        "agents": len(table),
        "share": float((table["mean_neighbour_degree"] > table["degree"]).mean()),
        "mean_degree": mean_deg,
        "mean_neighbour_degree": mean_nbr,
        "gap": mean_nbr - mean_deg,
    }


def reciprocity(graph: Network) -> float | None:
    """Share of follow edges whose reverse edge exists too (None without edges)."""
    if not graph.n_edges:
        return None
    n = max(graph.n, 1)
    keys = np.sort(graph.src * n + graph.dst)
    back = graph.dst * n + graph.src
    pos = np.minimum(np.searchsorted(keys, back), len(keys) - 1)
    return float((keys[pos] == back).mean())


def degree_summary(degrees: np.ndarray, min_tail: int = 10) -> dict[str, Any]:
    """Mean, max and the power-law fit of one degree sequence (the agents that joined)."""
    if not len(degrees):
        return {"mean": None, "max": None, "power_law": power_law_fit(degrees, min_tail=min_tail)}
    return {
        "mean": float(degrees.mean()),
        "max": int(degrees.max()),
        "power_law": power_law_fit(degrees, min_tail=min_tail),
    }


def degree_distribution_table(graph: Network, members: np.ndarray) -> pd.DataFrame:
    """Agents per degree, in and out: ``direction, degree, count, ccdf`` (P(K >= degree))."""
    frames = []
    for direction, degrees in (("in", in_degrees(graph)), ("out", out_degrees(graph))):
        sample = degrees[members]
        if not len(sample):
            continue
        counts = np.bincount(sample)
        values = np.flatnonzero(counts)
        at_least = np.cumsum(counts[::-1])[::-1][values] / len(sample)
        frames.append(
            pd.DataFrame(
                {
                    "direction": direction,
                    "degree": values,
                    "count": counts[values],
                    "ccdf": at_least,
                }
            )  # fmt: skip
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def growth_series(events: pd.DataFrame, n: int, max_points: int = 50) -> pd.DataFrame:
    """The measures at no more than `max_points` evenly spaced steps (first and last kept).

    ``step, agents (joined), edges, share, mean_degree, mean_neighbour_degree, reciprocity``;
    each point costs one pass over the follows up to its step.
    """
    follows = follow_events(events)
    joined = join_steps(events)
    last = int(events["step"].max()) if not events.empty else 0
    steps = np.unique(np.linspace(0, last, min(max_points, last + 1)).round().astype(int))
    step_of = follows["step"].to_numpy()
    src, dst, sign = (follows[c].to_numpy() for c in ("agent", "target", "sign"))
    rows = []
    for s in steps.tolist():
        k = int(np.searchsorted(step_of, s, side="right"))  # the log is in step order
        graph = _live(src[:k], dst[:k], sign[:k], n)
        fp = friendship_paradox_in(graph)
        rows.append(
            {
                "step": s,
                "agents": int((joined.to_numpy() <= s).sum()),
                "edges": graph.n_edges,
                "share": fp["share"],
                "mean_degree": fp["mean_degree"],
                "mean_neighbour_degree": fp["mean_neighbour_degree"],
                "reciprocity": reciprocity(graph),
            }
        )
    return pd.DataFrame(rows)


def choice_counts(events: pd.DataFrame) -> dict[str, Any]:
    """``follow_choice`` actions asked / answered / failed, overall and by who chose."""
    rows = _actions(events, "follow_choice")
    status = payload(rows, "status").astype(str)
    by = payload(rows, "by").astype(str)

    def count(mask: np.ndarray) -> dict[str, int]:
        answered = int((status[mask] == "answered").sum())
        failed = int((status[mask] == "failed").sum())
        return {"asked": int(mask.sum()), "answered": answered, "failed": failed}

    everyone = np.ones(len(rows), dtype=bool)
    out: dict[str, Any] = count(everyone)
    out["by"] = {str(b): count((by == b).to_numpy()) for b in sorted(by.unique())}
    return out


def network_growth_summary(
    run: RunData,
    attributes: list[str] | None = None,
    max_points: int = 50,
    min_tail: int = 10,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Every network_growth measure as a JSON-ready dict ({} without follow choices).

    ``answers`` (choices asked / answered / failed), ``agents_joined``, ``follows`` /
    ``unfollows`` (events), ``edges`` (live at the end), ``friendship_paradox`` (in-degree),
    ``reciprocity``, ``in_degree`` / ``out_degree`` (mean, max, ``power_law``: alpha,
    k_min, n_tail, sigma, ks), ``homophily`` per persona attribute, ``attachment`` (follows
    received against prior in-degree and activity; the preferential-attachment exponent with
    a bootstrap of `resamples` draws seeded by `seed`), ``series`` (the paradox and
    reciprocity at no more than `max_points` steps, as lists).
    """
    events = run.events
    if events.empty or _actions(events, "follow_choice").empty:
        return {}
    n = run.n_agents
    follows = follow_events(events)
    graph = follow_graph(follows, n)
    members = join_steps(events).index.to_numpy(dtype=np.int64)
    members = members[members < n]
    if not run.personas.empty and len(run.personas) == n:
        graph.attributes = run.personas.drop(columns=["agent"], errors="ignore")
    wanted = [a for a in (attributes or ATTRIBUTES) if a in graph.node_table.columns]
    series = growth_series(events, n, max_points)
    return {
        "answers": choice_counts(events),
        "agents_joined": len(members),
        "follows": int((follows["sign"] > 0).sum()),
        "unfollows": int((follows["sign"] < 0).sum()),
        "edges": graph.n_edges,
        "friendship_paradox": friendship_paradox_in(graph),
        "reciprocity": reciprocity(graph),
        "in_degree": degree_summary(in_degrees(graph)[members], min_tail),
        "out_degree": degree_summary(out_degrees(graph)[members], min_tail),
        "homophily": homophily(graph, wanted) if wanted else {},
        "attachment": {
            "gain": gain_correlations(events, n),
            "exponent": attachment_exponent(events, n, resamples, seed),
        },
        "series": {
            c: [None if pd.isna(v) else v for v in series[c].tolist()] for c in series.columns
        },  # fmt: skip
    }


class GrowthParams(BaseModel):
    """Parameters of the network_growth measure."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    attributes: list[str] = Field(
        default_factory=lambda: list(ATTRIBUTES), description="persona fields for homophily"
    )
    max_points: int = Field(50, ge=2, le=10_000, strict=True, description="steps in the series")
    min_tail: int = Field(10, ge=2, strict=True, description="power law: least tail size")
    resamples: int = Field(
        1000, ge=100, le=100_000, strict=True, description="attachment exponent: bootstrap draws"
    )
    seed: int = Field(0, ge=0, strict=True, description="attachment exponent: bootstrap seed")


@register_measure("network_growth", params=GrowthParams)
def network_growth_measure(run: RunData, params: GrowthParams) -> dict[str, Any] | None:
    """Friendship paradox, degrees, homophily, reciprocity, attachment of a grown network."""
    p = params
    return (
        network_growth_summary(run, p.attributes, p.max_points, p.min_tail, p.resamples, p.seed)
        or None
    )


@register_report_part("network_growth figures")
def network_growth_part(run: RunData, figs: Any, tables: list) -> None:
    """The paradox over time (``growth_paradox``), degree distributions (``growth_degrees``)."""
    events = run.events
    if events.empty or _actions(events, "follow_choice").empty:
        return
    n = run.n_agents
    graph = follow_graph(events, n)
    members = join_steps(events).index.to_numpy(dtype=np.int64)
    members = members[members < n]
    series = growth_series(events, n)
    figs.add(
        "growth_paradox",
        paradox_over_time(series),
        "Left: agents' mean followers and their followees' mean followers over the steps; "
        "right: the share of agents whose followees have more followers than they do.",
    )
    distribution = degree_distribution_table(graph, members)
    fits = {
        "in": power_law_fit(in_degrees(graph)[members]),
        "out": power_law_fit(out_degrees(graph)[members]),
    }
    figs.add(
        "growth_degrees",
        degree_ccdf(distribution, fits),
        "In-degree (followers) and out-degree distributions with the fitted power-law tails "
        "(Clauset et al. 2009).",
    )
    tables.append(("Follow network over time", series))
    tables.append(
        ("Power-law fits", pd.DataFrame([{"direction": d, **f} for d, f in fits.items()]))
    )
