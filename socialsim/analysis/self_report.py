"""Say versus are versus do: assigned traits, self-reported traits and behaviour, correlated.

Agents that answered the self-report inventory (``self_report`` actions, asked in any run
with ``agents.self_report``, see :mod:`socialsim.simulation.self_report`) have a
self-reported score per Big Five trait (0..1). :func:`self_report_table` puts it beside the
persona's assigned trait; :func:`trait_validity` gives, per trait, the Spearman rho of
assigned vs self-report and, for a behaviour per agent (the share a donor gives, say), of
each vs the behaviour, with the Fisher-z / Bonett-Wright intervals of
:func:`socialsim.analysis.consistency.spearman_ci`. The ``self_report`` measure
(:func:`self_report_summary`) reports it for every run that asked, per time asked (before
the first step, after the last) and, when both, how stable the self-report stayed. Only LLM
agents count by default: a rule agent reports its assigned trait, so it would agree with
itself.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from socialsim.analysis.consistency import spearman_ci
from socialsim.analysis.report.parts import register_report_part
from socialsim.core.registry import register_measure
from socialsim.core.rundata import RunData, of_kind, payload

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
DEFINITION = (
    "self-report validity: Spearman rho (Fisher-z interval, Bonett-Wright se) of each agent's "
    "assigned Big Five trait vs its Mini-IPIP self-report score ((mean item rating - 1) / 4), "
    "and of each vs a behaviour; LLM agents only unless rule agents are asked for"
)


class SelfReportParams(BaseModel):
    """Parameters of the ``self_report`` measure."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    sources: list[Literal["llm", "rule"]] = Field(
        default_factory=lambda: ["llm"],
        description="whose answers are correlated: llm agents, rule agents (who report their "
        "assigned traits, to within rounding) or both",
    )
    level: float = Field(0.95, gt=0.0, lt=1.0, description="interval level")


def self_report_events(run: RunData) -> pd.DataFrame:
    """The run's ``self_report`` actions (any status and source), with a ``time`` column:
    the payload's ``when`` (before / after), or ``step_<k>`` for a report that names none."""
    actions = of_kind(run.events, "action")
    if actions.empty:
        return actions.assign(time=pd.Series(dtype=object))
    rows = actions[(payload(actions, "type") == "self_report").to_numpy(dtype=bool)]
    when = payload(rows, "when")
    steps = pd.to_numeric(rows["step"], errors="coerce").fillna(0).astype("int64")
    labels = [
        w if isinstance(w, str) and w else f"step_{s}"
        for w, s in zip(when.tolist(), steps.tolist(), strict=True)
    ]
    return rows.assign(time=labels)


def self_report_table(
    run: RunData, sources: tuple[str, ...] = ("llm",), time: str | None = None
) -> pd.DataFrame:
    """One row per agent with an answered report: ``agent, source``, ``<trait>`` (assigned)
    and ``<trait>_reported``. An agent asked more than once keeps its last answer; `time`
    (``before``, ``after``) keeps only the reports of that time."""
    rows = self_report_events(run)
    columns = ["agent", "source", *TRAITS, *(f"{t}_reported" for t in TRAITS)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    keep = (payload(rows, "status") == "answered") & payload(rows, "source").isin(sources)
    if time is not None:
        keep &= rows["time"] == time
    rows = rows[keep.to_numpy(dtype=bool)]
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


def report_stability(
    first: pd.DataFrame, second: pd.DataFrame, level: float = 0.95
) -> dict[str, Any]:
    """Per trait, rho with interval of the same agents' reported scores in two tables (e.g.
    before the first step and after the last): how far the run moved what agents say."""
    both = first.merge(second, on="agent", suffixes=("_first", "_second"))
    out: dict[str, Any] = {"agents": int(len(both)), "traits": {}}
    for t in TRAITS:
        pair = both[[f"{t}_reported_first", f"{t}_reported_second"]].dropna()
        out["traits"][t] = spearman_ci(
            pair.iloc[:, 0], pair.iloc[:, 1], (f"{t} first", f"{t} second"), level
        )
    return out


def self_report_summary(run: RunData, params: SelfReportParams | None = None) -> dict[str, Any]:
    """Per time asked: how many agents answered, and :func:`trait_validity` of the chosen
    sources' answers; ``before_vs_after`` when the run asked both (empty: never asked)."""
    params = params or SelfReportParams()
    rows = self_report_events(run)
    if rows.empty:
        return {}
    sources = tuple(params.sources)
    out: dict[str, Any] = {"definition": DEFINITION, "sources": list(sources)}
    status, source = payload(rows, "status"), payload(rows, "source")
    for time in dict.fromkeys(rows["time"]):
        at = (rows["time"] == time).to_numpy(dtype=bool)
        answered = at & (status == "answered").to_numpy(dtype=bool)
        validity = trait_validity(self_report_table(run, sources, time), level=params.level)
        validity.pop("definition")
        out[time] = {
            "asked": int(at.sum()),
            "answered": int(answered.sum()),
            "failed": int(at.sum() - answered.sum()),
            "llm": int((at & (source == "llm").to_numpy(dtype=bool)).sum()),
            "rule": int((at & (source == "rule").to_numpy(dtype=bool)).sum()),
            **validity,
        }
    if "before" in out and "after" in out:
        out["before_vs_after"] = report_stability(
            self_report_table(run, sources, "before"),
            self_report_table(run, sources, "after"),
            params.level,
        )
    return out


@register_measure("self_report", params=SelfReportParams)
def self_report_measure(run: RunData, params: SelfReportParams) -> dict[str, Any] | None:
    """Assigned vs self-reported Big Five per trait, per time the inventory was asked."""
    return self_report_summary(run, params) or None


def validity_rows(summary: dict[str, Any]) -> pd.DataFrame:
    """The measure as a table: one row per time and trait (agents, rho, interval)."""
    rows = []
    for time, block in summary.items():
        if not isinstance(block, dict) or "traits" not in block:
            continue
        for trait, found in block["traits"].items():
            pair = found.get("assigned_vs_reported", found)
            what = (
                "reported before vs after" if time == "before_vs_after" else "assigned vs reported"
            )
            rows.append(
                {"time": time, "trait": trait, "correlation": what, "n": pair.get("n"),
                 "rho": pair.get("rho"), "ci_low": pair.get("ci_low"),
                 "ci_high": pair.get("ci_high")}
            )  # fmt: skip
    return pd.DataFrame(rows)


@register_report_part("self_report tables")
def self_report_part(run: Any, figs: Any, tables: list) -> None:
    """The self-report validity table, when the run asked the inventory."""
    written = ((getattr(run, "summary", None) or {}).get("measures") or {}).get("self_report")
    summary = written if written is not None else self_report_summary(run)
    if summary:
        tables.append(("Self-report validity (Mini-IPIP)", validity_rows(summary)))


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
