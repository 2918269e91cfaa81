"""Sweeps: a parameter grid (dotted config keys) run over cells with a serial, process or Ray executor.

Each cell gets its own run directory under ``SWEEP_DIR/cells/``; the tidy results table
(one row per cell: swept parameters, status, then the metrics) goes to ``results.csv`` and
``results.parquet``. Rerunning skips cells that completed; a failed cell is recorded with its
error and does not stop the others. The process executor's long-lived workers live in
``sweep_workers``, the Ray executor (a local instance or a cluster's address) in ``sweep_ray``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from socialsim.core.csv_safe import write_csv
from socialsim.core.errors import ConfigError, SocialsimError
from socialsim.core.sweep_grid import check_grid_size
from socialsim.experiments.half_made import note_new_dir
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
    address: str | None = None,
) -> pd.DataFrame:
    """Run every grid cell (resuming finished ones) and return the tidy results table.

    `address` (``HOST:PORT`` or ``auto``; with the ``ray`` executor only) joins an existing
    Ray cluster; without it the ``ray`` executor starts a local one (or uses ``RAY_ADDRESS``).
    """
    from socialsim.experiments.runner import resolve_config

    cfg = resolve_config(config)
    grid = dict(grid if grid is not None else cfg.sweep)
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor {executor!r} is not one of {', '.join(EXECUTORS)}")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ConfigError(f"--workers {workers!r} must be >= 1 (worker processes)")
    check_grid_size(grid)
    cells = expand_grid(grid)
    base = cfg.model_dump(mode="json")
    base["sweep"] = {}
    base_dir = str(getattr(cfg, "_base_dir", None) or ".")
    for params in cells:  # validate every cell before running any
        ExperimentConfig.from_dict(_with(base, params), source=f"sweep cell {params}")
    if address is not None and executor != "ray":
        raise ConfigError("--address joins a Ray cluster; use it with --executor ray")
    if executor == "ray":  # an unreachable cluster fails here, before anything is written
        from socialsim.experiments.sweep_ray import connect

        connect(address, workers)
    root = Path(out) if out is not None else Path(cfg.output.dir) / f"{cfg.name}-sweep"
    if root.exists() and not root.is_dir():
        raise ConfigError(f"sweep directory {str(root)!r} is a file; give a directory")
    if root.is_dir() and any(root.iterdir()) and not (root / "sweep.json").exists():
        raise ConfigError(
            f"sweep directory {str(root)!r} holds other files and no sweep; give a new or "
            "empty directory (a sweep's own directory resumes it)"
        )
    note_new_dir(root, "sweep.json")  # whole once sweep.json is written
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
    write_csv(table, root / "results.csv")
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
    from socialsim.experiments.runner import run

    done = _read_done(Path(cell_dir))
    if done is not None and done.get("status") == "ok":  # a retried cell that had finished
        return done
    if Path(cell_dir).exists():  # a try cut off by a lost worker or node starts again
        shutil.rmtree(cell_dir)
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
) -> Iterator[tuple[int, dict]]:
    """Each job's index and row as it finishes, behind an optional progress bar."""
    from rich.progress import Progress

    pool = None
    try:
        if executor == "processes" and jobs:
            from socialsim.experiments.sweep_workers import WorkerPool

            pool = WorkerPool(min(workers or os.cpu_count() or 1, len(jobs)), base["plugins"])
            pool.submit(jobs, base, base_dir)  # forks the workers before the bar's thread starts
        with Progress(disable=not progress, transient=False) as bar:
            task = bar.add_task("cells", total=total, completed=already)
            for index, row in _results(jobs, base, base_dir, executor, pool):
                bar.advance(task)
                yield index, row
    except BaseException:  # Ctrl-C, SIGTERM as SystemExit, a broken pool: stop the workers now
        if pool is not None:
            pool.stop()
        raise


def _results(jobs, base, base_dir, executor, pool) -> Iterator[tuple[int, dict]]:
    if pool is not None:
        yield from pool.results()
    elif executor == "ray" and jobs:
        from socialsim.experiments.sweep_ray import run_on_ray

        yield from run_on_ray(jobs, base, base_dir)
    else:
        for i, params, cell_dir in jobs:
            yield i, run_cell(i, params, base, base_dir, cell_dir)


def _table(rows: list[dict[str, Any]], keys: list[str]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    first = ["cell", *keys, "status", "error"]
    rest = [c for c in table.columns if c not in first and c != "run_dir"]
    return table[[c for c in first if c in table.columns] + rest + ["run_dir"]]
