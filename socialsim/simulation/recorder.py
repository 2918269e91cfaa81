"""What a model records as it runs: credence snapshots, step counts, Mesa's DataCollector.

After set-up and after every step the recorder keeps a copy of the credence array (the
agents table is built from these) and the DataCollector takes a row of model reporters
(believers and mean credence per claim, active agents, messages, ...), plus a row per
agent for any agent reporters. Reporters can be added later:
``model.datacollector.add_model_reporter(name, fn)`` and ``add_agent_reporter(name, fn)``.

A step's event counts (``active``, ``messages``, ``belief_changes``, ``llm_calls``,
``errors`` of steps.csv) hold every event of the step, those logged after the row was
collected (the scenario's ``after_step``: probes and other ``model.ask`` calls) included.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from socialsim.core.credences import long_table
from socialsim.core.errors import ConfigError
from socialsim.core.validation import shown

if TYPE_CHECKING:
    from socialsim.core.model_view import ModelView


class Collector(mesa.DataCollector):
    """Mesa's DataCollector whose reporters can also be added after collection began.

    Once a step has run, the set-up row (step 0) is kept in ``setup_vars``, apart from
    Mesa's lists: ``model_vars[name][k]`` is the row after step k+1 and ``_agent_records[k]``
    its agents (the set-up's agents under -1), which is where :func:`mesa.batch_run` reads a
    run's last step (row ``model.steps - 1``). Before any step the set-up row is Mesa's only
    row, so a run of no steps gives batch_run the set-up's values (under Mesa's Step -1).
    ``get_model_vars_dataframe()`` puts the set-up row back first (rows 0..N are the steps);
    ``get_agent_vars_dataframe()`` numbers Step 0..N.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_vars: dict[str, Any] | None = None

    def collect(self, model: Any) -> None:
        """Take the model's row (and its agents'); the set-up's moves to ``setup_vars`` when
        the first step's row comes."""
        super().collect(model)
        records = self._agent_records.pop(model.steps, None)
        if records is not None:
            self._agent_records[model.steps - 1] = records
        if model.steps > 0 and self.setup_vars is None:
            self.setup_vars = {name: rows.pop(0) for name, rows in self.model_vars.items()}

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The model reporters, one row per step from the set-up's (step 0) on."""
        if self.setup_vars is None:
            return super().get_model_vars_dataframe()
        return pd.DataFrame(
            {name: [self.setup_vars.get(name), *rows] for name, rows in self.model_vars.items()}
        )

    def add_model_reporter(self, name: str, reporter: Callable | str) -> None:
        """Report `name` from the next collection on (earlier rows hold None)."""
        rows = len(next(iter(self.model_vars.values()), []))
        self._new_model_reporter(name, reporter)
        self.model_vars[name] = [None] * rows
        if self.setup_vars is not None:
            self.setup_vars[name] = None

    def add_agent_reporter(self, name: str, reporter: Callable | str) -> None:
        """Report `name` for every agent from the next collection on (earlier rows hold None).

        Every agent object is created from then on (a rule run otherwise needs none).
        """
        self._new_agent_reporter(name, reporter)
        for step, records in self._agent_records.items():
            self._agent_records[step] = [(*r, None) for r in records]


#: steps.csv column -> the event kind it counts
COUNTED = {
    "active": "active",
    "messages": "message",
    "belief_changes": "belief_change",
    "llm_calls": "llm_call",
    "errors": "error",
}


class Recorder:
    """Credence snapshots per step and each step's event counts."""

    def __init__(self) -> None:
        self.snapshots: list[tuple[int, float, np.ndarray]] = []
        self.stats: dict[str, int] = {}
        # the counts of each snapshot's step (the same dict as `stats` until the next step
        # starts, so events logged after the snapshot still count in their step)
        self.step_stats: list[dict[str, int]] = []
        self.stopped: tuple[int, float] | None = None  # (step, time) of a step that stopped

    def start_step(self, active: int = 0) -> None:
        """Start counting a new step; `active` agents act in it (or count them later)."""
        self.stats = {"active": active}

    def count(self, kind: str, k: int = 1) -> None:
        """Count `k` events of `kind` in this step."""
        self.stats[kind] = self.stats.get(kind, 0) + k

    def snapshot(self, step: int, time: float, credence: np.ndarray) -> None:
        """Keep a copy of the credences after `step` (and the step's counts)."""
        self.snapshots.append((step, time, credence.copy()))
        self.step_stats.append(self.stats)

    def stop_step(self, step: int, time: float) -> None:
        """The run stopped inside `step`: steps.csv marks it incomplete, with its counts."""
        self.stopped = (step, time)

    @property
    def steps(self) -> list[int]:
        """The step of every snapshot, in order (0 is the state after set-up)."""
        return [s for s, _, _ in self.snapshots]

    def agents_table(self, n: int, claim_ids: list[str]) -> pd.DataFrame:
        """Long table: one row per step x agent x claim with the credence after that step."""
        return long_table(self.credences(n, claim_ids))

    def credences(self, n: int, claim_ids: list[str]) -> SnapshotCredences:
        """The snapshots as a credence source: the agents table without building it."""
        return SnapshotCredences(self.snapshots, n, claim_ids)

    def steps_table(self, collector: mesa.DataCollector) -> pd.DataFrame:
        """The model reporters, one row per recorded step, with its ``step`` first.

        The event counts (:data:`COUNTED`) are each step's final ones, not those at the
        time the row was collected. ``complete`` is False for a step the run stopped inside
        (an open circuit breaker, every call failed): its row holds the counts of the events
        it logged, and no state of it when it stopped before its state was recorded.
        """
        steps = collector.get_model_vars_dataframe().reset_index(names="step")
        steps["step"] = self.steps[: len(steps)]
        counts = self.step_stats[: len(steps)]
        if self.stopped is not None and self.stopped[0] not in set(steps["step"]):
            step, time = self.stopped
            row = {"step": step, "time": time}
            steps = pd.concat([steps, pd.DataFrame([row])], ignore_index=True)
            counts = [*counts, self.stats]
        if len(counts) == len(steps):
            for column, kind in COUNTED.items():
                if column in steps:
                    steps[column] = [c.get(kind, 0) for c in counts]
        stopped = None if self.stopped is None else self.stopped[0]
        steps["complete"] = steps["step"] != stopped
        return steps


