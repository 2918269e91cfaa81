"""Accumulating context: the share of agents whose stance shifted, and stated vs revealed change.

Reads ``stance_probe`` actions (agreement toward the texts' side, 1-5, after each exposure)
and ``behaviour_probe`` actions (a decision whose option reveals the side the agent takes,
before the first and after the last exposure). Registered as the ``accumulation`` measure;
``docs/measures.md`` defines each key.

    >>> shift_directions(pd.Series([2.0, 0.0, -1.0])).tolist()
    ['toward', 'unchanged', 'away']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.stats import mean_interval, wilson_ci
from socialsim.core.registry import NoParams, register_measure
from socialsim.core.rundata import RunData, as_bool, event_table

DIRECTIONS = ("toward", "unchanged", "away")


def share_cell(k: int, n: int) -> dict[str, Any]:
    """``{"k", "n", "rate", "ci_low", "ci_high"}`` with a Wilson 95% interval (None when n = 0)."""
    if n == 0:
        return {"k": int(k), "n": 0, "rate": None, "ci_low": None, "ci_high": None}
    low, high = wilson_ci(int(k), int(n))
    return {"k": int(k), "n": int(n), "rate": k / n, "ci_low": low, "ci_high": high}


def shift_directions(change: pd.Series) -> pd.Series:
    """``toward`` (moved >= 1 point toward the texts), ``away`` (<= -1) or ``unchanged``."""
    values = np.where(change >= 1, "toward", np.where(change <= -1, "away", "unchanged"))
    return pd.Series(values, index=change.index)


def agent_shifts(events: pd.DataFrame) -> pd.DataFrame:
    """Per agent answered at exposure 0 and at the last exposure of the run: ``first``,
    ``last``, ``change`` (toward the texts' side) and ``direction``."""
    cols = ["agent", "first", "last", "change", "direction"]
    table = event_table(events, "action", "stance_probe")
    if table.empty or "stance" not in table:
        return pd.DataFrame(columns=cols)
    table["exposure"] = pd.to_numeric(table["exposure"], errors="coerce")
    table["stance"] = pd.to_numeric(table["stance"], errors="coerce")
    done = table[table["stance"].notna()]
    last = table["exposure"].max()
    if done.empty or last == 0:
        return pd.DataFrame(columns=cols)
    wide = done.pivot_table(index="agent", columns="exposure", values="stance", aggfunc="first")
    if 0 not in wide or last not in wide:
        return pd.DataFrame(columns=cols)
    both = wide[[0, last]].dropna()
    out = pd.DataFrame({"agent": both.index, "first": both[0], "last": both[last]})
    out["change"] = out["last"] - out["first"]
    out["direction"] = shift_directions(out["change"])
    return out.reset_index(drop=True)[cols]


def shift_share(shifts: pd.DataFrame) -> dict[str, Any]:
    """``agents``, a share cell per direction (``toward``, ``away``, ``moved`` = either) and
    ``mean_change`` (t interval) beside them."""
    n = len(shifts)
    count = {d: int((shifts["direction"] == d).sum()) for d in DIRECTIONS}
    return {
        "agents": n,
        "toward": share_cell(count["toward"], n),
        "away": share_cell(count["away"], n),
        "moved": share_cell(count["toward"] + count["away"], n),
        "mean_change": mean_interval(shifts["change"]),
    }


def behaviour_probes(events: pd.DataFrame) -> pd.DataFrame:
    """``behaviour_probe`` actions with numeric ``exposure`` and ``toward`` (1.0 / 0.0 / NaN)."""
    cols = ["agent", "exposure", "status", "toward"]
    table = event_table(events, "action", "behaviour_probe")
    if table.empty:
        return pd.DataFrame(columns=cols)
    for col in cols:  # a column every row left empty (all probes failed) is absent
        if col not in table:
            table[col] = None
    table["exposure"] = pd.to_numeric(table["exposure"], errors="coerce")
    table["toward"] = as_bool(table["toward"]).where(table["status"] == "answered")
    return table


def stated_revealed(shifts: pd.DataFrame, probes: pd.DataFrame) -> pd.DataFrame:
    """Per agent with a stance shift and both behavioural choices: ``stated`` (the shift's
    direction), ``revealed`` (toward: switched to the texts' option, away: switched from it,
    unchanged) and ``agree`` (the two directions are the same)."""
    cols = ["agent", "stated", "revealed", "agree"]
    done = probes[probes["toward"].notna()]
    if shifts.empty or done.empty:
        return pd.DataFrame(columns=cols)
    wide = done.pivot_table(index="agent", columns="exposure", values="toward", aggfunc="first")
    if wide.shape[1] < 2:
        return pd.DataFrame(columns=cols)
    first, last = wide.columns.min(), wide.columns.max()
    moved = (wide[last] - wide[first]).dropna()
    revealed = shift_directions(moved).rename("revealed")
    out = shifts.set_index("agent")[["direction"]].rename(columns={"direction": "stated"})
    out = out.join(revealed, how="inner").reset_index()
    out["agree"] = out["stated"] == out["revealed"]
    return out[cols]


def _behaviour_summary(probes: pd.DataFrame, shifts: pd.DataFrame) -> dict[str, Any]:
    asked = len(probes)
    answered = int(probes["toward"].notna().sum())
    before = probes[(probes["exposure"] == probes["exposure"].min()) & probes["toward"].notna()]
    after = probes[(probes["exposure"] == probes["exposure"].max()) & probes["toward"].notna()]
    pairs = stated_revealed(shifts, probes)
    table = {
        f"{s}|{r}": int(((pairs["stated"] == s) & (pairs["revealed"] == r)).sum())
        for s in DIRECTIONS
        for r in DIRECTIONS
    }
    return {
        "answers": {"asked": asked, "answered": answered, "failed": asked - answered},
        "toward_before": share_cell(int(before["toward"].sum()), len(before)),
        "toward_after": share_cell(int(after["toward"].sum()), len(after)),
        "stated_revealed": {
            "agreement": share_cell(int(pairs["agree"].sum()), len(pairs)),
            "table": table,
        },
    }


def accumulation_summary(events: pd.DataFrame) -> dict[str, Any]:
    """``shift_share`` and (with behavioural probes) ``behaviour``, JSON-ready ({} without probes)."""
    if event_table(events, "action", "stance_probe").empty:
        return {}
    shifts = agent_shifts(events)
    out: dict[str, Any] = {"shift_share": shift_share(shifts)}
    probes = behaviour_probes(events)
    if not probes.empty:
        out["behaviour"] = _behaviour_summary(probes, shifts)
    return out


@register_measure("accumulation")
def accumulation_measures(run: RunData, params: NoParams) -> dict[str, Any] | None:
    """Share of agents whose stance shifted, and stated vs revealed change (accumulation runs)."""
    return None if run.events.empty else (accumulation_summary(run.events) or None)


__all__ = [
    "DIRECTIONS",
    "accumulation_measures",
    "accumulation_summary",
    "agent_shifts",
    "behaviour_probes",
    "share_cell",
    "shift_directions",
    "shift_share",
    "stated_revealed",
]
