"""Event mode: continuous time with simpy.

Each agent wakes as a Poisson process at its persona's `activity_rate`; messages arrive
at the first window end at least `event.latency` after they are sent; all wake-ups inside
one `event.window` are decided in one concurrent batch at the end of the window (same
observe/decide/apply as step mode). One window is one model step: ``model.step()`` runs the
clock to the end of the next window; window k ends at k x `event.window`, the last at the
horizon (``ExperimentConfig.step_count()`` windows in all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import simpy

if TYPE_CHECKING:
    from socialsim.core.model_view import ModelView


def horizon(model: ModelView) -> float:
    """The time the run ends: `until`, else `steps` windows."""
    return model.cfg.horizon()


def windows(model: ModelView) -> int:
    """How many windows (model steps) reach the horizon; the last one may be shorter."""
    return model.cfg.step_count()


class EventClock:
    """The simpy environment of one model: agents' wake-ups, run window by window."""

    def __init__(self, model: ModelView) -> None:
        self.model = model
        self.env = simpy.Environment()
        self.window = model.cfg.event.window
        self.end = horizon(model)
        self.count = windows(model)
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

    def window_end(self, step: int) -> float:
        """When window `step` ends: ``step * window``, the last one at the horizon, and
        windows past it (stepping by hand) full windows after it.

        Each end is computed afresh, never summed, and kept to 12 significant digits, so
        ends are exact multiples of the window as written (0.3, not 0.30000000000000004).
        """
        if step < self.count:
            end = step * self.window
        else:
            end = self.end + (step - self.count) * self.window
        return float(f"{end:.12g}")

    def advance(self) -> None:
        """Run to the end of window ``model.steps`` and decide the agents woken in it."""
        model = self.model
        end = self.window_end(model.steps)
        self.env.run(until=end)
        model.time = end
        active = self.woken.copy()
        self.woken[:] = False
        model.run_batch(active, deliver_now=model.time)


def run_event_mode(model: ModelView, on_window: Callable[[ModelView], None] | None = None) -> None:
    """Run the model in continuous time until the horizon (or until a scenario stops it)."""
    model.run_model(on_step=on_window)
