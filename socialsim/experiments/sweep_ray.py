"""Sweep cells on Ray: a local Ray instance, or an existing cluster joined by its address.

Each cell is one Ray task that needs one CPU. A task whose worker process or node is lost is
run again by Ray (``max_retries``); a cell still lost after that is submitted again from here,
and recorded as failed only when every try was lost. Paths are made absolute, so a cell
writes to the same place on whichever node runs it. When that folder is not shared between
the machines, each cell's run directory stays on the node that ran it; the driver records
the cell's row (and its ``cell.json``) itself, so results and resuming still work.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from socialsim.core.errors import ConfigError
from socialsim.experiments.sweep_cell import Cell, record_done, run_cell

TASK_RETRIES = 3  # Ray's own reruns of a task whose worker or node died
RESUBMITS = 2  # further submissions from the driver once Ray has given up


def connect(address: str | None, workers: int | None) -> None:
    """Join the Ray cluster at `address` (or ``RAY_ADDRESS``), else start a local Ray instance.

    An unreachable address is a one-line ConfigError.
    """
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--executor ray needs the ray extra: pip install 'socialsim[ray]'"
        ) from None
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    quiet: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    if address is None:
        ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, **quiet)
        return
    _check_reachable(address)
    try:
        ray.init(address=address, **quiet)
    except Exception as exc:  # noqa: BLE001 - Ray raises several kinds; all mean "not joined"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"cannot join the Ray cluster at {address!r}: {first}") from None


def _check_reachable(address: str) -> None:
    """A quick TCP check of ``HOST:PORT`` (Ray itself retries for a long time)."""
    if address == "auto" or address.startswith("local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"Ray address {address!r}: give HOST:PORT (the head's GCS port) or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address!r} ({exc.strerror or exc}); "
            "is `ray start --head` running there?"
        ) from None


class RayExecutor:
    """The Ray executor: joins the cluster (or starts a local Ray) when made; each cell is
    one Ray task over the `base` config dict."""

    def __init__(
        self, base: dict[str, Any], base_dir: str, address: str | None, workers: int | None
    ) -> None:
        connect(address, workers)
        self.base, self.base_dir = base, base_dir

    def map(self, cells: list[Cell]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Submit every cell as a Ray task now; each cell's index and row as it finishes."""
        import ray

        remote = ray.remote(num_cpus=1, max_retries=TASK_RETRIES, retry_exceptions=False)(run_cell)
        where = str(Path(self.base_dir).resolve())

        def submit(cell: Cell) -> Any:
            return remote.remote(cell.index, cell.params, self.base, where, _absolute(cell.dir))

        pending = {submit(cell): cell for cell in cells}
        return self._results(pending, submit)

    def _results(self, pending: dict[Any, Cell], submit: Any) -> Iterator[tuple[int, dict]]:
        import ray

        lost: dict[int, int] = {}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                cell = pending.pop(ref)
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    lost[cell.index] = lost.get(cell.index, 0) + 1
                    if lost[cell.index] <= RESUBMITS:
                        pending[submit(cell)] = cell
                        continue
                    first = (str(exc).strip().splitlines() or [""])[0]
                    row = {"cell": cell.index, **cell.params, "status": "failed"}
                    row["error"] = f"lost on the Ray cluster: {type(exc).__name__}: {first}"
                row["run_dir"] = cell.dir  # as the serial executor names it
                record_done(row, Path(_absolute(cell.dir)))
                yield cell.index, row

    def stop(self) -> None:
        """Leave the tasks to Ray: a cell still running is run again when the sweep resumes."""


def _absolute(path: str) -> str:
    """The path made absolute, so a cell writes to the same place on any node."""
    return str(Path(path).resolve())
