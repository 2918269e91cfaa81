"""The size of a sweep grid, counted before it is expanded, and the most cells a sweep may have."""

from __future__ import annotations

import math
import os
from typing import Any

from socialsim.core.errors import ConfigError

#: sweep cells at most, unless SOCIALSIM_SWEEP_MAX_CELLS says otherwise
MAX_SWEEP_CELLS = 10_000


def check_grid_size(grid: dict[str, list[Any]]) -> int:
    """The number of cells of a sweep grid, counted before expanding it; ConfigError when too many."""
    limit = _max_sweep_cells()
    cells = math.prod(len(values) for values in grid.values())
    if cells > limit:
        sizes = " x ".join(str(len(v)) for v in grid.values())
        raise ConfigError(
            f"sweep: the grid has {cells:,} cells ({sizes} values), more than {limit:,}; sweep "
            "fewer values (or set SOCIALSIM_SWEEP_MAX_CELLS to raise the limit)"
        )
    return cells


def _max_sweep_cells() -> int:
    raw = os.environ.get("SOCIALSIM_SWEEP_MAX_CELLS", "").strip()
    if not raw:
        return MAX_SWEEP_CELLS
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(
            f"environment variable SOCIALSIM_SWEEP_MAX_CELLS={raw[:40]!r} must be a whole "
            "number >= 1"
        )
    return int(raw)
