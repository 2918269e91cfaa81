"""Figures of negotiation outcomes; every function returns a matplotlib Figure.

Each takes plain data (arrays of deal positions, tables of
:mod:`socialsim.scenarios.negotiation.measures`) and draws on its own Agg canvas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.canvas import figure, no_data
from socialsim.analysis.plots import rate_bars


def _entropy_bits(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0


def deal_histogram(positions: dict[str, np.ndarray], bins: int = 10) -> Any:
    """Deals per bin of position on [0, 1], one bar series per pairing; entropy in the legend."""
    fig = figure()
    ax = fig.add_subplot()
    groups = {k: v[~np.isnan(v)] for k, v in positions.items()}
    groups = {k: v for k, v in groups.items() if v.size}
    if not groups:
        return no_data(fig, ax, "no deals")
    width = 1.0 / bins
    left = np.arange(bins) * width
    bar = width / len(groups)
    for n, (label, x) in enumerate(sorted(groups.items())):
        counts = np.bincount(np.clip(np.floor(x * bins).astype(int), 0, bins - 1), minlength=bins)
        ax.bar(
            left + n * bar,
            counts,
            width=bar,
            align="edge",
            alpha=0.8,
            label=f"{label} (H = {_entropy_bits(counts):.2f} bits, n = {x.size})",
        )
    ax.set_xlim(0, 1)
    ax.set_xticks(np.linspace(0, 1, bins + 1), minor=False)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("deal position (proposer's share of the pie, or price / top price)")
    ax.set_ylabel("deals")
    ax.set_title("where the deals fall")
    ax.legend(fontsize=7)
    return fig


def agreement_bars(table: pd.DataFrame) -> Any:
    """Agreement rate per pairing with Wilson interval whiskers."""
    fig = rate_bars(table, "pairing", title="agreement by pairing")
    if fig.axes and fig.axes[0].axison:
        fig.axes[0].set_ylim(0, 1.05)
        fig.axes[0].set_ylabel("share ending in a deal")
    return fig


def surplus_scatter(deals: pd.DataFrame) -> Any:
    """The proposer's share of the surplus against the surplus left by the reservation values."""
    fig = figure()
    ax = fig.add_subplot()
    rows = deals.dropna(subset=["proposer_share", "surplus"]) if not deals.empty else deals
    if rows.empty:
        return no_data(fig, ax, "no deal with a surplus")
    for label, g in rows.groupby("pairing", sort=True):
        ax.scatter(g["surplus"], g["proposer_share"], s=14, alpha=0.7, label=str(label))
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("surplus (gap between the reservation values)")
    ax.set_ylabel("proposer's share of the surplus")
    ax.set_title("who captures the surplus")
    ax.legend(fontsize=7)
    return fig


def outcome_class_bars(table: pd.DataFrame) -> Any:
    """Share of each outcome class per reflection setting, with Wilson interval whiskers."""
    fig = rate_bars(table, "group", title="outcome classes by reflection setting")
    if fig.axes and fig.axes[0].axison:
        fig.axes[0].set_ylim(0, 1.05)
        fig.axes[0].set_ylabel("share of answered negotiations")
    return fig
