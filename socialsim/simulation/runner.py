"""Run one experiment end to end and write its run directory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialsim.agents.sampling import SampledPersonas
from socialsim.analysis.io import RunData, node_attributes, read_events_table
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
):
    """Run an experiment and write its run directory; return its :class:`Run`.

    With ``replicates > 1`` or ``control: true`` the config becomes arms (treatment and
    control over the same seeds) and an :class:`~socialsim.simulation.arms.Arms` is returned.
    """
    cfg = resolve_config(config, overrides)
    if cfg.replicates > 1 or cfg.control:
        from socialsim.simulation.arms import run_arms

        return run_arms(cfg, out=out, on_step=on_step, report=report, clients=clients)
    return run_one(cfg, out=out, on_step=on_step, report=report, clients=clients)


def run_one(
    cfg: ExperimentConfig,
    out: str | os.PathLike | None = None,
    on_step: Callable[[Any], None] | None = None,
    report: bool | None = None,
    clients: dict | None = None,
    in_arms: bool = False,
) -> Run:
    """One run of one seed in one arm: simulate, write the record, analyse once, report.

    `in_arms` marks a run that is one arm of an arms directory (its report points there).
    """
    from socialsim.simulation.clock import run_event_mode
    from socialsim.simulation.model import SocialModel

    run_dir = new_run_dir(cfg, out)
    (run_dir / "config.yaml").write_text(cfg.to_yaml(), encoding="utf-8")
    model = SocialModel(cfg, run_dir, clients=clients)
    try:
        if cfg.mode == "event":
            run_event_mode(model, on_window=on_step)
        else:
            for _ in range(cfg.steps):
                if not model.running:
                    break
                model.step()
                if on_step is not None:
                    on_step(model)
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
    write_summary(run_dir, summary)
    write_tables(run_dir, data)
    data.summary = summary
    if report if report is not None else cfg.output.report:
        from socialsim.analysis.report import write_report

        write_report(run_dir, data=data, summary=summary)
    return Run(data, cfg, summary)


def write_record(model, run_dir: Path) -> RunData:
    """Write the record (agents and personas tables, steps, events tables, network) once.

    Returns it as the :class:`RunData` that ``load_run(run_dir)`` would read back. The
    network is written as ``edges.parquet`` and, up to ``output.graphml_max_agents``
    agents, as ``graph.graphml`` with every node attribute (the same data, for Gephi and
    other tools; above the cap the personas table carries the attributes).
    """
    from socialsim.analysis.network import GraphArrays

    cfg = model.cfg
    formats = set(cfg.output.formats)
    agents = model.agents_table()
    personas = personas_table(model)
    for name, table in (("agents", agents), ("personas", personas)):
        if "parquet" in formats:
            table.to_parquet(run_dir / f"{name}.parquet", index=False)
        if "csv" in formats or "parquet" not in formats:
            write_csv(table, run_dir / f"{name}.csv")
    steps = model.datacollector.get_model_vars_dataframe().reset_index(names="step")
    steps["step"] = [s for s, _, _ in model._snapshots][: len(steps)]
    steps.to_csv(run_dir / "steps.csv", index=False)
    events = read_events_table(run_dir / "events.jsonl")
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
    attrs = node_attributes(personas, agents)
    if model.n_agents <= cfg.output.graphml_max_agents:
        write_graphml(run_dir / "graph.graphml", model.n_agents, edges, attrs, arrays.directed)
    network = GraphArrays(
        model.n_agents, edges[:, 0], edges[:, 1], arrays.directed, attributes=attrs
    )
    return RunData(
        path=run_dir,
        events=events,
        agents=agents,
        steps=steps,
        personas=personas,
        config=cfg.model_dump(mode="json"),
        network=network,
    )


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


PERSONA_SCALARS = (
    "name", "age", "gender", "country", "occupation", "education", "political_leaning",
    "communication_style", "credulity", "stubbornness", "activity_rate", "model", "role",
)  # fmt: skip
TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


def personas_table(model) -> pd.DataFrame:
    """One row per agent: its persona's scalar fields and traits, policy and scenario role.

    Sampled populations are read column by column (no persona objects); agents whose
    persona changed during the run (a scenario role, a per-agent model) are read from it.
    """
    n = model.n_agents
    store = model.personas
    columns: dict[str, Any] = {"agent": np.arange(n)}
    if isinstance(store, SampledPersonas):
        for key in PERSONA_SCALARS:
            try:
                columns[key] = store.column(key)
            except KeyError:
                columns[key] = [getattr(store.get(0), key)] * n if n else []
        for trait in TRAITS:
            columns[f"big_five.{trait}"] = store.column(f"big_five.{trait}")
        for key in ("values", "interests"):
            codes, table = store.coded(key)
            columns[key] = np.asarray([";".join(t) for t in table], dtype=object)[codes]
        frame = pd.DataFrame(columns)
        changed = [i for i in range(n) if model._by_id[i] is not None]
    else:
        frame = pd.DataFrame(columns)
        changed = list(range(n))
    rows = []
    for i in changed:
        p = model.persona_of(i)
        row = {key: getattr(p, key) for key in PERSONA_SCALARS}
        row.update({f"big_five.{t}": getattr(p.big_five, t) for t in TRAITS})
        row.update({k: ";".join(getattr(p, k)) for k in ("values", "interests")})
        rows.append(row)
    if rows:
        update = pd.DataFrame(rows, index=changed)
        for col in update.columns:
            if col not in frame or frame[col].dtype != update[col].dtype:
                frame[col] = frame[col].astype(object) if col in frame else None
            frame.loc[changed, col] = update[col].to_numpy()
    frame["policy"] = [model.groups[int(g)].name for g in model.policy_of]
    community = model.network_arrays.attributes.get("community")
    if community is not None:
        frame["community"] = pd.array(community, dtype="Int64")
    frame["scenario_role"] = [model.roles.get(i) for i in range(n)]
    frame["present"] = model.present.copy()
    return frame
