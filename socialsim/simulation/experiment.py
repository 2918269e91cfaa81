"""Sweeps: a parameter grid (dotted config keys) run over cells with a serial, process or Ray executor.

Each cell gets its own run directory under ``SWEEP_DIR/cells/``; the tidy results table
(one row per cell: swept parameters, status, then the metrics) goes to ``results.csv`` and
``results.parquet``. Rerunning skips cells that completed; a failed cell is recorded with its
error and does not stop the others.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from socialsim.errors import ConfigError, SocialsimError
from socialsim.simulation.config import ExperimentConfig

EXECUTORS = ("serial", "processes", "ray")
DONE_MARKER = "cell.json"


def expand_grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """All combinations of the grid's values, in declaration order (last key varies fastest)."""
    if not grid:
        return [{}]
    keys = list(grid)
    return [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))
    ]


def cell_name(index: int, params: dict[str, Any]) -> str:
    """A stable, readable directory name for a grid cell."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[
        :8
    ]
    readable = "_".join(f"{k.split('.')[-1]}-{v}" for k, v in params.items())
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in readable)[:80]
    return f"{index:04d}_{safe}_{digest}" if safe else f"{index:04d}_{digest}"


def sweep(
    config: ExperimentConfig | str | os.PathLike,
    grid: dict[str, list[Any]] | None = None,
    out: str | os.PathLike | None = None,
    executor: str = "processes",
    workers: int | None = None,
    progress: bool = False,
    report: bool = True,
) -> pd.DataFrame:
    """Run every grid cell (resuming finished ones) and return the tidy results table."""
    from socialsim.simulation.runner import resolve_config

    cfg = resolve_config(config)
    grid = dict(grid if grid is not None else cfg.sweep)
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor {executor!r} is not one of {', '.join(EXECUTORS)}")
    cells = expand_grid(grid)
    base = cfg.model_dump(mode="json")
    base["sweep"] = {}
    base_dir = str(getattr(cfg, "_base_dir", None) or ".")
    for params in cells:  # validate every cell before running any
        ExperimentConfig.from_dict(_with(base, params), source=f"sweep cell {params}")
    root = Path(out) if out is not None else Path(cfg.output.dir) / f"{cfg.name}-sweep"
    if root.exists() and not root.is_dir():
        raise ConfigError(f"sweep directory {str(root)!r} is a file; give a directory")
    if root.is_dir() and any(root.iterdir()) and not (root / "sweep.json").exists():
        raise ConfigError(
            f"sweep directory {str(root)!r} holds other files and no sweep; give a new or "
            "empty directory (a sweep's own directory resumes it)"
        )
    try:
        (root / "cells").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the sweep directory {str(root)!r} ({exc.strerror or exc}); "
            "choose a writable place with --out or output.dir"
        ) from None
    (root / "sweep.json").write_text(
        json.dumps({"grid": grid, "config": base}, indent=2, default=str)
    )

    jobs, rows = [], {}
    for i, params in enumerate(cells):
        cell_dir = root / "cells" / cell_name(i, params)
        done = _read_done(cell_dir)
        if done is not None and done.get("status") == "ok":
            rows[i] = done
            continue
        if cell_dir.exists():
            shutil.rmtree(cell_dir)  # an interrupted or failed cell is run again from scratch
        jobs.append((i, params, str(cell_dir)))

    for i, row in _execute(
        jobs, base, base_dir, executor, workers, progress, len(cells), len(rows)
    ):
        rows[i] = row
    table = _table([rows[i] for i in sorted(rows)], list(grid))
    table.to_csv(root / "results.csv", index=False)
    table.to_parquet(root / "results.parquet", index=False)
    if report:
        from socialsim.analysis.report import write_report

        write_report(root)
    return table


def _with(base: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    from socialsim.simulation.config import apply_overrides

    return apply_overrides(base, params)


def _read_done(cell_dir: Path) -> dict[str, Any] | None:
    marker = cell_dir / DONE_MARKER
    if not marker.exists():
        return None
    try:
        return json.loads(marker.read_text())
    except json.JSONDecodeError:
        return None


def run_cell(
    index: int, params: dict[str, Any], base: dict[str, Any], base_dir: str, cell_dir: str
) -> dict[str, Any]:
    """Run one cell in the current process; return its results row (never raises)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from socialsim.simulation.runner import run

    row: dict[str, Any] = {"cell": index, **params, "run_dir": cell_dir}
    try:
        cfg = ExperimentConfig.from_dict(_with(base, params))
        cfg._base_dir = Path(base_dir)
        result = run(cfg, out=cell_dir, report=False)
        row.update(status="ok", error=None, **_metrics(result.summary))
    except SocialsimError as exc:
        row.update(status="failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a failed cell must not stop the sweep
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        Path(cell_dir).mkdir(parents=True, exist_ok=True)
        (Path(cell_dir) / "error.txt").write_text(traceback.format_exc())
    Path(cell_dir).mkdir(parents=True, exist_ok=True)
    (Path(cell_dir) / DONE_MARKER).write_text(json.dumps(row, default=str))
    return row


def _metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The flat measures of a cell: a run's measures, or an arms cell's means and effects."""
    from socialsim.analysis.summarize import flat_metrics

    if summary.get("kind") != "arms":
        return flat_metrics(summary)
    metrics: dict[str, Any] = {}
    for arm, means in summary.get("means", {}).items():
        for key, value in means.items():
            metrics[f"{arm}.{key}"] = value
    for effect in summary.get("effects", []):
        for field in ("difference", "ci_low", "ci_high"):
            metrics[f"effect.{effect['measure']}.{field}"] = effect.get(field)
    return metrics


def _execute(
    jobs, base, base_dir, executor, workers, progress, total, already
) -> Iterable[tuple[int, dict]]:
    from rich.progress import Progress

    with Progress(disable=not progress, transient=False) as bar:
        task = bar.add_task("cells", total=total, completed=already)
        for index, row in _dispatch(jobs, base, base_dir, executor, workers):
            bar.advance(task)
            yield index, row


def _dispatch(jobs, base, base_dir, executor, workers) -> Iterable[tuple[int, dict]]:
    if not jobs:
        return
    if executor == "serial":
        for i, params, cell_dir in jobs:
            yield i, run_cell(i, params, base, base_dir, cell_dir)
    elif executor == "processes":
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        n = min(workers or os.cpu_count() or 1, len(jobs))
        pool = ProcessPoolExecutor(
            max_workers=n,
            mp_context=mp.get_context("spawn"),
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        )
        try:
            futures = {pool.submit(run_cell, i, p, base, base_dir, d): i for i, p, d in jobs}
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:  # Ctrl-C, SIGTERM as SystemExit, a failed cell: stop the workers now
            _stop_workers(pool)
            raise
        pool.shutdown(wait=True)
    else:
        yield from _dispatch_ray(jobs, base, base_dir, workers)


def die_with_parent(parent: int) -> None:
    """In a worker process: exit when the sweep's process ends, however it ends.

    Linux delivers SIGKILL on the parent's death (``PR_SET_PDEATHSIG``); elsewhere, and as a
    second line, a daemon thread checks every second that the parent is still the parent.
    Ctrl-C is left to the parent, which stops the workers itself.
    """
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


def _stop_workers(pool) -> None:
    """Cancel what has not started and kill the worker processes (their cells are rerun)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)


def _dispatch_ray(jobs, base, base_dir, workers) -> Iterable[tuple[int, dict]]:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--executor ray needs the ray extra: pip install 'socialsim[ray]'"
        ) from None
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        kwargs: dict[str, Any] = (
            {"address": address} if address else {"num_cpus": workers or os.cpu_count()}
        )
        ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False, **kwargs)
    remote = ray.remote(num_cpus=1)(run_cell)
    pending = {remote.remote(i, p, base, base_dir, d): i for i, p, d in jobs}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            yield pending.pop(ref), ray.get(ref)


def _table(rows: list[dict[str, Any]], keys: list[str]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    first = ["cell", *keys, "status", "error"]
    rest = [c for c in table.columns if c not in first and c != "run_dir"]
    return table[[c for c in first if c in table.columns] + rest + ["run_dir"]]
