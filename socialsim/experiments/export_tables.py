"""One table of many runs: the events, agents or measures of a run, arms or sweep directory.

:func:`labelled_runs` lists the runs of a directory with the columns that identify each one
(``cell`` and the swept parameters of a sweep, ``arm``, ``seed``, ``run_dir``);
:func:`export_table` writes one table of them all, run by run: a first pass reads each run
for its columns and types, a second writes it (Parquet in one row group per run, CSV with
formula cells defused, JSON lines), so no more than one run's table is held at a time.

    export_table("runs/x-arms", "events", "parquet")  # -> runs/x-arms/export-events.parquet
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from socialsim.analysis.summarize import flat_metrics
from socialsim.core.csv_safe import neutralise_formulas, write_csv
from socialsim.core.errors import ConfigError
from socialsim.core.rundata import load_run
from socialsim.experiments.arms import is_arms_dir
from socialsim.experiments.sweep import cell_name, expand_grid
from socialsim.experiments.sweep_cell import read_done

RUN_MARKERS = ("events.jsonl", "events.parquet", "events.csv")
TABLES = ("events", "agents", "measures")
FORMATS = {"csv": "csv", "parquet": "parquet", "jsonl": "jsonl"}
ARM_ORDER = ("treatment", "instrument", "control")


@dataclass(frozen=True)
class LabelledRun:
    """A run directory and the values that identify it in a table of many runs."""

    path: Path
    labels: dict[str, Any] = field(default_factory=dict)


def is_run_dir(path: str | os.PathLike) -> bool:
    """True for a run directory (it holds an events table)."""
    return any((Path(path) / name).is_file() for name in RUN_MARKERS)


def is_sweep_dir(path: str | os.PathLike) -> bool:
    """True for a directory written by ``sweep`` (it holds sweep.json)."""
    return (Path(path) / "sweep.json").is_file()


def labelled_runs(root: str | os.PathLike) -> list[LabelledRun]:
    """The runs of a run, arms or sweep directory with their identifying columns, in order.

    A run: ``seed, run_dir``; arms: ``arm, seed, run_dir`` (by seed, then treatment,
    instrument, control); a sweep: ``cell``, the swept parameters, then a cell's own columns
    (cells that did not finish are left out). ``run_dir`` is relative to `root`.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{str(root)!r} is not a directory; pass a run, arms or sweep directory")
    if is_sweep_dir(root):
        return list(_sweep_runs(root))
    if is_arms_dir(root):
        return list(_arms_runs(root, root, {}))
    if is_run_dir(root):
        return [LabelledRun(root, {"seed": _seed(root), "run_dir": "."})]
    raise ConfigError(
        f"{str(root)!r} holds no run: it is not a run, arms or sweep directory (no events.jsonl, no "
        "treatment/ with config.yaml, no sweep.json); pass a directory that socialsim wrote"
    )


def _arms_runs(arms: Path, root: Path, labels: dict[str, Any]) -> Iterator[LabelledRun]:
    found = [
        (int(p.name[1:]), ARM_ORDER.index(arm), arm, p)
        for arm in ARM_ORDER
        for p in (arms / arm).glob("s*")
        if p.name[1:].isdigit() and is_run_dir(p)
    ]
    for seed, _, arm, path in sorted(found):
        yield LabelledRun(
            path, {**labels, "arm": arm, "seed": seed, "run_dir": path.relative_to(root).as_posix()}
        )


def _sweep_runs(root: Path) -> Iterator[LabelledRun]:
    try:
        grid = json.loads((root / "sweep.json").read_text(encoding="utf-8"))["grid"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{str(root / 'sweep.json')!r} is not a sweep's record ({exc}); pass a sweep "
            "directory that socialsim wrote"
        ) from None
    for index, params in enumerate(expand_grid(grid)):
        cell = root / "cells" / cell_name(index, params)
        done = read_done(cell)
        if done is None or done.get("status") != "ok":
            continue
        labels = {"cell": index, **params}
        if is_arms_dir(cell):
            yield from _arms_runs(cell, root, labels)
        elif is_run_dir(cell):
            seed = {} if "seed" in params else {"seed": _seed(cell)}
            yield LabelledRun(
                cell, {**labels, **seed, "run_dir": cell.relative_to(root).as_posix()}
            )


def _summary(run_dir: Path) -> dict[str, Any]:
    """The run's summary.json ({} when it has none or it does not parse)."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return summary if isinstance(summary, dict) else {}


def _seed(run_dir: Path) -> int | None:
    """The run's seed, from its summary.json (None when it has none)."""
    seed = (_summary(run_dir).get("run") or {}).get("seed")
    return None if seed is None else int(seed)


