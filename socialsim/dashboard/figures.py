"""The dashboard's two figures as matplotlib Figures: the network coloured by credence and
the adoption curve. Pure functions of plain data, so they are tested without a browser."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from socialsim.dashboard.layout import Layout

CREDENCE_CMAP = "coolwarm"  # diverging: 0 = blue, 0.5 = grey, 1 = red
ADOPTION_TITLE = "Adoption over time"


def node_colours(credences: np.ndarray) -> np.ndarray:
    """RGBA colours ``(k, 4)`` for credences in [0, 1] (NaN, an absent agent: light grey)."""
    values = np.asarray(credences, dtype=float)
    colours = matplotlib.colormaps[CREDENCE_CMAP](np.clip(np.nan_to_num(values, nan=0.5), 0, 1))
    colours[np.isnan(values)] = (0.85, 0.85, 0.85, 1.0)
    return colours


def network_figure(layout: Layout, credences: np.ndarray, claim: str) -> Figure:
    """The network with each drawn agent coloured by its credence in `claim`.

    `credences` holds every agent's credence (length ``layout.n``); only the drawn ones show.
    """
    fig = Figure(figsize=(6, 5.4), layout="constrained")
    ax = fig.add_subplot()
    xy = layout.xy
    if len(layout.edges):
        segments = xy[layout.edges]
        ax.add_collection(
            LineCollection(segments, colors="#9a9a9a", linewidths=0.5, alpha=0.6, zorder=1)
        )
    size = 60 if len(xy) <= 100 else 25 if len(xy) <= 400 else 10
    shown = np.asarray(credences, dtype=float)[layout.nodes]
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        c=node_colours(shown),
        s=size,
        edgecolors="#333333",
        linewidths=0.3,
        zorder=2,
    )
    mappable = matplotlib.cm.ScalarMappable(Normalize(0, 1), CREDENCE_CMAP)
    fig.colorbar(mappable, ax=ax, shrink=0.8, label=f"credence in {claim}")
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.autoscale_view()
    return fig


def adoption_figure(curve: pd.DataFrame, claim: str, last_step: int | None = None) -> Figure:
    """Share of believers (credence >= 0.5) and mean credence per step, from `curve`.

    `curve` has columns ``step, adoption, mean_credence``; `last_step` fixes the x range.
    """
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(curve["step"], curve["adoption"], marker="o", ms=3, color="#b40426", label="adoption")
    ax.plot(
        curve["step"],
        curve["mean_credence"],
        marker="o",
        ms=3,
        color="#3b4cc0",
        label="mean credence",
    )
    ax.set_ylim(-0.02, 1.02)
    right = max(last_step or 0, int(curve["step"].max()) if len(curve) else 0, 1)
    ax.set_xlim(0, right)
    ax.set_xlabel("step")
    ax.set_title(f"{ADOPTION_TITLE}: {claim}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return fig


def adoption_curve(credences: np.ndarray, steps: np.ndarray, present: np.ndarray) -> pd.DataFrame:
    """Adoption and mean credence per step of a ``steps x agents`` credence array.

    Agents that are absent (`present` False) or unrecorded (NaN) are left out, as in the
    model's own reporters.
    """
    values = np.where(present, credences, np.nan)
    counted = (~np.isnan(values)).sum(axis=1)
    believers = (values >= 0.5).sum(axis=1)
    total = np.nansum(values, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adoption = np.where(counted > 0, believers / counted, 0.0)
        mean = np.where(counted > 0, total / counted, 0.0)
    return pd.DataFrame({"step": np.asarray(steps), "adoption": adoption, "mean_credence": mean})
