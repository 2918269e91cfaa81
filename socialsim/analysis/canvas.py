"""Figures on their own Agg canvas, so that pyplot's backend is never touched.

Every figure of :mod:`socialsim.analysis.plots` starts from :func:`figure`; :func:`no_data`
marks one that has nothing to show, and :func:`save` writes one to a PNG file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def figure(width: float = 6.4, height: float = 4.0) -> Any:
    """A new matplotlib Figure (constrained layout) on its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def no_data(fig: Any, ax: Any, text: str = "no data") -> Any:
    """The figure with `text` in the middle of `ax` and the axes hidden."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def save(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Write a figure to a PNG file and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
