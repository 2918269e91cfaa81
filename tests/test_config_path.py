"""The run config's path, followed at run time from `socialsim run` to the written outputs.

A profiler sees every call in socialsim that receives the config as an argument: the path or
dict given, the ``ExperimentConfig`` made from it and the ``RunPlan`` that carries it. The
calls one after another in one module are one stay. A climb is a stay in a higher layer than
the stay before it, in the layer order of ``tests/test_import_graph.py``. The config goes
down from the entry point, and comes back up only where a caller takes its next step.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

import socialsim as ss
from socialsim.experiments.plan import RunPlan
from socialsim.simulation.config import ExperimentConfig
from tests.cli_in_process import run_cli
from tests.test_import_graph import ALLOWED, layer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quickstart.yaml"
# The quickstart's scenario (misinformation, probes, the report) on a rule policy: no model.
SETS = ("agents.policy=independent_cascade", "control=false", "steps=6")
MAX_MODULES = 12
# Back up the layers: to the plan once the config is read, from the model into the
# scenario's hook, back to the runner to finish (the CLI sizes its progress bar from the plan).
MAX_CLIMBS = 3


def rank(module: str) -> int:
    """A module's height: the number of layers its layer may import (entry points on top)."""
    kind = layer(module)
    return len(ALLOWED[kind]) if kind in ALLOWED else len(ALLOWED) + 1


def stays(modules: list[str]) -> list[str]:
    """The modules in order, calls one after another in one module as one stay."""
    return [m for i, m in enumerate(modules) if i == 0 or modules[i - 1] != m]


def climbs(route: list[str]) -> int:
    """How many stays of `route` are in a higher layer than the stay before them."""
    return sum(rank(b) > rank(a) for a, b in zip(route, route[1:], strict=False))


def follow(entry: tuple[str, str, str], call) -> list[tuple[str, str]]:
    """(module, function) of every socialsim call, on any thread, while `call()` runs, that
    receives the config: the value of parameter ``entry[2]`` when function ``entry[1]`` of
    module ``entry[0]`` is called, or an ExperimentConfig or RunPlan made from it."""
    held: dict[int, object] = {}
    seen: list[tuple[str, str]] = []

    def profile(frame, event, arg):
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("socialsim"):
            return
        if event == "return" and isinstance(arg, ExperimentConfig | RunPlan):
            held.setdefault(id(arg), arg)
        elif event == "call":
            code = frame.f_code
            values = frame.f_locals
            if (module, code.co_name) == entry[:2]:
                held.setdefault(id(values[entry[2]]), values[entry[2]])
            names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
            if any(id(values.get(n)) in held for n in names):
                seen.append((module, code.co_name))
                made = values.get("self")  # a RunPlan made from it (dataclasses.replace)
                if isinstance(made, ExperimentConfig | RunPlan):
                    held.setdefault(id(made), made)

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    return seen


def test_a_route_that_goes_down_and_back_counts_its_climbs():
    route = stays(
        [
            "socialsim.cli",
            "socialsim.experiments.plan",
            "socialsim.simulation.config",
            "socialsim.simulation.config",
            "socialsim.core.yaml_safe",
            "socialsim.simulation.config",  # back up from core: a climb
            "socialsim.experiments.runner",  # back up to the orchestration: a climb
            "socialsim.simulation.model",
            "socialsim.scenarios.norms.scenario",  # a scenario hook: a climb
            "socialsim.simulation.model",
        ]
    )
    assert len(route) == 9 and climbs(route) == 3
    assert (
        rank("socialsim.cli")
        > rank("socialsim.experiments.runner")
        > rank("socialsim.scenarios.norms")
        > rank("socialsim.simulation.model")
        > rank("socialsim.agents.memory")
    )
    assert rank("socialsim.core.network") == 1 and climbs(["socialsim.core.x"]) == 0


@pytest.fixture
def cli_route(tmp_path):
    out = tmp_path / "run"
    args = ["run", str(EXAMPLE), "--out", str(out), "-q", "--no-report"]
    for value in SETS:
        args += ["--set", value]
    done: list = []
    calls = follow(("socialsim.cli", "run_cmd", "config"), lambda: done.append(run_cli(*args)))
    assert done[0].code == 0, done[0].err
    return calls, out


def test_socialsim_run_takes_the_config_down_once(cli_route):
    calls, out = cli_route
    route = stays([m for m, _ in calls])
    assert route[0] == "socialsim.cli" and ("socialsim.cli", "run_cmd") in calls
    assert len(set(route)) <= MAX_MODULES, route
    assert climbs(route) <= MAX_CLIMBS, route
    made = [f for m, f in calls if m == "socialsim.simulation.config" and f == "from_yaml"]
    assert made == ["from_yaml"]  # read and validated once, then handed on
    assert ("socialsim.simulation.config", "to_yaml") in calls  # it reaches config.yaml
    assert (out / "config.yaml").is_file() and (out / "summary.json").is_file()


def test_the_python_api_takes_the_same_route_below_its_entry(tmp_path):
    calls = follow(
        ("socialsim", "run", "config"),
        lambda: ss.run(str(EXAMPLE), out=tmp_path / "api", overrides=list(SETS)),
    )
    route = stays([m for m, _ in calls])
    assert route[:2] == ["socialsim", "socialsim.experiments.plan"], route
    assert len(set(route)) <= MAX_MODULES, route
    assert climbs(route) <= MAX_CLIMBS, route
    assert ("socialsim.experiments.runner", "finish_run") in calls
    assert (tmp_path / "api" / "config.yaml").is_file()


def test_each_arm_takes_the_route_of_one_run(tmp_path):
    one = follow(
        ("socialsim", "run", "config"),
        lambda: ss.run(str(EXAMPLE), out=tmp_path / "one", overrides=list(SETS)),
    )
    arms = follow(
        ("socialsim", "run", "config"),
        lambda: ss.run(str(EXAMPLE), out=tmp_path / "arms", overrides=[*SETS, "control=true"]),
    )
    below = [m for m, f in one if m != "socialsim"]
    once = stays(below[below.index("socialsim.experiments.runner") :])
    route = stays([m for m, _ in arms])
    assert len(set(route)) <= MAX_MODULES + 1, route  # and experiments.arms
    # up to the plan once the config is read, and to the arms once their directory is set up;
    # then in each of the 2 arms: up to its plan, made from the config, and one run's route
    assert climbs(once) == MAX_CLIMBS - 1
    assert climbs(route) <= 2 + 2 * (1 + climbs(once)), route
