"""Run one experiment end to end and write its run directory."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from socialsim.analysis.summarize import summarize_run, write_summary, write_tables
from socialsim.core.credences import CredenceSource, long_table, parquet_metadata
from socialsim.core.csv_safe import write_csv as safe_csv
from socialsim.core.csv_safe import write_csv_chunks
from socialsim.core.errors import ConfigError, SocialsimError
from socialsim.core.rundata import RunData
from socialsim.experiments.half_made import note_new_dir
from socialsim.experiments.memory import check_memory
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.graphml import write_graphml
from socialsim.simulation.log import being_written


class RunOptions(Protocol):
    """What running one plan needs: :class:`~socialsim.experiments.plan.RunPlan` has it."""

    cfg: ExperimentConfig
    out: Path | None
    report: bool | None
    on_step: Callable[[Any], None] | None
    clients: dict | None
    graph: Any
    personas: Any
    in_arms: bool

    def arm(self, seed: int, arm: str, out: Path) -> RunOptions:
        """The options of one run of an arms plan: one seed, one arm, into `out`."""
        ...

    @property
    def seeds(self) -> list[int]:
        """The seeds of an arms plan, run in each arm."""
        ...

    @property
    def arm_names(self) -> list[str]:
        """The arms of an arms plan: treatment, then control (and instrument) if set."""
        ...


class Run(RunData):
    """A finished run: its record (the :class:`RunData` of its directory) and its summary.

    ``run.events``, ``run.agents``, ``run.graph``, ``run.personas`` and ``run.config`` are
    the same as ``load_run(run.dir)`` gives; ``run.cfg`` is the :class:`ExperimentConfig`.
    """

    def __init__(self, data: RunData, cfg: ExperimentConfig, summary: dict[str, Any]) -> None:
        self.__dict__.update(data.__dict__)
        self.cfg = cfg
        self.summary = summary

    @property
    def paths(self) -> dict[str, Path]:
        """The files of the run directory that exist."""
        assert self.path is not None
        return {p.name: p for p in sorted(self.path.iterdir()) if p.is_file()}


def new_run_dir(
    cfg: ExperimentConfig,
    out: str | os.PathLike | None,
    suffix: str = "",
    holds: tuple[str, ...] = ("events.jsonl",),
) -> Path:
    """A fresh directory for the run (``output.dir/NAME-sSEED{suffix}``, numbered when taken).

    An `out` that already holds one of `holds` (a run's files) is refused, never reused; so
    is one that holds anything else (nothing of the user's is overwritten) and a file. One
    left by a run stopped during its set-up (:func:`is_set_up_only`) is emptied and reused.
    """
    check_memory(cfg)
    if out is not None:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise ConfigError(
                f"--out {str(path)!r} is a file; give a directory to write the run to"
            )
        if being_written(path / "events.jsonl"):
            raise ConfigError(
                f"--out {str(path)!r} is being written by another run now; wait for it to end "
                "or choose another directory"
            )
        if is_set_up_only(path):
            for name in SET_UP_FILES:
                (path / name).unlink(missing_ok=True)
        if any((path / name).exists() for name in holds):
            raise ConfigError(
                f"--out {str(path)!r} already holds a run; choose another directory or remove it"
            )
        if path.is_dir() and any(path.iterdir()):
            raise ConfigError(
                f"--out {str(path)!r} exists and holds other files; give a new or empty directory"
            )
        _mkdir(path, exist_ok=True)
        return path
    root = Path(cfg.output.dir)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"output.dir {str(root)!r} is a file; give a directory")
    base = root / f"{cfg.name}-s{cfg.seed}{suffix}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = root / f"{base.name}-{k}"
    _mkdir(path, exist_ok=False)
    return path


#: what a run's set-up writes before config.yaml (a kill then leaves only these)
SET_UP_FILES = ("events.jsonl",)


def is_set_up_only(path: Path) -> bool:
    """True for a directory a run was stopped in during its set-up: no config.yaml, and
    nothing but the set-up's partial files (:data:`SET_UP_FILES`)."""
    if not path.is_dir():
        return False
    entries = list(path.iterdir())
    return bool(entries) and all(
        e.name in SET_UP_FILES and e.is_file() and not e.is_symlink() for e in entries
    )


#: the topmost folder each run directory's creation made (the run's own, or an output.dir
#: made for it), removed with it when its set-up finds bad input
_MADE: dict[Path, Path] = {}


def _mkdir(path: Path, exist_ok: bool) -> None:
    note_new_dir(path, "config.yaml")  # whole once config.yaml is written
    top = path
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    if not path.exists():
        _MADE[path] = top
    try:
        path.mkdir(parents=True, exist_ok=exist_ok)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the run directory {str(path)!r} ({exc.strerror or exc}); "
            "choose a writable place with --out or output.dir"
        ) from None


@contextmanager
def discarded_on_bad_input(run_dir: Path, existed: bool) -> Iterator[None]:
    """Bad input found once the directory exists: remove what was written, then re-raise.

    Only used before anything is simulated, so nothing of value is lost and a corrected
    rerun finds the directory as it was (absent, or empty).
    """
    try:
        yield
    except SocialsimError:
        shutil.rmtree(_MADE.pop(run_dir, run_dir) if not existed else run_dir, ignore_errors=True)
        if existed:
            run_dir.mkdir(parents=True, exist_ok=True)
        raise


def run_plan(plan: RunOptions) -> Run:
    """One run of one seed in one arm: a new run directory, simulate, write the record,
    analyse once, report.

    A given ``graph`` or ``personas`` is recorded in ``edges.parquet`` and
    ``personas.parquet``; ``config.yaml`` says so in a comment at its top and the summary
    lists it under ``run.given``.
    """
    existed = plan.out is not None and plan.out.is_dir()
    run_dir = new_run_dir(plan.cfg, plan.out)
    return simulate_into(plan, run_dir, existed=existed)


def simulate_into(plan: RunOptions, run_dir: Path, existed: bool | None = None) -> Run:
    """Simulate the plan into an existing run directory; write its record, summary, report.

    `existed` (whether the directory was there before) lets bad input found while building
    the model remove what was written; None keeps the directory as it is on such an error.
    """
    from socialsim.simulation.model import SocialModel

    guard = nullcontext() if existed is None else discarded_on_bad_input(run_dir, existed)
    with guard:
        model = SocialModel(
            plan.cfg, run_dir, clients=plan.clients, graph=plan.graph, personas=plan.personas
        )
    (run_dir / "config.yaml").write_text(config_text(model), encoding="utf-8")
    return finish_run(model, run_dir, plan)


def finish_run(
    model: Any,
    run_dir: Path,
    plan: RunOptions,
    resumed: dict[str, Any] | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> Run:
    """Step `model` to its end, checkpointing as it goes, then write its record, summary and
    report into `run_dir`. A run stopped by an error keeps its checkpoint (and log) for
    ``socialsim run --resume``; `resumed` goes into the summary, and `checkpoint` is the one
    a resumed model was restored from. The plan gives ``on_step``, ``report`` and
    ``in_arms`` (a run that is one arm of an arms directory: its report points there)."""
    from socialsim.experiments.checkpoint import Checkpointer

    given = given_parts(model)
    checkpoints = Checkpointer(model, run_dir, checkpoint)
    started = time.perf_counter()
    on_step = plan.on_step

    def step_done(m: Any) -> None:
        checkpoints.after_step(m)
        if on_step is not None:
            on_step(m)

    try:
        model.run_model(on_step=step_done)
    except SocialsimError:
        model.close()
        write_record(model, run_dir)
        raise
    except BaseException:  # Ctrl-C, a user's on_step: the log as a kill would leave it
        model.log.release()
        raise
    model.close()
    data = write_record(model, run_dir)
    facts = {**model.scenario.summary(model), "measures": model.scenario.declared_measures()}
    summary = summarize_run(data, scenario=facts)
    if plan.in_arms:
        summary["run"]["in_arms"] = True
    if given:
        summary["run"]["given"] = given
    if resumed is not None:
        summary["run"]["resumed"] = resumed
    summary["run"]["wall_s"] = round(time.perf_counter() - started, 3)  # not part of the log
    write_summary(run_dir, summary)
    checkpoints.remove()
    write_tables(run_dir, data)
    data.summary = summary
    if plan.report if plan.report is not None else model.cfg.output.report:
        from socialsim.analysis.report import write_report

        write_report(run_dir, data=data, summary=summary)
    return Run(data, model.cfg, summary)


def given_parts(model) -> list[str]:
    """Which parts of the run were given from Python rather than made from the config."""
    return [
        part
        for part, source in (("network", model.network_source), ("personas", model.persona_source))
        if source == "given"
    ]


def config_text(model: Any) -> str:
    """The model's ``config.yaml``: its resolved config, headed by a comment for each part
    given from Python."""
    notes = {
        "network": "# network: given from Python; edges.parquet holds it (network.kind and "
        "network.params below did not make it)\n",
        "personas": "# personas: given from Python; personas.parquet holds them "
        "(population.personas below did not make them)\n",
    }
    return "".join(notes[part] for part in given_parts(model)) + model.cfg.to_yaml()


def write_record(model, run_dir: Path) -> RunData:
    """Write the record (agents and personas tables, steps, events tables, network) once.

    Returns it as the :class:`RunData` that ``load_run(run_dir)`` would read back (the
    same as ``model.record()``). The network is written as ``edges.parquet`` and, up to
    ``output.graphml_max_agents`` agents, as ``graph.graphml`` with every node attribute
    (the same data, for Gephi and other tools; above the cap the personas table carries
    the attributes).
    """
    cfg = model.cfg
    formats = set(cfg.output.formats)
    data = model.record()
    write_agents_table(data.credences, run_dir, formats)
    table = data.personas
    if "parquet" in formats:
        table.to_parquet(run_dir / "personas.parquet", index=False)
    if "csv" in formats or "parquet" not in formats:
        write_csv(table, run_dir / "personas.csv")
    write_csv(data.steps, run_dir / "steps.csv")
    events = data.events
    if "parquet" in formats:
        events.astype(
            {c: "string" for c in events.columns if events[c].dtype == object}
        ).to_parquet(run_dir / "events.parquet", index=False)
    if "csv" in formats:
        write_csv(events, run_dir / "events.csv")
    arrays = model.network
    edges = arrays.edges
    pd.DataFrame({"source": edges[:, 0], "target": edges[:, 1]}).to_parquet(
        run_dir / "edges.parquet", index=False
    )
    if model.n_agents <= cfg.output.graphml_max_agents:
        attrs = data.network.attributes
        write_graphml(run_dir / "graph.graphml", model.n_agents, edges, attrs, arrays.directed)
    return data


def write_agents_table(source: CredenceSource, run_dir: Path, formats: set[str]) -> None:
    """Write the agents table a recorded step at a time: a row group per step in
    ``agents.parquet`` (claims and population size in its metadata), and ``agents.csv``
    chunk after chunk; never the whole table in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if source.last_step() is None:  # nothing recorded: the empty table, as it always was
        empty = long_table(source)
        if "parquet" in formats:
            empty.to_parquet(run_dir / "agents.parquet", index=False)
        if "csv" in formats or "parquet" not in formats:
            write_csv(empty, run_dir / "agents.csv")
        return
    if "parquet" in formats:
        writer = None
        try:
            for chunk in source.chunks():
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                if writer is None:
                    meta = {**(table.schema.metadata or {})}
                    meta.update(parquet_metadata(source.claims, source.n_agents))
                    writer = pq.ParquetWriter(
                        run_dir / "agents.parquet", table.schema.with_metadata(meta)
                    )
                writer.write_table(table.replace_schema_metadata(writer.schema.metadata))
        finally:
            if writer is not None:
                writer.close()
    if "csv" in formats or "parquet" not in formats:
        write_csv_chunks(source.chunks(), run_dir / "agents.csv")


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV, formula cells neutralised (:func:`socialsim.core.csv_safe.write_csv`)."""
    safe_csv(table, path)