def run_table(run: LabelledRun, what: str) -> pd.DataFrame:
    """One run's events or agents table (as ``load_run`` reads it), or its measures row,
    behind its identifying columns."""
    if what == "measures":
        summary = _summary(run.path)
        return pd.DataFrame([{**run.labels, **flat_metrics(summary)}])
    data = load_run(run.path)
    table = data.events if what == "events" else data.agents
    table = table.reset_index(drop=True)
    labels = pd.DataFrame({k: [v] * len(table) for k, v in run.labels.items()}, index=table.index)
    return pd.concat([labels, table.drop(columns=list(run.labels), errors="ignore")], axis=1)


def default_table_path(root: str | os.PathLike, what: str, fmt: str) -> Path:
    """Where a table export goes without ``--out``: ``ROOT/export-<what>.<format>``."""
    return Path(root) / f"export-{what}.{FORMATS[fmt]}"


def export_table(
    root: str | os.PathLike,
    what: str = "events",
    fmt: str = "parquet",
    out: str | os.PathLike | None = None,
    force: bool = False,
) -> Path:
    """Write the `what` table (events, agents or measures) of every run under `root` as one
    `fmt` (csv, parquet or jsonl) file; return its path.

    An existing file is replaced only with `force`; the file appears whole or not at all.
    """
    if what not in TABLES:
        raise ConfigError(f"--what {what!r} is not a table; choose one of {', '.join(TABLES)}")
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    runs = labelled_runs(root)
    if not runs:
        raise ConfigError(f"{str(root)!r} holds no finished run to export")
    path = Path(out) if out is not None else default_table_path(root, what, fmt)
    if path.is_dir():
        raise ConfigError(f"--out {str(path)!r} is a directory; give a file name for the table")
    if path.exists() and not force:
        raise ConfigError(
            f"{str(path)!r} exists; pass --force to replace it, or --out to write elsewhere"
        )
    if not path.parent.is_dir():
        raise ConfigError(f"the folder of --out {str(path)!r} does not exist; create it first")
    partial = path.with_name(f".{path.name}.partial")
    try:
        if what == "measures":
            _write_whole(
                pd.concat([run_table(r, what) for r in runs], ignore_index=True), partial, fmt
            )
        elif fmt == "jsonl":
            with open(partial, "w", encoding="utf-8") as fh:
                for run in runs:
                    run_table(run, what).to_json(
                        fh, orient="records", lines=True, default_handler=str
                    )
        else:
            _write_streamed(runs, what, partial, fmt)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _write_whole(table: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        write_csv(table, path)
    elif fmt == "parquet":
        _as_text(table).to_parquet(path, index=False)
    else:
        table.to_json(path, orient="records", lines=True, default_handler=str)


def _as_text(table: pd.DataFrame) -> pd.DataFrame:
    """Object columns (lists, dicts, text) as text, as a run writes its events.parquet."""
    return table.astype({c: "string" for c in table.columns if table[c].dtype == object})


def _write_streamed(runs: list[LabelledRun], what: str, path: Path, fmt: str) -> None:
    """Two passes: every run's column types, then each run as one batch of one file."""
    schemas = [
        pa.Schema.from_pandas(_as_text(run_table(r, what)), preserve_index=False) for r in runs
    ]
    schema = _common_schema(schemas)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        writer = pq.ParquetWriter(path, schema)
    else:
        import pyarrow.csv as pacsv

        writer = pacsv.CSVWriter(path, schema)
    with writer:
        for run in runs:
            table = _as_text(run_table(run, what))
            if fmt == "csv":
                table = neutralise_formulas(table)
            writer.write_table(_conform(table, schema))


def _common_schema(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema for every run: a column's one type, float for mixed numbers, else text."""
    types: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for f in schema:
            types.setdefault(f.name, [])
            if f.type != pa.null():
                types[f.name].append(f.type)
    fields = []
    for name, seen in types.items():
        kinds = set(seen)
        if len(kinds) == 1:
            kind = seen[0]
        elif kinds and all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in kinds):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def _conform(table: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """`table` with the schema's columns in its order (missing ones empty), as Arrow."""
    columns = {}
    for f in schema:
        values = table[f.name] if f.name in table.columns else pd.Series([None] * len(table))
        if f.type == pa.string() and values.dtype != "string":
            values = values.astype(object).map(lambda v: None if pd.isna(v) else str(v))
        columns[f.name] = pa.array(values.reset_index(drop=True), type=f.type, from_pandas=True)
    return pa.table(columns, schema=schema)
