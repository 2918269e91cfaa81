"""Report parts of scenarios outside the built-in four: figures and tables a run page adds.

A part is ``fn(run, figs, tables)``: it adds figures with ``figs.add(name, figure, caption)``
(a name a scenario's ``headline_measures`` may point to) and appends ``(title, DataFrame)``
to `tables`; it does nothing when its scenario's events are not in the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ReportPart = Callable[[Any, Any, list], None]

REPORT_PARTS: list[tuple[str, ReportPart]] = []


def register_report_part(what: str) -> Callable[[ReportPart], ReportPart]:
    """Function decorator: draw this part on every run page (`what` names it in notes)."""

    def deco(fn: ReportPart) -> ReportPart:
        REPORT_PARTS[:] = [(w, f) for w, f in REPORT_PARTS if w != what]
        REPORT_PARTS.append((what, fn))
        return fn

    return deco
