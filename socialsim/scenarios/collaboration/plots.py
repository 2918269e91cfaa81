"""Figures of the collaboration gap; every function returns a matplotlib Figure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from socialsim.analysis.canvas import figure, no_data
from socialsim.analysis.plots import fit_title


def gap_matrix(matrix: pd.DataFrame, title: str = "pair success by model pairing") -> Any:
    """Heat map of success per (first model, second model) with the values written in.

    `matrix` is :func:`socialsim.scenarios.collaboration.measures.gap_matrix`'s table.
    """
    fig = figure(5.5, 4.5)
    ax = fig.add_subplot()
    if matrix.empty:
        return no_data(fig, ax)
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=30, ha="right")
    ax.set_yticks(range(matrix.shape[0]), [str(r) for r in matrix.index])
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if not np.isnan(values[i, j]):
                ax.text(
                    j, i, f"{values[i, j]:.2f}", ha="center", va="center", color="w", fontsize=8
                )
    ax.set_xlabel("second model")
    ax.set_ylabel("first model")
    fit_title(ax, title)
    fig.colorbar(image, ax=ax, label="success")
    return fig
