"""Norm adherence: who follows norms, under what pressure, and how violations cluster.

Reads ``action`` events of type ``norm_choice`` (label expected / okay / unexpected; the
first two count as adherent) and ``norm_judgement`` (judged vs true label).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from socialsim.analysis.io import as_bool, event_table
from socialsim.analysis.stats import proportion_table

ADHERENT_LABELS = ("expected", "okay")


def norm_choices(events: pd.DataFrame) -> pd.DataFrame:
    """``norm_choice`` actions as a table with an ``adherent`` column (1.0 / 0.0)."""
    table = event_table(events, "action", "norm_choice")
    if table.empty:
        return table.assign(adherent=pd.Series(dtype=float))
    label = table["label"].astype(str).str.strip().str.lower() if "label" in table else ""
    table["adherent"] = label.isin(ADHERENT_LABELS).astype(float)
    for col in ("social_pressure", "violator"):
        if col in table:
            table[col] = as_bool(table[col])
    if "neighbours_violating" in table:
        table["neighbours_violating"] = pd.to_numeric(
            table["neighbours_violating"], errors="coerce"
        )
    return table


def adherence(choices: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Adherence rate with Wilson intervals, overall or per group (culture, setting, ...).

    ``adherence(norm_choices(events), "culture")`` -> ``culture, n, k, rate, ci_low, ci_high``.
    """
    if by is None:
        return proportion_table(choices.assign(all="all"), "all", "adherent")
    by = [by] if isinstance(by, str) else list(by)
    missing = [b for b in by if b not in choices.columns]
    if missing:
        return pd.DataFrame(columns=[*by, "n", "k", "rate", "ci_low", "ci_high"])
    return proportion_table(choices.dropna(subset=by), by, "adherent")


def adherence_by_attribute(choices: pd.DataFrame, graph: nx.Graph, attribute: str) -> pd.DataFrame:
    """Adherence per value of a persona (node) attribute, e.g. ``age`` or ``country``."""
    values = nx.get_node_attributes(graph, attribute)
    tagged = choices.assign(**{attribute: choices["agent"].map(values)})
    return adherence(tagged, attribute)


def pressure_effect(choices: pd.DataFrame) -> pd.DataFrame:
    """Adherence without pressure, and with it split by what visible neighbours did.

    Conditions: ``no_pressure``; ``pressure_neighbours_followed`` (under half of the
    visible neighbour choices broke the norm); ``pressure_neighbours_broke`` (half or more);
    ``pressure_unknown`` (pressure on, share not recorded).
    """
    if choices.empty or "social_pressure" not in choices:
        return pd.DataFrame(columns=["condition", "n", "k", "rate", "ci_low", "ci_high"])
    pressure = choices["social_pressure"] == 1
    share = choices.get("neighbours_violating", pd.Series(np.nan, index=choices.index))
    condition = np.select(
        [~pressure, share < 0.5, share >= 0.5],
        ["no_pressure", "pressure_neighbours_followed", "pressure_neighbours_broke"],
        default="pressure_unknown",
    )
    return proportion_table(choices.assign(condition=condition), "condition", "adherent")


def violation_clustering(choices: pd.DataFrame, graph: nx.Graph) -> dict[str, Any]:
    """Do violations cluster on the graph? Agent vs neighbour adherence, and assortativity.

    ``correlation``: Pearson correlation over agents of own adherence rate and the mean
    adherence of neighbours that made choices; ``assortativity``: numeric assortativity of
    adherence rates over edges between agents that made choices.
    """
    rate = choices.dropna(subset=["agent"]).groupby("agent")["adherent"].mean()
    rate.index = rate.index.astype(int)
    own, nbr = [], []
    for agent, value in rate.items():
        if agent not in graph:
            continue
        vals = [rate[v] for v in graph.neighbors(agent) if v in rate.index]
        if vals:
            own.append(value)
            nbr.append(float(np.mean(vals)))
    out: dict[str, Any] = {"n_agents": len(own), "correlation": None, "assortativity": None}
    if len(own) > 2 and np.std(own) > 0 and np.std(nbr) > 0:
        out["correlation"] = float(np.corrcoef(own, nbr)[0, 1])
    sub = graph.subgraph([a for a in rate.index if a in graph]).copy()
    if sub.number_of_edges() and rate.nunique() > 1:
        nx.set_node_attributes(sub, {a: float(rate[a]) for a in sub.nodes}, "adherence")
        try:
            with np.errstate(invalid="ignore", divide="ignore"):
                value = nx.numeric_assortativity_coefficient(sub, "adherence")
            out["assortativity"] = None if np.isnan(value) else float(value)
        except (ValueError, ZeroDivisionError):
            pass
    return out


def norm_judgements(events: pd.DataFrame) -> pd.DataFrame:
    """``norm_judgement`` actions with ``correct`` and ``truth`` (following / breaking)."""
    table = event_table(events, "action", "norm_judgement")
    if table.empty:
        return table.assign(correct=pd.Series(dtype=float), truth=pd.Series(dtype=object))
    judged = table["judged_label"].astype(str).str.strip().str.lower()
    true = table["true_label"].astype(str).str.strip().str.lower()
    table["correct"] = (judged == true).astype(float)
    table["truth"] = np.where(true.isin(ADHERENT_LABELS), "norm_following", "norm_breaking")
    return table


def judge_accuracy(events: pd.DataFrame) -> pd.DataFrame:
    """Judge accuracy overall and separately for norm-following and norm-breaking cases."""
    table = norm_judgements(events)
    if table.empty:
        return pd.DataFrame(columns=["truth", "n", "k", "rate", "ci_low", "ci_high"])
    split = proportion_table(table, "truth", "correct")
    total = proportion_table(table.assign(truth="overall"), "truth", "correct")
    return pd.concat([total, split], ignore_index=True)


def norms_summary(events: pd.DataFrame, graph: nx.Graph | None = None) -> dict[str, Any]:
    """Key norm measures as a JSON-ready dict (adherence, pressure, clustering, judging)."""
    choices = norm_choices(events)
    out: dict[str, Any] = {}
    if not choices.empty:
        out["n_choices"] = int(len(choices))
        out["adherence"] = {"overall": float(choices["adherent"].mean())}
        for col in ("culture", "setting", "category", "role"):
            if col in choices:
                table = adherence(choices, col)
                out["adherence"][col] = dict(
                    zip(table[col].astype(str), table["rate"], strict=True)
                )
        pe = pressure_effect(choices)
        out["pressure"] = dict(zip(pe["condition"], pe["rate"], strict=True))
        if graph is not None:
            out["clustering"] = violation_clustering(choices, graph)
    judged = judge_accuracy(events)
    if not judged.empty:
        out["judge_accuracy"] = dict(zip(judged["truth"], judged["rate"], strict=True))
    return out
