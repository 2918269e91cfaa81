"""Sweeps: a parameter grid (dotted config keys) run over cells with a serial, process or Ray executor.

Each cell gets its own run directory under ``SWEEP_DIR/cells/``; the tidy results table
(one row per cell: swept parameters, status, then the metrics) goes to ``results.csv`` and
``results.parquet``. Rerunning skips cells that completed; a failed cell is recorded with its
error and does not stop the others. A cell runs in ``sweep_cell``; the executors (serial,
processes, Ray) sit behind one protocol in ``sweep_executor``, the process executor's
long-lived workers in ``sweep_workers``, the Ray executor (a local instance or a cluster's
address) in ``sweep_ray``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from socialsim.core.columns import plain_table
from socialsim.core.csv_safe import write_csv
from socialsim.core.errors import ConfigError
from socialsim.core.sweep_grid import check_grid_size
from socialsim.core.validation import plain, shown
from socialsim.experiments.half_made import note_new_dir
from socialsim.experiments.sweep_cell import DONE_MARKER, Cell, read_done
from socialsim.experiments.sweep_executor import (
    EXECUTORS,
    Executor,
    check_executor,
    make_executor,
)
from socialsim.llm.redact import redact_json
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.given import coerce_config

__all__ = ["DONE_MARKER", "EXECUTORS", "cell_name", "expand_grid", "sweep"]


def expand_grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """All combinations of the grid's values, in declaration order (last key varies fastest)."""
    if not grid:
        return [{}]
    keys = list(grid)
    return [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))
    ]


def grid_of(grid: Any) -> dict[str, list[Any]]:
    """A grid given from Python as the config holds one: each dotted key's list of values
    (NumPy values as Python's); a key's single value or text is refused, not split."""
    if not isinstance(grid, dict):
        raise ConfigError(f"sweep grid: {shown(grid)} must be a mapping, e.g. {{seed: [1, 2]}}")
    out: dict[str, list[Any]] = {}
    for key, values in plain(grid).items():
        if type(values) not in (list, tuple):
            raise ConfigError(
                f"sweep grid: {key}: {shown(values)} must be a list of values, e.g. [1, 2]"
            )
        if not values:
            raise ConfigError(f"sweep grid: {key} has no values; give at least one")
        out[str(key)] = list(values)
    return out


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
    cfg = coerce_config(config)
    grid = grid_of(grid if grid is not None else cfg.sweep)
    check_executor(executor, workers, address)
    check_grid_size(grid)
    cells = expand_grid(grid)
    base = cfg.model_dump(mode="json")
    base["sweep"] = {}
    base_dir = str(getattr(cfg, "_base_dir", None) or ".")
    for params in cells:  # validate every cell before running any
        coerce_config(base, params, source=f"sweep cell {params}")
    # an unreachable Ray cluster fails here, before anything is written
    ray = make_executor("ray", base, base_dir, workers, address) if executor == "ray" else None
    root = Path(out) if out is not None else Path(cfg.output.dir) / f"{cfg.name}-sweep"
    if root.exists() and not root.is_dir():
        raise ConfigError(f"sweep directory {str(root)!r} is a file; give a directory")
    if root.is_dir() and any(root.iterdir()) and not (root / "sweep.json").exists():
        raise ConfigError(
            f"sweep directory {str(root)!r} holds other files and no sweep; give a new or "
            "empty directory (a sweep's own directory resumes it)"
        )
    # as written, keys redacted (the cells are given `base` itself)
    record = json.loads(redact_json(json.dumps({"grid": grid, "config": base}, default=str)))
    check_same_sweep(root, record)
    note_new_dir(root, "sweep.json")  # whole once sweep.json is written
    try:
        (root / "cells").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the sweep directory {str(root)!r} ({exc.strerror or exc}); "
            "choose a writable place with --out or output.dir"
        ) from None
    (root / "sweep.json").write_text(json.dumps(record, indent=2))

    todo, rows = [], {}
    for i, params in enumerate(cells):
        cell_dir = root / "cells" / cell_name(i, params)
        done = read_done(cell_dir)
        if done is not None and done.get("status") == "ok":
            rows[i] = done
            continue
        if cell_dir.exists():
            shutil.rmtree(cell_dir)  # an interrupted or failed cell is run again from scratch
        todo.append(Cell(i, params, str(cell_dir)))

    runner = ray or make_executor(executor, base, base_dir, workers, cells=len(todo))
    for i, row in _run_cells(runner, todo, progress, len(cells), len(rows)):
        rows[i] = row
    table = _table([rows[i] for i in sorted(rows)], list(grid))
    write_csv(table, root / "results.csv")
    plain_table(table).to_parquet(root / "results.parquet", index=False)
    if report:
        from socialsim.analysis.report import write_report

        write_report(root)
    return table


def check_same_sweep(root: Path, record: dict[str, Any]) -> None:
    """Refuse to resume the sweep in `root` with another base config or grid: its finished
    cells were run as its ``sweep.json`` says, and would be reported as this sweep's (or
    left behind, unlisted, beside its cells)."""
    path = root / "sweep.json"
    if not path.is_file():
        return
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
        held_config, held_grid = held["config"], held["grid"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{str(path)!r} is not a sweep's record ({exc}); give a new sweep directory"
        ) from None
    difference = first_difference(held_config, record["config"]) or first_difference(
        held_grid, record["grid"], "sweep"
    )
    if difference is not None:
        key, there, here = difference
        raise ConfigError(
            f"sweep directory {str(root)!r} holds a sweep of another config ({key}: {there} "
            f"there, {here} now); give a new directory (--out), or remove this one to start again"
        )


def first_difference(a: Any, b: Any, key: str = "") -> tuple[str, str, str] | None:
    """The first dotted key where `a` and `b` (parsed JSON) differ, and each side's value."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in [*a, *(k for k in b if k not in a)]:
            where = f"{key}.{k}" if key else str(k)
            if k not in a or k not in b:
                return where, _shown(a.get(k), k in a), _shown(b.get(k), k in b)
            found = first_difference(a[k], b[k], where)
            if found is not None:
                return found
        return None
    if a == b and type(a) is type(b):
        return None
    return key or "config", _shown(a, True), _shown(b, True)


def _shown(value: Any, present: bool) -> str:
    return shown(value, 60) if present else "absent"


def _run_cells(
    runner: Executor, cells: list[Cell], progress: bool, total: int, already: int
) -> Iterator[tuple[int, dict]]:
    """Each cell's index and row as it finishes, behind an optional progress bar."""
    from rich.progress import Progress

    try:
        results = runner.map(cells)  # forks the workers before the bar's thread starts
        with Progress(disable=not progress, transient=False) as bar:
            task = bar.add_task("cells", total=total, completed=already)
            for index, row in results:
                bar.advance(task)
                yield index, row
    except BaseException:  # Ctrl-C, SIGTERM as SystemExit, a broken pool: stop the workers now
        runner.stop()
        raise


def _table(rows: list[dict[str, Any]], keys: list[str]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    first = ["cell", *keys, "status", "error"]
    rest = [c for c in table.columns if c not in first and c != "run_dir"]
    return table[[c for c in first if c in table.columns] + rest + ["run_dir"]]
