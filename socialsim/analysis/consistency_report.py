"""The consistency measure on the run page: one compact row per value, with its interval.

A table of :func:`socialsim.analysis.consistency.consistency_summary`'s output and the
messages whose stance disagrees with their sender's credence; the run page escapes every
cell (message texts included) when it renders a table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

COLUMNS = ["claim", "block", "measure", "n", "value", "ci_low", "ci_high", "note"]


def consistency_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Rows ``claim, block, measure, n, value, ci_low, ci_high, note`` of the three blocks."""
    rows: list[dict[str, Any]] = []
    for claim, blocks in summary.items():
        probes = blocks.get("probes") or {}
        answers = probes.get("answers") or {}
        rows.append(
            _row(claim, "probes", "answers contradicting credence", probes,
                 f"{answers.get('failed', 0)} of {answers.get('asked', 0)} probes failed")
        )  # fmt: skip
        stance = blocks.get("stance") or {}
        base = (
            f"{stance.get('stanced', 0)} stanced of {stance['messages']} messages"
            if stance.get("messages") is not None
            else ""
        )
        rows.append(_row(claim, "stance", "messages disagreeing with credence", stance, base))
        persona = blocks.get("persona") or {}
        failed = persona.get("failed_decisions", 0)
        for name, cell in persona.items():
            if isinstance(cell, dict):
                note = f"{failed} failed decisions left out" if failed else ""
                rows.append(_row(claim, "persona", f"Spearman {name}", cell, note, key="rho"))
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(
    claim: str, block: str, measure: str, cell: dict[str, Any], note: str, key: str = "share"
) -> dict[str, Any]:
    reason = cell.get("reason")
    no_interval = cell.get("no_interval")
    return {
        "claim": claim,
        "block": block,
        "measure": measure,
        "n": cell.get("n"),
        "value": cell.get(key),
        "ci_low": cell.get("ci_low"),
        "ci_high": cell.get("ci_high"),
        "note": "; ".join(
            p
            for p in (
                note,
                reason and f"undefined: {reason}",
                no_interval and f"no interval: {no_interval}",
            )
            if p
        ),
    }


def disagreeing_messages(stances: pd.DataFrame, limit: int = 50) -> pd.DataFrame:
    """The first `limit` messages whose stance disagrees with the sender's credence."""
    rows = stances[stances["disagrees"] == 1].head(limit)
    return rows[["step", "agent", "credence", "stance", "text"]].reset_index(drop=True)
