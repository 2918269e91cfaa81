"""Run one experiment end to end and write its run directory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from socialsim.analysis.io import RunData
from socialsim.analysis.summarize import summarize_run, write_summary, write_tables
from socialsim.errors import ConfigError, SocialsimError
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.graphml import write_graphml


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


def resolve_config(
    config: ExperimentConfig | str | os.PathLike, overrides=None
) -> ExperimentConfig:
    """A config object from a path or object, with `--set` style overrides applied."""
    if isinstance(config, ExperimentConfig):
        return config.with_overrides(overrides) if overrides else config
    return ExperimentConfig.from_yaml(config, overrides=list(overrides or []))


def new_run_dir(
    cfg: ExperimentConfig,
    out: str | os.PathLike | None,
    suffix: str = "",
    holds: tuple[str, ...] = ("events.jsonl",),
) -> Path:
    """A fresh directory for the run (``output.dir/NAME-sSEED{suffix}``, numbered when taken).

    An `out` that already holds one of `holds` (a run's files) is refused, never reused.
    """
    if out is not None:
        path = Path(out)
        if any((path / name).exists() for name in holds):
            raise ConfigError(
                f"--out {str(path)!r} already holds a run; choose another directory or remove it"
            )
        path.mkdir(parents=True, exist_ok=True)
        return path
    root = Path(cfg.output.dir)
    base = root / f"{cfg.name}-s{cfg.seed}{suffix}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = root / f"{base.name}-{k}"
    path.mkdir(parents=True)
    return path


def run(
    config: ExperimentConfig | str | os.PathLike,
    out: str | os.PathLike | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
    on_step: Callable[[Any], None] | None = None,
    report: bool | None = None,
    clients: dict | None = None,
    graph: Any = None,
    personas: Any = None,
):
    """Run an experiment and write its run directory; return its :class:`Run`.

    ``graph`` (a networkx graph) and ``personas`` (a DataFrame or a list) replace the
    config's network and personas (see :class:`~socialsim.simulation.model.SocialModel`).
    With ``replicates > 1`` or ``control: true`` the config becomes arms (treatment and
    control over the same seeds) and an :class:`~socialsim.simulation.arms.Arms` is returned.
    """
    cfg = resolve_config(config, overrides)
    given = {"graph": graph, "personas": personas}
    if cfg.replicates > 1 or cfg.control:
        from socialsim.simulation.arms import run_arms

        return run_arms(cfg, out=out, on_step=on_step, report=report, clients=clients, **given)
    return run_one(cfg, out=out, on_step=on_step, report=report, clients=clients, **given)


def run_one(
    cfg: ExperimentConfig,
    out: str | os.PathLike | None = None,
    on_step: Callable[[Any], None] | None = None,
    report: bool | None = None,
    clients: dict | None = None,
    in_arms: bool = False,
    graph: Any = None,
    personas: Any = None,
) -> Run:
    """One run of one seed in one arm: simulate, write the record, analyse once, report.

    `in_arms` marks a run that is one arm of an arms directory (its report points there).
    A given ``graph`` or ``personas`` is recorded in ``edges.parquet`` and
    ``personas.parquet``; ``config.yaml`` says so in a comment at its top and the summary
    lists it under ``run.given``.
    """
    from socialsim.simulation.model import SocialModel

    run_dir = new_run_dir(cfg, out)
    model = SocialModel(cfg, run_dir, clients=clients, graph=graph, personas=personas)
    cfg = model.cfg
    given = given_parts(model)
    (run_dir / "config.yaml").write_text(config_text(cfg, given), encoding="utf-8")
    try:
        model.run_model(on_step=on_step)
    except SocialsimError:
        model.close()
        write_record(model, run_dir)
        raise
    model.close()
    data = write_record(model, run_dir)
    facts = {**model.scenario.summary(model), "measures": model.scenario.declared_measures()}
    summary = summarize_run(data, scenario=facts)
    if in_arms:
        summary["run"]["in_arms"] = True
    if given:
        summary["run"]["given"] = given
    write_summary(run_dir, summary)
    write_tables(run_dir, data)
    data.summary = summary
    if report if report is not None else cfg.output.report:
        from socialsim.analysis.report import write_report

        write_report(run_dir, data=data, summary=summary)
    return Run(data, cfg, summary)


def given_parts(model) -> list[str]:
    """Which parts of the run were given from Python rather than made from the config."""
    return [
        part
        for part, source in (("network", model.network_source), ("personas", model.persona_source))
        if source == "given"
    ]


def config_text(cfg: ExperimentConfig, given: list[str]) -> str:
    """``config.yaml``: the resolved config, headed by a comment for each part given."""
    notes = {
        "network": "# network: given from Python; edges.parquet holds it (network.kind and "
        "network.params below did not make it)\n",
        "personas": "# personas: given from Python; personas.parquet holds them "
        "(population.personas below did not make them)\n",
    }
    return "".join(notes[part] for part in given) + cfg.to_yaml()


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
    for name, table in (("agents", data.agents), ("personas", data.personas)):
        if "parquet" in formats:
            table.to_parquet(run_dir / f"{name}.parquet", index=False)
        if "csv" in formats or "parquet" not in formats:
            write_csv(table, run_dir / f"{name}.csv")
    data.steps.to_csv(run_dir / "steps.csv", index=False)
    events = data.events
    if "parquet" in formats:
        events.astype(
            {c: "string" for c in events.columns if events[c].dtype == object}
        ).to_parquet(run_dir / "events.parquet", index=False)
    if "csv" in formats:
        events.to_csv(run_dir / "events.csv", index=False)
    arrays = model.network_arrays
    edges = arrays.edges
    pd.DataFrame({"source": edges[:, 0], "target": edges[:, 1]}).to_parquet(
        run_dir / "edges.parquet", index=False
    )
    if model.n_agents <= cfg.output.graphml_max_agents:
        attrs = data.network.attributes
        write_graphml(run_dir / "graph.graphml", model.n_agents, edges, attrs, arrays.directed)
    return data


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV through Arrow (ten times pandas' speed on millions of rows).

    Arrow quotes every string and writes booleans as ``true``/``false``; pandas and any CSV
    reader read it back the same. Tables Arrow cannot type fall back to pandas.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        pacsv.write_csv(pa.Table.from_pandas(table, preserve_index=False), path)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        table.to_csv(path, index=False)
