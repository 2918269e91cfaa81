"""What the feed family adds to a run's analysis: its measure, tables and report figures.

Registered on import of :mod:`socialsim.scenarios.feed`: the ``feed`` measure
(:func:`~socialsim.scenarios.feed.measures.feed_summary`), the ``feed_*`` tables of the
run's ``tables/`` folder and the acceptance figures of its report page.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from socialsim.analysis.plots import rate_bars
from socialsim.analysis.report.parts import register_report_part
from socialsim.core.registry import register_measure
from socialsim.core.rundata import RunData, of_kind, payload
from socialsim.scenarios.feed import measures as feed
from socialsim.scenarios.feed.plots import acceptance_by_exposure


def _has_exposures(run: RunData) -> bool:
    ev = run.events
    return not ev.empty and bool((payload(of_kind(ev, "action"), "type") == "feed_exposure").any())


@register_measure("feed", params=feed.FeedMeasureParams)
def feed_measures(run: RunData, params: feed.FeedMeasureParams) -> dict[str, Any] | None:
    """Acceptance per exposure, framing, source style and version (runs with a feed)."""
    if not _has_exposures(run):
        return None
    return feed.feed_summary(run.events, params) or None


def _summary(run: RunData) -> dict[str, Any]:
    """The written ``measures.feed``, or the measure computed now."""
    written = ((getattr(run, "summary", None) or {}).get("measures") or {}).get("feed")
    return written if written else feed.feed_summary(run.events)


def feed_tables(run: RunData) -> dict[str, pd.DataFrame]:
    """``feed_by_exposure`` (overall and per framing) and ``feed_by_<framing|source_style|version>``."""
    if not _has_exposures(run):
        return {}
    summary = _summary(run)
    tables = {"feed_by_exposure": feed.series_table(summary)}
    for group in feed.GROUPS:
        tables[f"feed_by_{group}"] = feed.group_table(summary, group)
    return tables


@register_report_part(
    "feed figures",
    tables=feed_tables,
    figures={"feed.repetition": "feed_acceptance", "feed.acceptance": "feed_acceptance",
             "feed.by_exposure": "feed_acceptance", "feed.by_framing": "feed_framing",
             "feed.by_version": "feed_framing"},
)  # fmt: skip
def feed_page(run: RunData, figs: Any, tables: list) -> None:
    """Acceptance by exposure and framing; by framing and version; the tables behind them."""
    if not _has_exposures(run):
        return
    summary = _summary(run)
    series = feed.series_table(summary)
    figs.add(
        "feed_acceptance",
        acceptance_by_exposure(series),
        "Share of exposures ending in acceptance at each agent's 1st, 2nd, ... exposure to a "
        "claim, overall (black) and per framing, with 95% intervals that take agents as clusters.",
    )
    framing = feed.group_table(summary, "framing")
    version = feed.group_table(summary, "version")
    bars = pd.concat(
        [framing.rename(columns={"framing": "group"}),
         version.assign(group="version: " + version["version"]).drop(columns="version")],
        ignore_index=True,
    )  # fmt: skip
    fig = rate_bars(bars, "group", title="acceptance by framing and by version")
    if fig.axes:
        fig.axes[0].set_ylim(0, 1.05)
    figs.add(
        "feed_framing",
        fig,
        "Share of exposures ending in acceptance per framing, and per version of the claim "
        "(true or manipulated), with 95% intervals that take agents as clusters.",
    )
    tables += [
        ("Acceptance by exposure", series),
        ("Acceptance by framing", framing),
        ("Acceptance by version", version),
        ("Acceptance by source style", feed.group_table(summary, "source_style")),
    ]
