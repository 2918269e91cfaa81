"""What a model records as it runs: credence snapshots, step counts, Mesa's DataCollector.

After set-up and after every step the recorder keeps a copy of the credence array (the
agents table is built from these) and the DataCollector takes a row of model reporters
(believers and mean credence per claim, active agents, messages, ...), plus a row per
agent for any agent reporters. Reporters can be added later:
``model.datacollector.add_model_reporter(name, fn)`` and ``add_agent_reporter(name, fn)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel


class Collector(mesa.DataCollector):
    """Mesa's DataCollector whose reporters can also be added after collection began."""

    def add_model_reporter(self, name: str, reporter: Callable | str) -> None:
        """Report `name` from the next collection on (earlier rows hold None)."""
        rows = len(next(iter(self.model_vars.values()), []))
        self._new_model_reporter(name, reporter)
        self.model_vars[name] = [None] * rows

    def add_agent_reporter(self, name: str, reporter: Callable | str) -> None:
        """Report `name` for every agent from the next collection on (earlier rows hold None).

        Every agent object is created from then on (a rule run otherwise needs none).
        """
        self._new_agent_reporter(name, reporter)
        for step, records in self._agent_records.items():
            self._agent_records[step] = [(*r, None) for r in records]


class Recorder:
    """Credence snapshots per step and this step's event counts."""

    def __init__(self) -> None:
        self.snapshots: list[tuple[int, float, np.ndarray]] = []
        self.stats: dict[str, int] = {}

    def start_step(self, active: int) -> None:
        """Reset the step's counts; `active` agents were woken."""
        self.stats = {"active": active}

    def count(self, kind: str, k: int = 1) -> None:
        """Count `k` events of `kind` in this step."""
        self.stats[kind] = self.stats.get(kind, 0) + k

    def snapshot(self, step: int, time: float, credence: np.ndarray) -> None:
        """Keep a copy of the credences after `step`."""
        self.snapshots.append((step, time, credence.copy()))

    @property
    def steps(self) -> list[int]:
        """The step of every snapshot, in order (0 is the state after set-up)."""
        return [s for s, _, _ in self.snapshots]

    def agents_table(self, n: int, claim_ids: list[str]) -> pd.DataFrame:
        """Long table: one row per step x agent x claim with the credence after that step."""
        frames = []
        ids = np.array(claim_ids, dtype=object)
        for step, _time, cred in self.snapshots:
            k = cred.shape[1]
            frames.append(
                pd.DataFrame(
                    {
                        "step": np.full(n * k, step, dtype=np.int64),
                        "agent": np.repeat(np.arange(n), k),
                        "claim": np.tile(ids[:k], n),
                        "credence": cred.reshape(-1),
                    }
                )
            )
        if not frames:
            return pd.DataFrame(columns=["step", "agent", "claim", "credence"])
        return pd.concat(frames, ignore_index=True)

    def steps_table(self, collector: mesa.DataCollector) -> pd.DataFrame:
        """The model reporters, one row per recorded step, with its ``step`` first."""
        steps = collector.get_model_vars_dataframe().reset_index(names="step")
        steps["step"] = self.steps[: len(steps)]
        return steps


def model_reporters(model: SocialModel, extra: dict[str, Any] | None) -> dict[str, Callable]:
    """Today's model reporters: time, present, step counts, believers and mean per claim."""

    def believers(col: int) -> Callable:
        def share(m: SocialModel) -> float:
            rows = m.beliefs.credence[m.present, col]
            return float((rows >= 0.5).mean()) if len(rows) else 0.0

        return share

    def mean(col: int) -> Callable:
        def average(m: SocialModel) -> float:
            rows = m.beliefs.credence[m.present, col]
            return float(rows.mean()) if len(rows) else 0.0

        return average

    def counted(kind: str) -> Callable:
        def number(m: SocialModel) -> int:
            return m.recorder.stats.get(kind, 0)

        return number

    reporters: dict[str, Callable] = {
        "time": lambda m: m.time,
        "present": lambda m: int(m.present.sum()),
        "active": counted("active"),
        "messages": counted("message"),
        "belief_changes": counted("belief_change"),
        "llm_calls": counted("llm_call"),
        "errors": counted("error"),
    }
    for col, claim in enumerate(model.beliefs.claims):
        reporters[f"believers.{claim.id}"] = believers(col)
        reporters[f"mean_credence.{claim.id}"] = mean(col)
    reporters.update(extra or {})
    return reporters
