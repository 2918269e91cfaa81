"""Figures of norm adherence; every function returns a matplotlib Figure."""

from __future__ import annotations

from typing import Any

import pandas as pd

from socialsim.analysis.plots import rate_bars


def adherence_bars(table: pd.DataFrame, by: str) -> Any:
    """Norm adherence per group (from :func:`socialsim.scenarios.norms.measures.adherence`)."""
    fig = rate_bars(table, by, title=f"norm adherence by {by}")
    if fig.axes:
        fig.axes[0].set_ylim(0, 1.05)
    return fig
