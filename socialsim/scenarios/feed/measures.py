"""Feed measures: acceptance per exposure, by framing, source style and version, with intervals.

Reads the ``feed_exposure`` actions (one per item an agent saw). A *cell* is a set of
exposures (all, the n-th exposures of agents to claims, one framing, ...); its ``rate`` is
the share of its answered exposures that ended in accepting the claim, and ``confidence``
the mean confidence of those answers. Exposures of one agent are not independent (an agent
is more or less credulous throughout), so every interval takes agents as clusters
(:func:`socialsim.analysis.stats.cluster_intervals`): Korn-Graubard for the shares of the
ratio sum(k) / sum(n), a cluster-robust t interval for mean confidence. The claims are the
ones the run used: they are not a sample.

The repetition effect is the mean, over (agent, claim) pairs answered at both their first
and second exposure, of accepted at the second minus accepted at the first (-1..1), with
the cluster-robust t interval. ``docs/measures.md`` defines each measure.

Example: ``feed_summary(run.events)["by_exposure"]["2"]["rate"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from socialsim.analysis.stats import CLUSTER_MEAN_METHOD, CLUSTER_SHARE_METHOD, cluster_intervals
from socialsim.core.rundata import as_bool, event_table

GROUPS = ("framing", "source_style", "version")
INTERVAL = (
    f"95%, agents as clusters, claims fixed: {CLUSTER_SHARE_METHOD} for shares, "
    f"{CLUSTER_MEAN_METHOD} for mean confidence and the repetition effect"
)


class FeedMeasureParams(BaseModel):
    """Params of the ``feed`` measure (``analysis.measures.feed``)."""

    model_config = ConfigDict(extra="forbid")

    max_exposure: int = Field(10, ge=2, le=1000, description="exposures from this on pooled")
    resamples: int = Field(
        1000, ge=100, le=100_000,
        description="not used: the intervals are closed form (kept so older configs load)",
    )  # fmt: skip
    seed: int = Field(0, ge=0, description="not used (kept so older configs load)")


# --- the table ---------------------------------------------------------------------------------
def exposure_table(events: pd.DataFrame) -> pd.DataFrame:
    """``feed_exposure`` actions, one row per exposure: agent, claim, item, framing,
    source_style, version, exposure, status, accepted (1.0 / 0.0, NaN when failed),
    confidence."""
    table = event_table(events, "action", "feed_exposure")
    cols = ["agent", "claim", "item", *GROUPS, "exposure", "status", "accepted", "confidence"]
    if table.empty:
        return pd.DataFrame(columns=cols)
    out = table.reindex(columns=cols).copy()
    out["agent"] = pd.to_numeric(out["agent"]).astype(np.int64)
    out["exposure"] = pd.to_numeric(out["exposure"]).astype(np.int64)
    out["status"] = out["status"].fillna("failed").astype(str)
    answered = out["status"] == "answered"
    out["accepted"] = as_bool(out["accepted"]).astype(float).where(answered)
    out["confidence"] = pd.to_numeric(out["confidence"], errors="coerce").where(answered)
    return out


def exposure_label(exposure: np.ndarray, max_exposure: int) -> np.ndarray:
    """ "1", "2", ... and ``"<max>+"`` for the exposures from `max_exposure` on."""
    e = np.asarray(exposure)
    return np.where(e >= max_exposure, f"{max_exposure}+", e.astype(str)).astype(object)


def _cell(rows: pd.DataFrame, k: float, n: float, low: float, high: float) -> dict[str, Any]:
    answered = int((rows["status"] == "answered").sum())
    return {
        "asked": len(rows),
        "answered": answered,
        "failed": len(rows) - answered,
        "agents": int(rows["agent"].nunique()),
        "k": int(round(k)),
        "rate": _num(k / n) if n > 0 else None,
        "ci_low": _num(low),
        "ci_high": _num(high),
    }


def _num(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


# --- the summary -------------------------------------------------------------------------------
def feed_summary(events: pd.DataFrame, params: FeedMeasureParams | None = None) -> dict[str, Any]:
    """Acceptance and confidence per exposure, framing, source style and version (see module)."""
    params = params or FeedMeasureParams()
    table = exposure_table(events)
    if table.empty:
        return {}
    table = table.assign(n_label=exposure_label(table["exposure"], params.max_exposure))
    agents, agent_code = np.unique(table["agent"].to_numpy(), return_inverse=True)
    answered = (table["status"] == "answered").to_numpy()
    accepted = table["accepted"].fillna(0.0).to_numpy()
    confidence = table["confidence"].fillna(0.0).to_numpy()

    cells: list[tuple[tuple[str, ...], np.ndarray, np.ndarray]] = []  # (path, row mask, y)

    def add(path: tuple[str, ...], mask: np.ndarray, y: np.ndarray = accepted) -> None:
        cells.append((path, mask, y))

    every = np.ones(len(table), dtype=bool)
    add(("acceptance",), every)
    add(("confidence",), every, confidence)
    labels = _ordered(table["n_label"])
    for label in labels:
        mask = (table["n_label"] == label).to_numpy()
        add(("by_exposure", label), mask)
        add(("confidence_by_exposure", label), mask, confidence)
    for group in GROUPS:
        for value in _ordered(table[group]):
            mask = (table[group] == value).to_numpy()
            add((f"by_{group}", str(value)), mask)
            if group == "framing":
                for label in labels:
                    both = mask & (table["n_label"] == label).to_numpy()
                    if both.any():
                        add(("by_framing_exposure", str(value), label), both)
    first, second, pair_agents = _first_second(table)

    k = np.zeros((len(agents), len(cells) + 1))
    n = np.zeros_like(k)
    for c, (_, mask, y) in enumerate(cells):
        use = mask & answered
        np.add.at(k[:, c], agent_code[use], y[use])
        np.add.at(n[:, c], agent_code[use], 1.0)
    if len(first):  # the repetition effect as a share: (d + 1) / 2 in 0..1
        at = np.searchsorted(agents, pair_agents)
        np.add.at(k[:, -1], at, (second - first + 1.0) / 2.0)
        np.add.at(n[:, -1], at, 1.0)
    means = np.array([path[0].startswith("confidence") for path, _, _ in cells] + [True])
    low, high = np.full(len(means), np.nan), np.full(len(means), np.nan)
    low[~means], high[~means] = cluster_intervals(k[:, ~means], n[:, ~means])
    low[means], high[means] = cluster_intervals(k[:, means], n[:, means], shares=False)

    out: dict[str, Any] = {
        "exposures": _counts(table),
        "interval": INTERVAL,
    }
    ksum, nsum = k.sum(axis=0), n.sum(axis=0)
    for c, (path, mask, _) in enumerate(cells):
        if path[0].startswith("confidence"):
            value = {
                "mean": _num(ksum[c] / nsum[c]) if nsum[c] else None,
                "ci_low": _num(low[c]), "ci_high": _num(high[c]), "answered": int(nsum[c]),
            }  # fmt: skip
        else:
            value = _cell(table[mask], ksum[c], nsum[c], low[c], high[c])
        _put(out, path, value)
    out["repetition"] = _repetition(
        first, second, pair_agents, ksum[-1], nsum[-1], low[-1], high[-1]
    )
    return out


def _ordered(values: pd.Series) -> list[str]:
    """Distinct values, exposures in numeric order (the pooled ``"N+"`` last), others sorted."""
    distinct = [str(v) for v in pd.unique(values.dropna())]
    return sorted(
        distinct, key=lambda v: (int(v.rstrip("+")), v) if v.rstrip("+").isdigit() else (0, v)
    )


def _put(out: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        out = out.setdefault(key, {})
    out[path[-1]] = value


def _counts(table: pd.DataFrame) -> dict[str, int]:
    answered = int((table["status"] == "answered").sum())
    return {
        "asked": len(table),
        "answered": answered,
        "failed": len(table) - answered,
        "agents": int(table["agent"].nunique()),
        "claims": int(table["claim"].nunique()),
        "items": int(table["item"].nunique()),
        "max_exposure": int(table["exposure"].max()),
    }


def _first_second(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(accepted at 1st, accepted at 2nd, agent) of the (agent, claim) pairs answered at both."""
    rows = table[(table["exposure"] <= 2) & (table["status"] == "answered")]
    wide = rows.pivot_table(
        index=["agent", "claim"], columns="exposure", values="accepted", aggfunc="first"
    )
    if 1 not in wide or 2 not in wide:
        empty = np.zeros(0)
        return empty, empty, np.zeros(0, dtype=np.int64)
    wide = wide.dropna(subset=[1, 2])
    agent = wide.index.get_level_values("agent").to_numpy(dtype=np.int64)
    return wide[1].to_numpy(float), wide[2].to_numpy(float), agent


