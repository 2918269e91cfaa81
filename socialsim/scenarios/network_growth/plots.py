"""Figures of a grown follow network: the friendship paradox over time, degree distributions,
how new follows attach (rate by in-degree with the fitted exponent, the gain correlations).

Each function takes the tables of :mod:`socialsim.scenarios.network_growth.measures` and returns a
matplotlib Figure on its own Agg canvas (:mod:`socialsim.analysis.canvas`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.canvas import figure, no_data
from socialsim.analysis.plots import fit_title


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


def _fit_line(bins: pd.DataFrame, alpha: float, k1: np.ndarray) -> np.ndarray:
    """Rates of A(k) = exp(a) (k + 1)^alpha at `k1`, a the Poisson ML intercept given alpha."""
    used = bins["exposure"].to_numpy(dtype=float) > 0
    x = bins["k1"].to_numpy(dtype=float)[used]
    expected = (bins["exposure"].to_numpy(dtype=float)[used] * x**alpha).sum()
    scale = bins["follows"].to_numpy(dtype=float)[used].sum() / expected
    return scale * k1**alpha


def attachment_rates(bins: pd.DataFrame, fit: dict[str, Any] | None = None, title: str = "") -> Any:
    """Attachment rate against followers + 1 on log-log axes, with the fitted exponent's line.

    `bins` has ``k_low, k_high, exposure, follows, rate`` (``attachment.exponent.bins``) and
    optionally ``k1``, the bin's exposure-weighted geometric mean of k + 1 (the x the fit
    uses; default the bin's geometric midpoint). One point per bin with follows (a rate of
    0 has no place on log axes); the line is ``exp(a) (k + 1)^alpha`` with alpha =
    ``fit["exponent"]`` and a its Poisson maximum-likelihood intercept, the band the lines
    of ``ci_low`` and ``ci_high``.
    """
    fig = figure(6.4, 4.0)
    ax = fig.add_subplot()
    needed = {"k_low", "k_high", "exposure", "follows"}
    if bins.empty or not needed <= set(bins.columns):
        return no_data(fig, ax, "no node-steps to bin")
    bins = bins.copy()
    mid = np.sqrt((bins["k_low"] + 1.0) * (bins["k_high"] + 1.0))
    bins["k1"] = pd.to_numeric(bins["k1"], errors="coerce").fillna(mid) if "k1" in bins else mid
    exposure = bins["exposure"].to_numpy(dtype=float)
    follows = bins["follows"].to_numpy(dtype=float)
    shown = (exposure > 0) & (follows > 0)
    if not shown.any():
        return no_data(fig, ax, "no follow received after an agent's join step")
    x = bins["k1"].to_numpy(dtype=float)
    rate = np.divide(follows, exposure, out=np.zeros_like(follows), where=exposure > 0)
    empty = int(((exposure > 0) & (follows == 0)).sum())
    label = "rate per degree bin" + (
        f" ({empty} bin(s) without follows not drawn)" if empty else ""
    )
    ax.loglog(x[shown], rate[shown], "o", color="tab:blue", label=label)
    fit = fit or {}
    alpha = fit.get("exponent")
    if alpha is not None:
        k1 = np.geomspace(x[exposure > 0].min(), x[exposure > 0].max(), 40)
        low, high = fit.get("ci_low"), fit.get("ci_high")
        interval = f", 95% interval [{low:.2f}, {high:.2f}]" if low is not None else ""
        if low is not None and high is not None:
            band = np.vstack([_fit_line(bins, a, k1) for a in (low, high)])
            ax.fill_between(k1, band.min(0), band.max(0), color="tab:red", alpha=0.15, lw=0)
        ax.loglog(k1, _fit_line(bins, alpha, k1), "-", color="tab:red",
                  label=f"fit: rate ~ (k + 1)^{alpha:.2f}{interval}")  # fmt: skip
    ax.set_xlabel("followers at the start of the step + 1 (k + 1)")
    ax.set_ylabel("follows received / even share")
    ax.legend(fontsize=8)
    reason = "" if alpha is not None else f" (no fit: {fit.get('reason') or 'no exponent'})"
    fit_title(ax, (title or "preferential attachment") + reason)
    return fig


GAIN_ROWS = (
    ("prior_in_degree", "followers at the split"),
    ("activity", "activity after the split"),
)


def gain_intervals(gain: dict[str, Any] | None, title: str = "") -> Any:
    """Spearman rho of follows received after the split with prior followers and activity.

    `gain` is ``attachment.gain``: one point per correlation with a rho, Fisher-z 95%
    whiskers where there is an interval; a correlation without rho is named with its reason.
    """
    fig = figure(6.4, 2.6)
    ax = fig.add_subplot()
    cells = [(key, label, (gain or {}).get(key)) for key, label in GAIN_ROWS]
    cells = [(key, label, cell) for key, label, cell in cells if isinstance(cell, dict)]
    if not cells:
        return no_data(fig, ax, "no attachment correlations")
    y = np.arange(len(cells), dtype=float)[::-1]
    labels = []
    for yi, (_, label, cell) in zip(y, cells, strict=True):
        rho, low, high = cell.get("rho"), cell.get("ci_low"), cell.get("ci_high")
        labels.append(f"{label} (n={cell.get('n', 0)})")
        if rho is None:
            note = f"not computed: {cell.get('reason') or 'no rho'}"
            ax.text(0, yi, note, ha="center", va="center", fontsize=8, color="0.4")
            continue
        err = None
        if low is not None and high is not None:
            err = [[max(rho - low, 0.0)], [max(high - rho, 0.0)]]
        ax.errorbar([rho], [yi], xerr=err, fmt="o", capsize=3, color="tab:purple")
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-0.6, len(cells) - 0.4)
    ax.set_xlabel("Spearman rho with follows received after the split")
    split = (gain or {}).get("split")
    at = f" (split at step {split})" if split is not None else ""
    fit_title(ax, title or f"what predicts new followers{at}")
    return fig
