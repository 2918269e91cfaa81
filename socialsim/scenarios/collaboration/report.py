"""What the collaboration family adds to a run's analysis: its measure, tables, headline and
report figures.

Registered on import of :mod:`socialsim.scenarios.collaboration`: the ``collaboration``
measure (:func:`~socialsim.scenarios.collaboration.measures.collaboration_summary`), the
``collab_*`` tables of the run's ``tables/`` folder, the gap of each model as a headline
measure, and the success figures of its report page.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from socialsim.analysis import plots
from socialsim.analysis.report.parts import register_report_part
from socialsim.core.registry import NoParams, register_measure
from socialsim.core.rundata import RunData
from socialsim.scenarios.collaboration import measures as collaboration
from socialsim.scenarios.collaboration.plots import gap_matrix


@register_measure("collaboration")
def collaboration_measures(run: RunData, params: NoParams) -> dict[str, Any] | None:
    """Solo and pair success, the collaboration gap (runs with collaboration trials)."""
    return None if run.events.empty else collaboration.collaboration_summary(run.events)


def collaboration_tables(run: RunData) -> dict[str, pd.DataFrame]:
    """``collab_by_condition``, ``_by_pairing``, ``_gap``, ``_relay_vs_pair``, ``_starter``."""
    trials = collaboration.collab_trials(run.events) if not run.events.empty else None
    if trials is None or trials.empty:
        return {}
    return {
        "collab_by_condition": collaboration.success_by_condition(trials),
        "collab_by_pairing": collaboration.success_by_pairing(trials),
        "collab_gap": collaboration.collaboration_gap(trials),
        "collab_relay_vs_pair": collaboration.relay_vs_pair(trials),
        "collab_starter": collaboration.starter_effect(trials),
    }


def gap_headline(measures: dict[str, Any], kind: Any) -> list[dict[str, Any]]:
    """A collaboration run leads with the gap of each model (solo minus pair success)."""
    gaps = (measures.get("collaboration") or {}).get("gap")
    if kind != "collaboration" or not isinstance(gaps, dict):
        return []
    return [
        {
            "measure": f"collaboration.gap.{model}.gap",
            "label": f"Collaboration gap of {model} (solo minus pair success)",
            "value": row["gap"],
            "figure": "collaboration_success",
        }
        for model, row in gaps.items()
        if isinstance(row, dict) and isinstance(row.get("gap"), int | float)
    ]


@register_report_part(
    "collaboration figures",
    tables=collaboration_tables,
    figures={"collaboration": "collaboration_success"},
    headline=gap_headline,
)
def collaboration_page(run: RunData, figs: Any, tables: list) -> None:
    """Success by condition, success by model pairing, and their tables."""
    trials = collaboration.collab_trials(run.events)
    if trials.empty:
        return
    by_condition = collaboration.success_by_condition(trials)
    figs.add(
        "collaboration_success",
        plots.rate_bars(by_condition, "condition", title="maze success by condition"),
        "Success of answered maze trials by condition, with Wilson 95% intervals.",
    )
    tables += [
        ("Collaboration success by condition", by_condition),
        ("Collaboration success by pairing", collaboration.success_by_pairing(trials)),
        ("Collaboration gap", collaboration.collaboration_gap(trials)),
    ]
    matrix = collaboration.gap_matrix(trials)
    if not matrix.empty:
        figs.add(
            "collaboration_gap",
            gap_matrix(matrix),
            "Success of answered two-agent trials by model pairing (first x second model).",
        )
