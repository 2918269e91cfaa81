"""The live model behind the dashboard: a SocialModel built from a config and the knobs, its
record kept in memory, stepped from the page, with the network layout computed once."""

from __future__ import annotations

import threading
import weakref
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from socialsim.core.errors import ConfigError
from socialsim.dashboard.knobs import Knobs, apply_knobs, knobs_of, network_param_of
from socialsim.dashboard.layout import Layout, network_layout
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.model import SocialModel


class LiveModel:
    """A config's model under the dashboard's knobs; ``step()`` advances it until it stops.

    Knobs left None keep the config's value. ``steps`` is the number of steps taken, as in
    a mesa model. Stepping and closing may come from different threads (Play, a rebuild):
    a step finishes before the model closes, and a closed model no longer steps.
    """

    def __init__(
        self,
        config: str,
        overrides: list[str] | tuple[str, ...] = (),
        seed: int | None = None,
        size: int | None = None,
        network: str | None = None,
        network_param: float | None = None,
        policy: str | None = None,
        steps: int | None = None,
    ) -> None:
        base = ExperimentConfig.from_yaml(config, overrides=list(overrides))
        given: dict[str, Any] = {
            "seed": seed,
            "size": size,
            "network": network,
            "network_param": network_param,
            "policy": policy,
            "steps": steps,
        }
        knobs = replace(knobs_of(base), **{k: v for k, v in given.items() if v is not None})
        if network_param is None:
            knobs = replace(knobs, network_param=network_param_of(base, knobs.network))
        self.knobs: Knobs = knobs
        self.cfg = apply_knobs(base, knobs)
        self.model = SocialModel(self.cfg)
        if not self.model.beliefs.claims:
            self.model.close()
            raise ConfigError(
                f"the dashboard shows credences in a claim, and this {self.cfg.scenario.kind} "
                "run has none in play; add claims: to the config or pick a scenario with claims"
            )
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer = weakref.finalize(self, self.model.close)
        self.claim = self.model.beliefs.claims[0].id
        arrays = self.model.network
        self.layout: Layout = network_layout(arrays.n, arrays.edges, seed=self.cfg.seed)

    @property
    def running(self) -> bool:
        """True until the run reaches its last step (or the model is closed)."""
        return bool(self.model.running) and not self._closed

    @property
    def steps(self) -> int:
        """Steps taken so far."""
        return self.model.steps

    @property
    def last_step(self) -> int:
        """The step the run stops at."""
        return self.model.step_limit

    @property
    def title(self) -> str:
        """The page title."""
        return f"{self.cfg.name} (live, {self.cfg.agents.policy})"

    def step(self) -> None:
        """Advance the model one step (nothing once it has stopped or closed)."""
        with self._lock:
            if self.running:
                self.model.step()

    def credences(self) -> np.ndarray:
        """Every agent's credence in the first claim now (NaN for removed agents)."""
        column = self.model.beliefs.credence[:, 0]
        return np.where(self.model.present, column, np.nan)

    def curve(self) -> pd.DataFrame:
        """Adoption and mean credence of the first claim at every step so far."""
        rows = self.model.datacollector.get_model_vars_dataframe()
        adoption = rows[f"believers.{self.claim}"]
        mean = rows[f"mean_credence.{self.claim}"]
        return pd.DataFrame(
            {"step": np.arange(len(adoption)), "adoption": adoption, "mean_credence": mean}
        )

    def close(self) -> None:
        """Close the model (its log and clients), after a step under way."""
        with self._lock:
            self._closed = True
            self._finalizer()

    def __enter__(self) -> LiveModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
