"""Outcome classes of negotiations: authority decision, compromise, no deal; their shares.

Reads the ``outcome_class`` of each ``negotiation_outcome`` (see
:func:`socialsim.scenarios.negotiation.tables.outcome_class`): over answered negotiations,
each class's share with a Wilson 95% interval, overall, by reflection setting (the parties'
settings, sorted and joined by " + ") and by table size. Failed negotiations have no class
and enter only the ``failed`` counts.

Example: ``outcome_class_summary(outcomes)["overall"]["authority"]["rate"]``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from socialsim.analysis.stats import answer_table, count_cell
from socialsim.core.rundata import as_list

PARTIES = ("proposer", "responder", "members")
"""The columns naming a negotiation's agents (``members``: every seat of a table of more than
two): the clusters of its shares' intervals."""

CLASSES = ("authority", "compromise", "no_deal")


def with_classes(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The outcomes table with one 1.0 / 0.0 column per class (NaN when failed), ``reflection``
    (the parties' settings, sorted, joined by " + ") and ``parties``."""
    table = outcomes.copy()
    for col, default in (("outcome_class", None), ("reflection", None), ("parties", 2)):
        if col not in table:
            table[col] = default
    answered = table["status"] == "answered"
    for name in CLASSES:
        table[name] = (table["outcome_class"] == name).astype(float).where(answered)
    settings = table["reflection"].map(lambda r: sorted({str(v) for v in as_list(r)}))
    table["reflection"] = settings.map(lambda r: " + ".join(r) if r else "none")
    table["parties"] = pd.to_numeric(table["parties"], errors="coerce").fillna(2).astype(int)
    return table


def class_shares(table: pd.DataFrame) -> dict[str, Any]:
    """Each class's cell ``{asked, answered, failed, k, rate, ci_low, ci_high}`` in `table`."""
    return {
        name: count_cell(answer_table(table, None, name, agents=PARTIES).iloc[0])
        for name in CLASSES
    }


def outcome_class_summary(outcomes: pd.DataFrame) -> dict[str, Any]:
    """Class shares overall, ``by_reflection`` and ``by_parties`` ({} without outcomes)."""
    if outcomes.empty:
        return {}
    table = with_classes(outcomes)
    return {
        "overall": class_shares(table),
        "by_reflection": {
            str(k): class_shares(g) for k, g in table.groupby("reflection", sort=True)
        },
        "by_parties": {str(k): class_shares(g) for k, g in table.groupby("parties", sort=True)},
    }


def class_table(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per (reflection setting, class): the share and its interval, for figures."""
    rows = [
        {"group": f"{setting}: {name}", **cell}
        for setting, cells in summary.get("by_reflection", {}).items()
        for name, cell in cells.items()
    ]
    return pd.DataFrame(rows)
