"""Worker processes for a sweep: started once, imports warmed once, each running many cells.

The sweep's process imports the simulation and analysis modules and the registries (with the
config's ``plugins:``) before it starts the workers. On Linux the workers are forked from it
and begin warm; elsewhere, or when the sweep's process runs other threads (a notebook), they
are spawned and warm themselves up once in their initializer. A worker ends with the sweep's
process however that ends (see :func:`die_with_parent`).
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from socialsim.experiments.sweep_cell import Cell, run_cell

# What a process's first cell would otherwise import: about 2 s, where a small rule cell takes 0.7 s.
WARM_MODULES = (
    "socialsim.experiments.plan",
    "socialsim.simulation.model",
    "socialsim.simulation.record",
    "socialsim.analysis.summarize",
    "pyarrow.parquet",
)


def warm_imports(plugins: list[str]) -> None:
    """Import what running a cell needs: the pipeline, the built-in registries, `plugins`."""
    from socialsim.core.registry import MEASURES, NETWORKS, POLICIES, SCENARIOS, load_plugins

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for module in WARM_MODULES:
        importlib.import_module(module)
    for registry in (POLICIES, NETWORKS, SCENARIOS, MEASURES):
        registry.names()
    load_plugins(plugins)


def start_method() -> str:
    """``fork`` where it is safe and cheap (Linux, this process has one thread), else ``spawn``."""
    one_thread = threading.active_count() == 1  # forking beside other threads can deadlock
    return "fork" if sys.platform.startswith("linux") and one_thread else "spawn"


class WorkerPool:
    """The process executor: long-lived worker processes that run a sweep's cells over the
    `base` config dict; they end with the sweep."""

    def __init__(
        self,
        workers: int,
        plugins: list[str],
        base: dict[str, Any] | None = None,
        base_dir: str = ".",
    ) -> None:
        warm_imports(plugins)
        self.base, self.base_dir = base or {}, base_dir
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=mp.get_context(start_method()),
            initializer=_init_worker,
            initargs=(os.getpid(), plugins),
        )

    def map(self, cells: list[Cell]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Queue every cell now (with ``fork`` the workers start here, so call it before any
        other thread starts); each cell's index and row as they finish, then the workers end."""
        futures = {
            self._pool.submit(run_cell, c.index, c.params, self.base, self.base_dir, c.dir): c.index
            for c in cells
        }
        return self._results(futures)

    def _results(self, futures: dict[Any, int]) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:  # Ctrl-C, SIGTERM as SystemExit, a broken pool: stop them now
            self.stop()
            raise
        self._pool.shutdown(wait=True)

    def stop(self) -> None:
        """Cancel what has not started and kill the workers (their cells are rerun on resume)."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            process.join(timeout=5)


def _init_worker(parent: int, plugins: list[str]) -> None:
    die_with_parent(parent)
    warm_imports(plugins)  # already done when forked; a spawned worker does it once here


def die_with_parent(parent: int) -> None:
    """In a worker process: exit when the sweep's process ends, however it ends.

    Linux delivers SIGKILL on the parent's death (``PR_SET_PDEATHSIG``); elsewhere, and as a
    second line, a daemon thread checks every second that the parent is still the parent.
    Ctrl-C is left to the parent, which stops the workers itself.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker keeps no handler of the parent
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="socialsim-parent-watch", daemon=True).start()
