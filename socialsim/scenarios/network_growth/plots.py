"""Figures of a grown follow network: the friendship paradox over time, degree distributions.

Each function takes the tables of :mod:`socialsim.scenarios.network_growth.measures` and returns a
matplotlib Figure on its own Agg canvas (:mod:`socialsim.analysis.canvas`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.canvas import figure, no_data


def paradox_over_time(series: pd.DataFrame) -> Any:
    """Mean followers vs followees' mean followers per step (left), paradox share (right)."""
    fig = figure(9.0, 3.6)
    left, right = fig.subplots(1, 2)
    rows = series.dropna(subset=["share"]) if not series.empty else series
    if rows.empty:
        no_data(fig, right)
        return no_data(fig, left)
    left.plot(rows["step"], rows["mean_neighbour_degree"], label="followees' mean followers")
    left.plot(rows["step"], rows["mean_degree"], label="own followers (mean)")
    left.set_xlabel("step")
    left.set_ylabel("followers")
    left.legend(fontsize=8)
    right.plot(rows["step"], rows["share"], color="tab:red")
    right.set_ylim(0, 1)
    right.set_xlabel("step")
    right.set_ylabel("share with fewer followers than followees")
    return fig


def degree_ccdf(table: pd.DataFrame, fits: dict[str, dict[str, Any]]) -> Any:
    """P(K >= k) of in- and out-degrees on log-log axes, with each fitted power-law tail."""
    fig = figure(6.4, 4.0)
    ax = fig.add_subplot()
    if table.empty:
        return no_data(fig, ax)
    for direction, rows in table.groupby("direction", sort=True):
        rows = rows[rows["degree"] > 0]
        if rows.empty:
            continue
        (line,) = ax.loglog(rows["degree"], rows["ccdf"], "o", ms=3, label=f"{direction}-degree")
        fit = fits.get(str(direction)) or {}
        if fit.get("alpha") is not None:
            k0 = fit["k_min"]
            at = rows.loc[rows["degree"] >= k0, "ccdf"]
            k = np.geomspace(k0, rows["degree"].max(), 30)
            start = float(at.iloc[0]) if len(at) else 1.0
            ax.loglog(
                k,
                start * ((k - 0.5) / (k0 - 0.5)) ** (1 - fit["alpha"]),
                "-",
                color=line.get_color(),
                label=f"fit alpha={fit['alpha']:.2f}, k>={k0}",
            )
    ax.set_xlabel("degree k")
    ax.set_ylabel("P(K >= k)")
    ax.legend(fontsize=8)
    return fig