class SnapshotCredences:
    """A model's credence snapshots as the agents table's source (see
    :mod:`socialsim.core.credences`): a claim's matrix is its column of every snapshot, and
    the table comes a recorded step at a time."""

    def __init__(
        self, snapshots: list[tuple[int, float, np.ndarray]], n: int, claim_ids: list[str]
    ) -> None:
        self.snapshots = list(snapshots)
        self.n_agents = n
        self.claims = [str(c) for c in claim_ids]

    def matrix(self, claim: str) -> tuple[np.ndarray, np.ndarray]:
        """One claim's credences at every recorded step (later snapshots of a step win)."""
        j = self.claims.index(claim) if claim in self.claims else -1
        taken = [(step, cred) for step, _t, cred in self.snapshots if 0 <= j < cred.shape[1]]
        if not taken:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0))
        steps = np.unique(np.array([step for step, _ in taken], dtype=np.int64))
        matrix = np.full((len(steps), self.n_agents), np.nan)
        for step, cred in taken:
            matrix[np.searchsorted(steps, step), : cred.shape[0]] = cred[:, j]
        return steps, matrix

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The agents table a recorded step at a time (agent-major, claims within)."""
        ids = np.array(self.claims, dtype=object)
        n = self.n_agents
        for step, _time, cred in self.snapshots:
            k = cred.shape[1]
            yield pd.DataFrame(
                {
                    "step": np.full(n * k, step, dtype=np.int64),
                    "agent": np.repeat(np.arange(n), k),
                    "claim": np.tile(ids[:k], n),
                    "credence": cred.reshape(-1),
                }
            )

    def last_step(self) -> int | None:
        """The step of the last snapshot (None before any)."""
        return max((s for s, _, _ in self.snapshots), default=None)


def _known(model: ModelView, col: int) -> np.ndarray:
    """The credences in claim column `col` of the present agents whose credence is known."""
    known = model.beliefs.known_column(col)
    rows = model.present if known is None else model.present & known
    return model.beliefs.credence[rows, col]


def model_reporters(model: ModelView, extra: dict[str, Any] | None) -> dict[str, Callable]:
    """Today's model reporters: time, present, step counts, believers and mean per claim
    (no belief count or column in a run without claims).

    Believers are the present agents whose credence is at or above the config's
    ``analysis.measures.claims.threshold`` (0.5 unless given), as in the measures; both
    leave out an agent whose credence is unknown (its measuring answer failed).
    """
    claims = model.cfg.analysis.measures.get("claims") or {}
    threshold = float(claims.get("threshold", 0.5))

    def believers(col: int) -> Callable:
        def share(m: ModelView) -> float:
            rows = _known(m, col)
            return float((rows >= threshold).mean()) if len(rows) else math.nan  # unknown

        return share

    def mean(col: int) -> Callable:
        def average(m: ModelView) -> float:
            rows = _known(m, col)
            return float(rows.mean()) if len(rows) else math.nan

        return average

    def counted(kind: str) -> Callable:
        def number(m: ModelView) -> int:
            return m.recorder.stats.get(kind, 0)

        return number

    counts = dict(COUNTED)
    if not model.beliefs.claims:
        del counts["belief_changes"]  # no claim in play: no belief column at all
    reporters: dict[str, Callable] = {
        "time": lambda m: m.time,
        "present": lambda m: int(m.present.sum()),
        **{column: counted(kind) for column, kind in counts.items()},
    }
    for col, claim in enumerate(model.beliefs.claims):
        reporters[f"believers.{claim.id}"] = believers(col)
        reporters[f"mean_credence.{claim.id}"] = mean(col)
    for name, reporter in (extra or {}).items():
        if not (callable(reporter) or isinstance(reporter, str | list | tuple)):
            raise ConfigError(
                f"reporters[{name!r}]: {shown(reporter)} is no reporter; give a function of "
                "the model (lambda m: m.n_agents), an attribute's name or [function, args], "
                "as Mesa's DataCollector takes"
            )
        reporters[name] = reporter
    return reporters
