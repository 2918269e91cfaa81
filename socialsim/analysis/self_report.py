"""Say versus are versus do: assigned traits, self-reported traits and behaviour, correlated.

Agents that answered the self-report inventory (``self_report`` actions, see
:mod:`socialsim.scenarios.inventory`) have a self-reported score per Big Five trait (0..1).
:func:`self_report_table` puts it beside the persona's assigned trait; :func:`trait_validity`
gives, per trait, the Spearman rho of assigned vs self-report and, for a behaviour per agent
(the share a donor gives, say), of each vs the behaviour, with the Fisher-z / Bonett-Wright
intervals of :func:`socialsim.analysis.consistency.spearman_ci`. Only LLM agents count by
default: a rule agent reports its assigned trait, so it would agree with itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.consistency import spearman_ci
from socialsim.core.rundata import RunData, of_kind, payload

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
DEFINITION = (
    "self-report validity: Spearman rho (Fisher-z interval, Bonett-Wright se) of each agent's "
    "assigned Big Five trait vs its Mini-IPIP self-report score ((mean item rating - 1) / 4), "
    "and of each vs a behaviour; LLM agents only unless rule agents are asked for"
)


def self_report_table(run: RunData, sources: tuple[str, ...] = ("llm",)) -> pd.DataFrame:
    """One row per agent with an answered report: ``agent, source``, ``<trait>`` (assigned)
    and ``<trait>_reported``. An agent asked twice keeps its last answer."""
    actions = of_kind(run.events, "action")
    columns = ["agent", "source", *TRAITS, *(f"{t}_reported" for t in TRAITS)]
    if actions.empty:
        return pd.DataFrame(columns=columns)
    keep = (payload(actions, "type") == "self_report") & (payload(actions, "status") == "answered")
    keep &= payload(actions, "source").isin(sources)
    rows = actions[keep.to_numpy(dtype=bool)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    agents = pd.to_numeric(rows["agent"], errors="coerce").astype("int64")
    table = pd.DataFrame({"agent": agents.to_numpy(), "source": payload(rows, "source").to_numpy()})
    scores = payload(rows, "scores").tolist()
    for t in TRAITS:
        table[f"{t}_reported"] = [float(s.get(t, np.nan)) if s else np.nan for s in scores]
    table = table.drop_duplicates("agent", keep="last").sort_values("agent").reset_index(drop=True)
    assigned = _assigned(run.personas)
    for t in TRAITS:
        column = assigned.get(t, pd.Series(dtype=float))
        table[t] = table["agent"].map(column).astype(float)
    return table[columns]


def trait_validity(
    table: pd.DataFrame,
    behaviour: pd.Series | None = None,
    name: str = "behaviour",
    level: float = 0.95,
) -> dict[str, Any]:
    """Per trait, rho with interval of assigned vs reported (and of each vs `behaviour`).

    `behaviour` is indexed by agent id. Returns ``{"definition", "agents", "traits": {trait:
    {"assigned_vs_reported", "assigned_vs_<name>", "reported_vs_<name>"}}}``.
    """
    out: dict[str, Any] = {"definition": DEFINITION, "agents": int(len(table)), "traits": {}}
    done = table["agent"].map(behaviour) if behaviour is not None else None
    for t in TRAITS:
        found: dict[str, Any] = {}
        both = table[[t, f"{t}_reported"]].dropna()
        found["assigned_vs_reported"] = spearman_ci(
            both[t], both[f"{t}_reported"], (f"assigned {t}", f"reported {t}"), level
        )
        if done is not None:
            for which, column in (("assigned", t), ("reported", f"{t}_reported")):
                pair = pd.DataFrame({"x": table[column], "y": done}).dropna()
                found[f"{which}_vs_{name}"] = spearman_ci(
                    pair["x"], pair["y"], (f"{which} {t}", name), level
                )
        out["traits"][t] = found
    return out


def _assigned(personas: pd.DataFrame) -> dict[str, pd.Series]:
    """Assigned traits by agent id from the run's persona table."""
    out = {}
    if personas is None or personas.empty:
        return out
    agent = personas["agent"] if "agent" in personas else pd.Series(range(len(personas)))
    for t in TRAITS:
        for column in (f"big_five.{t}", t):
            if column in personas:
                out[t] = pd.Series(
                    pd.to_numeric(personas[column], errors="coerce").to_numpy(),
                    index=agent.astype("int64").to_numpy(),
                )
                break
    return out
