"""Run one experiment end to end and write its run directory."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from socialsim.errors import ConfigError, SocialsimError
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.log import flatten_events, read_events


@dataclass
class Run:
    """A finished run: its directory, config, summary, and lazily loaded tables."""

    dir: Path
    config: ExperimentConfig
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def paths(self) -> dict[str, Path]:
        """The files of the run directory that exist."""
        return {p.name: p for p in sorted(self.dir.iterdir()) if p.is_file()}

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log (payload as dicts)."""
        return read_events(self.dir / "events.jsonl")

    @cached_property
    def agents(self) -> pd.DataFrame:
        """Long table: step, agent, claim, credence."""
        if (self.dir / "agents.parquet").exists():
            return pd.read_parquet(self.dir / "agents.parquet")
        return pd.read_csv(self.dir / "agents.csv")

    @cached_property
    def steps(self) -> pd.DataFrame:
        """One row per step of model-level measures."""
        return pd.read_csv(self.dir / "steps.csv")


def resolve_config(
    config: ExperimentConfig | str | os.PathLike, overrides=None
) -> ExperimentConfig:
    """A config object from a path or object, with `--set` style overrides applied."""
    if isinstance(config, ExperimentConfig):
        return config.with_overrides(overrides) if overrides else config
    return ExperimentConfig.from_yaml(config, overrides=list(overrides or []))


def new_run_dir(cfg: ExperimentConfig, out: str | os.PathLike | None) -> Path:
    """A fresh directory for the run; never reuses one that already holds a run."""
    if out is not None:
        path = Path(out)
        if (path / "events.jsonl").exists():
            raise ConfigError(
                f"--out {str(path)!r} already holds a run; choose another directory or remove it"
            )
        path.mkdir(parents=True, exist_ok=True)
        return path
    root = Path(cfg.output.dir)
    base = root / f"{cfg.name}-s{cfg.seed}"
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
) -> Run:
    """Run an experiment; write config, events, tables, graph, summary and report."""
    from socialsim.simulation.clock import run_event_mode
    from socialsim.simulation.model import SocialModel

    cfg = resolve_config(config, overrides)
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
        _write_tables(model, run_dir)
        raise
    model.close()
    _write_tables(model, run_dir)
    summary = _summarize(model, run_dir)
    if report if report is not None else cfg.output.report:
        from socialsim.analysis.report import write_report

        write_report(run_dir)
    return Run(dir=run_dir, config=cfg, summary=summary)


def _write_tables(model, run_dir: Path) -> None:
    formats = set(model.cfg.output.formats)
    agents = model.agents_table()
    if "parquet" in formats:
        agents.to_parquet(run_dir / "agents.parquet", index=False)
    if "csv" in formats or "parquet" not in formats:
        agents.to_csv(run_dir / "agents.csv", index=False)
    steps = model.datacollector.get_model_vars_dataframe().reset_index(names="step")
    steps["step"] = [s for s, _, _ in model._snapshots][: len(steps)]
    steps.to_csv(run_dir / "steps.csv", index=False)
    if formats & {"parquet", "csv"}:
        flat = flatten_events(read_events(run_dir / "events.jsonl"))
        if "parquet" in formats:
            flat.astype({c: "string" for c in flat.columns if flat[c].dtype == object}).to_parquet(
                run_dir / "events.parquet", index=False
            )
        if "csv" in formats:
            flat.to_csv(run_dir / "events.csv", index=False)
    nx.write_graphml(graph_with_attributes(model), run_dir / "graph.graphml")


def graph_with_attributes(model) -> nx.Graph:
    """The network with personas, policy, role and final credences as node attributes."""
    graph = nx.DiGraph() if model.graph.is_directed() else nx.Graph()
    graph.add_nodes_from(range(model.n_agents))
    graph.add_edges_from(model.graph.edges())
    claim_ids = [c.id for c in model.beliefs.claims]
    community = nx.get_node_attributes(model.graph, "community")
    for i in range(model.n_agents):
        group = model.groups[int(model.policy_of[i])]
        attrs: dict[str, Any] = {"policy": group.name, "present": bool(model.present[i])}
        for key, value in model.persona_of(i).model_dump().items():
            if key == "big_five":
                attrs.update({f"big_five.{k}": float(v) for k, v in value.items()})
            elif isinstance(value, list):
                attrs[key] = ";".join(map(str, value))
            elif value is not None:
                attrs[key] = value
        for col, cid in enumerate(claim_ids):
            attrs[f"credence.{cid}"] = float(model.beliefs.credence[i, col])
        if i in community:
            attrs["community"] = int(community[i])
        graph.nodes[i].update(attrs)
    return graph


def _summarize(model, run_dir: Path) -> dict[str, Any]:
    claims = {}
    first = model._snapshots[0][2]
    last = model._snapshots[-1][2]
    present = model.present
    for col, claim in enumerate(model.beliefs.claims):
        init_col = first[:, col] if col < first.shape[1] else last[:, col]
        claims[claim.id] = {
            "text": claim.text,
            "believers_initial": float((init_col >= 0.5).mean()),
            "believers_final": float((last[present, col] >= 0.5).mean()) if present.any() else 0.0,
            "mean_credence_initial": float(init_col.mean()),
            "mean_credence_final": float(last[present, col].mean()) if present.any() else 0.0,
        }
    summary: dict[str, Any] = {
        "run": model.run_id,
        "name": model.cfg.name,
        "seed": model.cfg.seed,
        "mode": model.cfg.mode,
        "steps_run": model.step_index,
        "agents": model.n_agents,
        "present_final": int(present.sum()),
        "events": dict(model.log.counts),
        "llm": dict(model.llm_totals),
        "claims": claims,
        "scenario": {"kind": model.cfg.scenario.kind, **model.scenario.summary(model)},
    }
    try:
        from socialsim.analysis.summarize import analyze_dir
    except ImportError:
        analyze_dir = None
    (run_dir / "summary.json").write_text(
        json.dumps(summary, indent=2, default=str), encoding="utf-8"
    )
    if analyze_dir is not None:
        analysis = analyze_dir(run_dir)
        summary["analysis"] = analysis
        (run_dir / "summary.json").write_text(
            json.dumps(summary, indent=2, default=str), encoding="utf-8"
        )
    return summary
