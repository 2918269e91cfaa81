"""How a sweep's cells are run: the :class:`Executor` protocol and its three kinds.

An executor is made for one sweep (:func:`make_executor`) and runs its cells with
``map(cells)``, which submits them all at once and returns each cell's index and results row
as it finishes; ``stop()`` ends what is still running (Ctrl-C, a broken pool). The serial
executor runs the cells here, one after the other; the process executor
(:class:`~socialsim.experiments.sweep_workers.WorkerPool`) on long-lived worker processes;
the Ray executor (:class:`~socialsim.experiments.sweep_ray.RayExecutor`) as Ray tasks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Protocol

from socialsim.core.errors import ConfigError
from socialsim.experiments.sweep_cell import Cell, run_cell

EXECUTORS = ("serial", "processes", "ray")

CellResults = Iterator[tuple[int, dict[str, Any]]]


class Executor(Protocol):
    """Runs a sweep's cells: ``map`` submits them and yields (index, row) as each finishes."""

    def map(self, cells: list[Cell]) -> CellResults:
        """Submit every cell now; each cell's index and results row as it finishes."""
        ...

    def stop(self) -> None:
        """End what is still running; its cells are run again when the sweep resumes."""
        ...


class SerialExecutor:
    """Every cell in this process, one after the other."""

    def __init__(self, base: dict[str, Any], base_dir: str) -> None:
        self.base, self.base_dir = base, base_dir

    def map(self, cells: list[Cell]) -> CellResults:
        """Each cell's index and row, run here in order."""
        return (
            (c.index, run_cell(c.index, c.params, self.base, self.base_dir, c.dir)) for c in cells
        )

    def stop(self) -> None:
        """Nothing runs outside this process."""


def check_executor(kind: str, workers: int | None, address: str | None) -> None:
    """ConfigError (one line) for an unknown executor, a bad worker count, or an address
    given to an executor other than Ray."""
    if kind not in EXECUTORS:
        raise ConfigError(f"--executor {kind!r} is not one of {', '.join(EXECUTORS)}")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ConfigError(f"--workers {workers!r} must be >= 1 (worker processes)")
    if address is not None and kind != "ray":
        raise ConfigError("--address joins a Ray cluster; use it with --executor ray")


def make_executor(
    kind: str,
    base: dict[str, Any],
    base_dir: str,
    workers: int | None = None,
    address: str | None = None,
    cells: int = 1,
) -> Executor:
    """The executor of one sweep over the `base` config dict (`cells` to run).

    ``ray`` joins the cluster at `address` (or starts a local one) here, so an unreachable
    cluster fails before anything is written; ``processes`` starts up to `workers` worker
    processes (default: the cores), no more than there are cells.
    """
    check_executor(kind, workers, address)
    if kind == "ray":
        from socialsim.experiments.sweep_ray import RayExecutor

        return RayExecutor(base, base_dir, address, workers)
    if kind == "processes" and cells > 0:
        from socialsim.experiments.sweep_workers import WorkerPool

        count = min(workers or os.cpu_count() or 1, cells)
        return WorkerPool(count, base["plugins"], base, base_dir)
    return SerialExecutor(base, base_dir)
