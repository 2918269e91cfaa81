"""Report parts: what a scenario family adds to a run's analysis besides its measures.

One registry for every family, built-in or a user's. A part, registered under a name with
:func:`register_report_part` (or :func:`add_report_part`), may give

- ``page(run, figs, tables)``: the run page's figures, added with
  ``figs.add(name, figure, caption)`` (a name a scenario's ``headline_measures`` may point
  to), and its tables, appended to `tables` as ``(title, DataFrame)``;
- ``tables(run) -> {file stem: DataFrame}``: the files it adds to the run's ``tables/``
  folder (an empty table is not written);
- ``figures``: ``{measure key prefix: figure name}``, the figure that shows a measure under
  that dotted prefix (``{"persuasion.debate": "debate_shift"}``);
- ``headline(measures, kind) -> [{"measure", "label", "value", "figure"}]``: headline
  measures that lead the run's own (e.g. one per model, whose names no scenario can declare).

Each does nothing when its scenario's events are not in the run. The family's summary
measures are registered with :func:`socialsim.register_measure`. The built-in families
register their parts when their package is imported; :func:`report_parts` loads the
built-ins (those of :data:`socialsim.core.registry.MEASURES`) first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from socialsim.core.registry import MEASURES

PagePart = Callable[[Any, Any, list], None]
TablesPart = Callable[[Any], dict[str, pd.DataFrame]]
HeadlinePart = Callable[[dict[str, Any], Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class ReportPart:
    """What one family adds to a run's tables/ folder and report page (see the module)."""

    name: str
    page: PagePart | None = None
    tables: TablesPart | None = None
    figures: Mapping[str, str] = field(default_factory=dict)
    headline: HeadlinePart | None = None


_PARTS: dict[str, ReportPart] = {}


def add_report_part(
    name: str,
    *,
    page: PagePart | None = None,
    tables: TablesPart | None = None,
    figures: Mapping[str, str] | None = None,
    headline: HeadlinePart | None = None,
) -> ReportPart:
    """Register the part `name` (a later registration of the same name replaces it)."""
    part = ReportPart(name, page, tables, dict(figures or {}), headline)
    _PARTS.pop(name, None)
    _PARTS[name] = part
    return part


def register_report_part(
    name: str,
    *,
    tables: TablesPart | None = None,
    figures: Mapping[str, str] | None = None,
    headline: HeadlinePart | None = None,
) -> Callable[[PagePart], PagePart]:
    """Function decorator: draw this ``page(run, figs, tables)`` on every run page.

    `name` names the part in the page's notes when it fails; `tables`, `figures` and
    `headline` as in :func:`add_report_part`.
    """

    def deco(fn: PagePart) -> PagePart:
        add_report_part(name, page=fn, tables=tables, figures=figures, headline=headline)
        return fn

    return deco


def remove_report_part(name: str) -> None:
    """Forget the part `name` (tests that register temporary parts clean up with this)."""
    _PARTS.pop(name, None)


def report_parts() -> list[ReportPart]:
    """Every registered part, in registration order, the built-in families' included."""
    MEASURES.names()  # imports the built-ins: each family registers its part with its measures
    return list(_PARTS.values())


def figure_for(measure: str) -> str | None:
    """The figure a part names for a measure key (``persuasion.debate.mean_shift``), if any.

    The longest matching dotted prefix wins; a leading ``measures.`` is ignored.
    """
    parts = measure.removeprefix("measures.").split(".")
    best: tuple[int, str] | None = None
    for part in report_parts():
        for prefix, name in part.figures.items():
            size = len(prefix.split("."))
            if parts[:size] == prefix.split(".") and (best is None or size > best[0]):
                best = (size, name)
    return best[1] if best else None
