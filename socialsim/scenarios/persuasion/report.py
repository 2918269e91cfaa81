"""What the persuasion family adds to a run's analysis: its measure, tables and report figures.

Registered on import of :mod:`socialsim.scenarios.persuasion`: the ``persuasion`` measure
(:func:`~socialsim.scenarios.persuasion.measures.persuasion_summary`: debates, authority
pressure, accumulating context, campaigns), the ``debate_shift``, ``authority_outcomes`` and
``stance_by_exposure`` tables of the run's ``tables/`` folder and the figures of its report
page.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis import plots
from socialsim.analysis.report.parts import register_report_part
from socialsim.core.registry import NoParams, register_measure
from socialsim.core.rundata import RunData
from socialsim.scenarios.persuasion import measures as persuasion

FIGURES = {  # the figure that shows each design's measures
    "persuasion.debate": "debate_shift",
    "persuasion.authority": "authority",
    "persuasion.campaign": "campaign_stance",
    "persuasion.accumulation": "stance_by_exposure",
}


@register_measure("persuasion")
def persuasion_measures(run: RunData, params: NoParams) -> dict[str, Any] | None:
    """Debate shifts, authority outcomes, campaign stance by exposure (persuasion runs)."""
    return None if run.events.empty else persuasion.persuasion_summary(run.events)


def persuasion_tables(run: RunData) -> dict[str, pd.DataFrame]:
    """``debate_shift``, ``authority_outcomes`` and ``stance_by_exposure`` (those present)."""
    ev = run.events
    tables: dict[str, pd.DataFrame] = {}
    if ev.empty:
        return tables
    pairs = persuasion.debate_pairs(ev)
    if not pairs.empty:
        tables["debate_shift"] = persuasion.agreement_shift(pairs)
    auth = persuasion.authority_outcomes(ev)
    if not auth.empty and auth["n"].sum() > 0:
        tables["authority_outcomes"] = auth
    drift = persuasion.stance_by_exposure(ev)
    if not drift.empty:
        tables["stance_by_exposure"] = drift
    return tables


def _debate_figures(pairs: pd.DataFrame, figs: Any, tables: list) -> None:
    shift = persuasion.agreement_shift(pairs)
    cells = shift.assign(
        cell=[
            persuasion.cell_label(k, p)
            for k, p in zip(shift["persuader_kind"], shift["personalised"], strict=True)
        ]
    )
    tables.append(("Debate agreement shift", shift))
    figs.add(
        "debate_shift",
        plots.rate_bars(cells, "cell", y="mean_shift", title="agreement shift by cell"),
        "Mean shift of agreement (1-5) toward the persuader per cell, answered pairs, "
        "with t 95% intervals.",
    )
    figs.add(
        "debate_stance",
        plots.stance_distributions(pairs["pre"], pairs["post"], np.arange(0.5, 6), "agreement"),
        "Agreement with the proposition (1-5) before and after the debates, answered pairs.",
    )


@register_report_part("persuasion figures", tables=persuasion_tables, figures=FIGURES)
def persuasion_page(run: RunData, figs: Any, tables: list) -> None:
    """Debate shift and stances, authority outcomes, stance by exposure, campaign stance."""
    ev = run.events
    pairs = persuasion.debate_pairs(ev)
    if not pairs.empty:
        _debate_figures(pairs, figs, tables)
    auth = persuasion.authority_outcomes(ev)
    if not auth.empty and auth["n"].sum() > 0:
        tables.append(("Authority pressure outcomes", auth))
        figs.add(
            "authority",
            plots.rate_bars(auth, "outcome", y="share"),
            "Outcome of authority pressure, share of answered questions.",
        )
    drift = persuasion.stance_by_exposure(ev)
    if not drift.empty:
        tables.append(("Stance by exposure", drift))
        figs.add(
            "stance_by_exposure",
            plots.series_by_step(drift, ["mean"], "Stance by exposure", "mean stance", "exposure"),
            "Mean stance of answered probes after each number of exposures.",
        )
    campaign = persuasion.campaign_stance(ev)
    if not campaign.empty:
        tables.append(("Campaign stance by step", campaign))
        figs.add(
            "campaign_stance",
            plots.series_by_step(campaign, ["stance", "agree_share"], "Stance over the campaign"),
            "Mean credence and share agreeing (credence >= 0.5) of the answering agents, "
            "per step of the campaign.",
        )