def _repetition(
    first: np.ndarray, second: np.ndarray, agent: np.ndarray,
    k: float, n: float, low: float, high: float,
) -> dict[str, Any]:  # fmt: skip
    """The repetition effect block (see the module); its interval mapped back from (d + 1) / 2."""
    if not len(first):
        return {"pairs": 0, "agents": 0, "first": None, "second": None, "effect": None,
                "ci_low": None, "ci_high": None}  # fmt: skip
    return {
        "pairs": len(first),
        "agents": int(np.unique(agent).size),
        "first": _num(first.mean()),
        "second": _num(second.mean()),
        "effect": _num(2.0 * k / n - 1.0),
        "ci_low": _num(2.0 * low - 1.0),
        "ci_high": _num(2.0 * high - 1.0),
    }


# --- tables ------------------------------------------------------------------------------------
def series_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The per-exposure acceptance series, overall and per framing, as rows:
    ``framing, exposure, answered, k, rate, ci_low, ci_high`` (``framing`` "all" overall)."""
    rows = []
    blocks = [("all", summary.get("by_exposure", {}))]
    blocks += list(summary.get("by_framing_exposure", {}).items())
    for framing, series in blocks:
        for label, cell in series.items():
            rows.append({"framing": framing, "exposure": label, **_cell_row(cell)})
    return pd.DataFrame(rows, columns=["framing", "exposure", *_ROW])


def group_table(summary: dict[str, Any], group: str) -> pd.DataFrame:
    """One ``by_<group>`` block of the summary as rows: ``<group>, answered, k, rate, ...``."""
    block = summary.get(f"by_{group}", {})
    rows = [{group: key, **_cell_row(cell)} for key, cell in block.items()]
    return pd.DataFrame(rows, columns=[group, *_ROW])


_ROW = ("asked", "answered", "failed", "agents", "k", "rate", "ci_low", "ci_high")


def _cell_row(cell: dict[str, Any]) -> dict[str, Any]:
    return {key: cell.get(key) for key in _ROW}
