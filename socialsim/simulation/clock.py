"""Event mode: continuous time with simpy.

Each agent wakes as a Poisson process at its persona's `activity_rate`; messages arrive
`event.latency` after they are sent; all wake-ups inside one `event.window` are decided in
one concurrent batch at the end of the window (same observe/decide/apply as step mode).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import simpy

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel


def horizon(model: SocialModel) -> float:
    """The time the run ends: `until`, else `steps` windows."""
    cfg = model.cfg
    return cfg.until if cfg.until is not None else cfg.steps * cfg.event.window


def run_event_mode(
    model: SocialModel, on_window: Callable[[SocialModel], None] | None = None
) -> None:
    """Run the model in continuous time until the horizon (or until a scenario stops it)."""
    env = simpy.Environment()
    window = model.cfg.event.window
    end = horizon(model)
    rng = np.random.default_rng(model._subseed("clock"))
    woken = np.zeros(model.n_agents, dtype=bool)
    rates = model.activity_rates

    def wake(agent_id: int):
        while True:
            yield env.timeout(float(rng.exponential(1.0 / rates[agent_id])))
            if model.present[agent_id]:
                woken[agent_id] = True

    def batches():
        for k in range(1, math.ceil(end / window - 1e-9) + 1):
            yield env.timeout(min(window, end - env.now) if k * window > end else window)
            model.step_index = k
            model.time = float(env.now)
            active = woken.copy()
            woken[:] = False
            model.run_batch(active, deliver_now=model.time)
            if on_window is not None:
                on_window(model)
            if not model.running:
                return

    for i in range(model.n_agents):
        env.process(wake(i))
    done = env.process(batches())
    env.run(until=done)
