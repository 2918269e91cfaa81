"""What the norms family adds to a run's analysis: its measure, tables and report figures.

Registered on import of :mod:`socialsim.scenarios.norms`: the ``norms`` measure
(:func:`~socialsim.scenarios.norms.measures.norms_summary`), the ``norm_*`` tables of the
run's ``tables/`` folder and the adherence figures of its report page.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from socialsim.analysis.report.parts import register_report_part
from socialsim.core.registry import NoParams, register_measure
from socialsim.core.rundata import RunData, of_kind, payload
from socialsim.scenarios.norms import measures as norms
from socialsim.scenarios.norms.plots import adherence_bars


@register_measure("norms")
def norms_measures(run: RunData, params: NoParams) -> dict[str, Any] | None:
    """Norm adherence, pressure and judging accuracy (runs with norm choices)."""
    ev = run.events
    if ev.empty or not (payload(of_kind(ev, "action"), "type") == "norm_choice").any():
        return None
    return norms.norms_summary(ev, run.graph)


def norms_tables(run: RunData) -> dict[str, pd.DataFrame]:
    """``norm_adherence`` (overall and ``_by_<column>``), ``norm_pressure``, ``norm_judge_accuracy``."""
    ev = run.events
    tables: dict[str, pd.DataFrame] = {}
    if ev.empty:
        return tables
    choices = norms.norm_choices(ev)
    if not choices.empty:
        tables["norm_adherence"] = norms.adherence(choices)
        for col in ("culture", "setting", "category", "actor"):
            if col in choices:
                tables[f"norm_adherence_by_{col}"] = norms.adherence(choices, col)
        tables["norm_pressure"] = norms.pressure_effect(choices)
    judged = norms.judge_accuracy(ev)
    if not judged.empty:
        tables["norm_judge_accuracy"] = judged
    return tables


@register_report_part("norm figures", tables=norms_tables, figures={"norms": "adherence"})
def norms_page(run: RunData, figs: Any, tables: list) -> None:
    """Adherence by culture (or setting, category) and under pressure; judge accuracy."""
    ev = run.events
    choices = norms.norm_choices(ev)
    if choices.empty:
        return
    by = next((c for c in ("culture", "setting", "category") if c in choices), None)
    table = norms.adherence(choices, by)
    figs.add(
        "adherence",
        adherence_bars(table, by or "all"),
        f"Norm adherence of benign agents by {by or 'all'}: share of answered choices that are "
        "expected or okay, with Wilson 95% intervals.",
    )
    pressure = norms.pressure_effect(choices)
    if not pressure.empty and pressure["answered"].sum() > 0:
        figs.add(
            "norm_pressure",
            adherence_bars(pressure, "condition"),
            "Norm adherence of benign agents by social-pressure condition (the conditions "
            "overlap), with Wilson 95% intervals.",
        )
    tables += [("Norm adherence", table), ("Norm adherence under pressure", pressure)]
    judged = norms.judge_accuracy(ev)
    if not judged.empty:
        tables.append(("Judge accuracy", judged))
