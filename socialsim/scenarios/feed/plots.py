"""Figures of the feed measures; every function returns a matplotlib Figure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.canvas import figure, no_data
from socialsim.analysis.plots import fit_title


def acceptance_by_exposure(series: pd.DataFrame, title: str = "") -> Any:
    """Share accepting at the 1st, 2nd, ... exposure, one line per framing ("all" thick),
    with interval whiskers (from :func:`socialsim.scenarios.feed.measures.series_table`)."""
    fig = figure(6.4, 3.8)
    ax = fig.add_subplot()
    if series.empty:
        return no_data(fig, ax)
    labels = list(dict.fromkeys(series.loc[series["framing"] == "all", "exposure"]))
    x_of = {label: i for i, label in enumerate(labels)}
    for framing, rows in series.groupby("framing", sort=True):
        rows = rows[rows["exposure"].isin(x_of)]
        x = np.array([x_of[v] for v in rows["exposure"]], dtype=float)
        y = pd.to_numeric(rows["rate"], errors="coerce").to_numpy(float)
        lo = y - pd.to_numeric(rows["ci_low"], errors="coerce").to_numpy(float)
        hi = pd.to_numeric(rows["ci_high"], errors="coerce").to_numpy(float) - y
        err = np.nan_to_num(np.vstack([np.clip(lo, 0, None), np.clip(hi, 0, None)]))
        thick = framing == "all"
        ax.errorbar(
            x, y, yerr=err, label=str(framing), marker="o", capsize=2,
            linewidth=2.5 if thick else 1.0, color="black" if thick else None,
        )  # fmt: skip
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("exposure of the agent to the claim")
    ax.set_ylabel("share accepting")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize="small", ncol=2)
    fit_title(ax, title or "acceptance by exposure and framing")
    return fig
