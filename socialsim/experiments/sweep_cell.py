"""One cell of a sweep: its swept parameters over the base config, run in any process.

A cell runs through the same plan as ``socialsim run`` (``plan_run``, ``execute``)
into its own directory and leaves ``cell.json`` (its results row) there once it is done,
failed or not; a rerun of the sweep keeps the cells whose row says ``ok``.
"""

from __future__ import annotations

import json
import os
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialsim.core.errors import SocialsimError

DONE_MARKER = "cell.json"


@dataclass(frozen=True)
class Cell:
    """A grid cell to run: its index, its swept parameters (dotted keys), its directory."""

    index: int
    params: dict[str, Any]
    dir: str


def read_done(cell_dir: Path) -> dict[str, Any] | None:
    """The results row a finished cell left in `cell_dir`, or None."""
    marker = cell_dir / DONE_MARKER
    if not marker.exists():
        return None
    try:
        return json.loads(marker.read_text())
    except json.JSONDecodeError:
        return None


def record_done(row: dict[str, Any], cell_dir: Path) -> None:
    """Write the cell's row as its marker, unless the cell wrote it (a shared folder)."""
    marker = cell_dir / DONE_MARKER
    if not marker.exists():
        cell_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(row, default=str))


def run_cell(
    index: int, params: dict[str, Any], base: dict[str, Any], base_dir: str, cell_dir: str
) -> dict[str, Any]:
    """Run one cell in the current process; return its results row (never raises)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from socialsim.experiments.plan import execute, plan_run

    done = read_done(Path(cell_dir))
    if done is not None and done.get("status") == "ok":  # a retried cell that had finished
        return done
    if Path(cell_dir).exists():  # a try cut off by a lost worker or node starts again
        shutil.rmtree(cell_dir)
    row: dict[str, Any] = {"cell": index, **params, "run_dir": cell_dir}
    try:
        plan = plan_run(base, params, out=cell_dir, report=False, base_dir=base_dir)
        result = execute(plan)
        row.update(status="ok", error=None, **cell_metrics(result.summary))
    except SocialsimError as exc:
        row.update(status="failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a failed cell must not stop the sweep
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        Path(cell_dir).mkdir(parents=True, exist_ok=True)
        (Path(cell_dir) / "error.txt").write_text(traceback.format_exc())
    Path(cell_dir).mkdir(parents=True, exist_ok=True)
    (Path(cell_dir) / DONE_MARKER).write_text(json.dumps(row, default=str))
    return row


def cell_metrics(summary: dict[str, Any]) -> dict[str, Any]:
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
