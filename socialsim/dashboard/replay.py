"""Replay of a finished run from its record: each step shows the credences recorded at that
step (the agents table); no model is run."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd

from socialsim.analysis.credences import credence_array, presence
from socialsim.core.errors import ConfigError
from socialsim.core.rundata import load_run
from socialsim.dashboard.figures import adoption_curve
from socialsim.dashboard.layout import Layout, network_layout


class ReplayModel:
    """A run directory stepped through its recorded steps, like a model on the page."""

    def __init__(self, run_dir: str) -> None:
        data = load_run(run_dir)
        if not data.claims:
            raise ConfigError(
                f"{run_dir!r}: the run had no claim in play (its agents table is empty), so "
                "there are no credences to replay; replay a run of a scenario with claims"
            )
        self.run_dir = Path(run_dir)
        self.claim = data.claims[0]
        self.recorded, matrix = credence_array(data, self.claim)
        present = presence(data, self.recorded)
        self._credences = np.where(present, matrix, np.nan)
        self._curve = adoption_curve(matrix, self.recorded, present)
        self.name = str(data.config.get("name") or self.run_dir.name)
        self.position = 0
        self.running = len(self.recorded) > 1
        network = data.network
        if network is not None:
            edges = np.column_stack([network.src, network.dst])
        else:
            edges = np.zeros((0, 2), dtype=np.int64)
        seed = int(data.config.get("seed") or 0)
        self.layout: Layout = network_layout(self._credences.shape[1], edges, seed=seed)

    @property
    def steps(self) -> int:
        """The recorded step shown now."""
        return int(self.recorded[self.position])

    @property
    def last_step(self) -> int:
        """The last recorded step."""
        return int(self.recorded[-1])

    @property
    def title(self) -> str:
        """The page title."""
        return f"{self.name} (replay of {self.run_dir})"

    def step(self) -> None:
        """Move to the next recorded step (nothing at the last one)."""
        if self.position < len(self.recorded) - 1:
            self.position += 1
        self.running = self.position < len(self.recorded) - 1

    def rewound(self) -> ReplayModel:
        """The same replay back at its first recorded step (the record is shared)."""
        first = copy.copy(self)
        first.position = 0
        first.running = len(self.recorded) > 1
        return first

    def credences(self) -> np.ndarray:
        """Every agent's recorded credence in the first claim at this step."""
        return self._credences[self.position]

    def curve(self) -> pd.DataFrame:
        """Adoption and mean credence at every recorded step up to this one."""
        return self._curve.iloc[: self.position + 1].reset_index(drop=True)
