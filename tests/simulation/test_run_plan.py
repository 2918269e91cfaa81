"""One run plan: any config form coerced once, one function runs it; executors behind one protocol."""

from __future__ import annotations

import dataclasses

import networkx as nx
import pytest

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.experiments.plan import RunPlan, execute, plan_run
from socialsim.experiments.sweep_cell import Cell
from socialsim.experiments.sweep_executor import SerialExecutor, make_executor
from socialsim.simulation.config import ExperimentConfig
from tests.cli_in_process import run_cli
from tests.test_import_graph import import_graph

RULE = {
    "name": "p",
    "seed": 3,
    "steps": 3,
    "population": {"size": 12},
    "agents": {"policy": "degroot"},
    "claims": [{"id": "c1", "text": "The river is poisoned."}],
}


def rule(tmp_path, **extra) -> dict:
    return {**RULE, "output": {"dir": str(tmp_path / "runs"), "report": False}, **extra}


def test_every_config_form_becomes_the_same_plan(tmp_path):
    data = rule(tmp_path)
    path = tmp_path / "c.yaml"
    path.write_text(ExperimentConfig.from_dict(data).to_yaml())
    forms = [
        plan_run(data, ["steps=5"]),
        plan_run(data, {"steps": 5}),
        plan_run(str(path), ["steps=5"]),
        plan_run(path, {"steps": 5}),
        plan_run(ExperimentConfig.from_dict(data), {"steps": 5}),
        plan_run({**data, "steps": 5}),
    ]
    dumps = [p.cfg.model_dump() for p in forms]
    assert all(d == dumps[0] for d in dumps) and dumps[0]["steps"] == 5
    with pytest.raises(ConfigError, match="config: expected an ExperimentConfig, a dict or a YAML"):
        plan_run(42)
    with pytest.raises(dataclasses.FrozenInstanceError):
        forms[0].out = tmp_path  # type: ignore[misc]


def test_an_arm_plan_is_one_seed_in_one_arm(tmp_path):
    plan = plan_run(rule(tmp_path), {"replicates": 3}, report=True)
    one = plan.arm(5, "control", tmp_path / "control" / "s5")
    assert plan.is_arms and not one.is_arms and one.in_arms and one.report is True
    assert (one.cfg.seed, one.cfg.scenario.arm, one.cfg.replicates) == (5, "control", 1)
    assert one.out == tmp_path / "control" / "s5"


def test_execute_gives_what_ss_run_gives(tmp_path):
    graph = nx.cycle_graph(9)
    by_plan = execute(plan_run(rule(tmp_path), out=tmp_path / "a", graph=graph))
    by_api = ss.run(rule(tmp_path), out=tmp_path / "b", graph=graph)
    assert isinstance(by_plan, type(by_api)) and by_plan.cfg == by_api.cfg
    assert (tmp_path / "a" / "events.jsonl").read_bytes() == (
        tmp_path / "b" / "events.jsonl"
    ).read_bytes()
    assert by_plan.summary["run"]["given"] == ["network"]


def test_socialsim_run_validates_its_config_once_per_run(tmp_path, monkeypatch):
    validated: list[str] = []
    original = ExperimentConfig.from_dict.__func__

    def counted(cls, data, *args, **kwargs):
        validated.append(kwargs.get("source", "config"))
        return original(cls, data, *args, **kwargs)

    monkeypatch.setattr(ExperimentConfig, "from_dict", classmethod(counted))
    path = tmp_path / "c.yaml"
    path.write_text(ExperimentConfig.from_dict(rule(tmp_path)).to_yaml())
    validated.clear()
    done = run_cli("run", str(path), "--out", str(tmp_path / "r"), "-q")
    assert done.code == 0, done.err
    assert len(validated) == 1  # the CLI's plan; the model and the runner reuse it
    validated.clear()
    done = run_cli("run", str(path), "--out", str(tmp_path / "arms"), "--replicates", "2", "-q")
    assert done.code == 0, done.err
    assert len(validated) == 1 + 2  # the plan, then each seed's arm


def test_the_serial_executor_runs_cells_as_the_protocol_says(tmp_path):
    base = ExperimentConfig.from_dict(rule(tmp_path)).model_dump(mode="json")
    cells = [Cell(i, {"seed": s}, str(tmp_path / f"cell{i}")) for i, s in enumerate((1, 2))]
    executor = make_executor("serial", base, str(tmp_path))
    assert isinstance(executor, SerialExecutor)
    rows = dict(executor.map(cells))
    assert [rows[i]["status"] for i in (0, 1)] == ["ok", "ok"]
    assert [rows[i]["seed"] for i in (0, 1)] == [1, 2]
    assert (tmp_path / "cell1" / "cell.json").is_file()
    with pytest.raises(ConfigError, match="--address joins a Ray cluster"):
        make_executor("processes", base, str(tmp_path), address="auto")


def test_arms_and_the_executors_sit_under_what_uses_them():
    graph = import_graph()
    experiments = graph.subgraph(n for n in graph if n.startswith("socialsim.experiments"))
    cycles = list(__import__("networkx").simple_cycles(experiments))
    assert cycles == []
    assert not graph.has_edge("socialsim.experiments.runner", "socialsim.experiments.arms")
    for module in ("sweep_cell", "sweep_executor", "sweep_workers", "sweep_ray"):
        assert not graph.has_edge(f"socialsim.experiments.{module}", "socialsim.experiments.sweep")


def test_run_plan_fields_cover_what_a_run_needs():
    names = {f.name for f in dataclasses.fields(RunPlan)}
    assert names >= {"cfg", "out", "report", "on_step", "clients", "graph", "personas", "in_arms"}
