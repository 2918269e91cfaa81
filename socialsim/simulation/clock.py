"""Event mode: continuous time with simpy.

Each agent wakes as a Poisson process at its persona's `activity_rate`; messages arrive
`event.latency` after they are sent; all wake-ups inside one `event.window` are decided in
one concurrent batch at the end of the window (same observe/decide/apply as step mode).
One window is one model step: ``model.step()`` runs the clock to the end of the next window.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import simpy

if TYPE_CHECKING:
    from socialsim.core.model_view import ModelView


def horizon(model: ModelView) -> float:
    """The time the run ends: `until`, else `steps` windows."""
    cfg = model.cfg
    return cfg.until if cfg.until is not None else cfg.steps * cfg.event.window


def windows(model: ModelView) -> int:
    """How many windows (model steps) reach the horizon; the last one may be shorter."""
    return math.ceil(horizon(model) / model.cfg.event.window - 1e-9)


class EventClock:
    """The simpy environment of one model: agents' wake-ups, run window by window."""

    def __init__(self, model: ModelView) -> None:
        self.model = model
        self.env = simpy.Environment()
        self.window = model.cfg.event.window
        self.end = horizon(model)
        self.rng = np.random.default_rng(model._subseed("clock"))
        self.woken = np.zeros(model.n_agents, dtype=bool)
        self.rates = model.activity_rates
        for i in range(model.n_agents):
            self.env.process(self._wake(i))

    def _wake(self, agent_id: int):
        while True:
            yield self.env.timeout(float(self.rng.exponential(1.0 / self.rates[agent_id])))
            if self.model.present[agent_id]:
                self.woken[agent_id] = True

    def advance(self) -> None:
        """Run to the end of window ``model.steps`` and decide the agents woken in it.

        The last window before the horizon ends at the horizon; windows past it (stepping by
        hand) are full windows.
        """
        model = self.model
        now = self.env.now
        delay = self.window
        if model.steps * self.window > self.end and now < self.end:
            delay = min(self.window, self.end - now)
        self.env.run(until=self.env.timeout(delay))
        model.time = float(self.env.now)
        active = self.woken.copy()
        self.woken[:] = False
        model.run_batch(active, deliver_now=model.time)


def run_event_mode(model: ModelView, on_window: Callable[[ModelView], None] | None = None) -> None:
    """Run the model in continuous time until the horizon (or until a scenario stops it)."""
    model.run_model(on_step=on_window)
