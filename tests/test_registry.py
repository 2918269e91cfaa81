"""Registries: a user's policy, network, scenario and measure are as first-class as built-ins."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict, Field

import socialsim as ss
from socialsim.core.errors import ConfigError
from socialsim.core.registry import MEASURES, NETWORKS, POLICIES, SCENARIOS, listing
from tests.cli_in_process import run_cli


class Halfway(ss.Rule):
    """Every acting agent moves halfway to the mean of its neighbours (DeGroot with weight w)."""

    class Params(ss.RuleParams):
        weight: float = Field(0.5, ge=0.0, le=1.0)

    def update(self, ctx: ss.RuleContext) -> ss.RuleUpdate:
        g = self.graph(ctx)
        x = ctx.credence
        mean = g.row_sum(x[g.indices]) / np.maximum(g.listen_degree, 1)[:, None]
        agents = np.flatnonzero(self.acting(ctx) & (g.listen_degree > 0))
        new = (1 - self.cfg.weight) * x[agents] + self.cfg.weight * mean[agents]
        rows, cols = np.nonzero(np.abs(new - x[agents]) > 1e-12)
        return ss.RuleUpdate(agents[rows], cols, new[rows, cols], np.full(len(rows), -1))


class StarParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hub: int = Field(0, ge=0)


def star(n: int, params: StarParams, seed: int) -> nx.Graph:
    """A star around `hub`."""
    return nx.relabel_nodes(nx.star_graph(n - 1), {0: params.hub, params.hub: 0})


def bad_ids(n: int, params, seed: int) -> np.ndarray:
    """Returns a node id past the last agent (an error)."""
    return np.array([[0, n]])


class Boost(ss.Scenario):
    """Sets agent 0's credence to `value` at setup."""

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        value: float = Field(1.0, ge=0.0, le=1.0)

    def setup(self, model) -> None:
        model.set_credence(0, model.beliefs.claims[0].id, self.params.value, cause="injection")
        model.pin(0)


class CountParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    above: float = Field(0.5, ge=0.0, le=1.0)


def count_above(run, params: CountParams) -> dict[str, int]:
    """Agents whose final credence exceeds `above`, per claim."""
    last = run.agents[run.agents["step"] == run.agents["step"].max()]
    return {
        str(c): int((rows["credence"] > params.above).sum()) for c, rows in last.groupby("claim")
    }


@pytest.fixture(autouse=True, scope="module")
def registered():
    """Register this module's entries for its tests only (other tests see the built-ins)."""
    ss.register_policy("test_halfway")(Halfway)
    ss.register_network("test_star", params=StarParams)(star)
    ss.register_network("test_bad_ids")(bad_ids)
    ss.register_scenario("test_boost")(Boost)
    ss.register_measure("test_count_above", params=CountParams)(count_above)
    yield
    for registry, name in (
        (POLICIES, "test_halfway"), (NETWORKS, "test_star"), (NETWORKS, "test_bad_ids"),
        (SCENARIOS, "test_boost"), (MEASURES, "test_count_above"), (POLICIES, "test_terse_llm"),
    ):  # fmt: skip
        registry.remove(name)


def cfg(**extra) -> ss.ExperimentConfig:
    data = {
        "name": "reg",
        "seed": 2,
        "steps": 3,
        "population": {"size": 12},
        "network": {"kind": "test_star"},
        "agents": {"policy": "test_halfway", "params": {"weight": 0.5, "initial": 0.0}},
        "scenario": {"kind": "test_boost"},
        "claims": [{"id": "c1", "text": "The bridge opens in May."}],
        "output": {"formats": ["jsonl"], "report": False},
    }
    for key, value in extra.items():
        data[key] = value
    return ss.ExperimentConfig.from_dict(data)


def test_registered_things_are_listed_beside_builtins():
    assert {"test_halfway", "degroot", "llm"} <= set(POLICIES.names())
    assert {"test_star", "watts_strogatz"} <= set(NETWORKS.names())
    assert {"test_boost", "misinformation"} <= set(SCENARIOS.names())
    assert {"test_count_above", "claims", "network"} <= set(MEASURES.names())
    policies = {e["name"]: e for e in listing()["policies"]}
    assert policies["test_halfway"]["sort"] == "rule" and policies["llm"]["sort"] == "deciding"
    assert policies["test_halfway"]["params"]["weight"]["default"] == 0.5


def test_user_policy_network_scenario_and_measure_run_and_compute_by_hand(tmp_path):
    run = ss.run(cfg(), out=tmp_path / "r")
    agents = run.agents.pivot(index="step", columns="agent", values="credence")
    # star around hub 0, hub pinned at 1: each leaf moves halfway to 1 every step
    assert np.allclose(agents.loc[0, 0], 1.0) and np.allclose(agents.loc[0, 1:], 0.0)
    for step in (1, 2, 3):
        assert np.allclose(agents.loc[step, 1:], 1 - 0.5**step)
    assert run.summary["measures"]["test_count_above"] == {"c1": 12}
    assert run.summary["scenario"]["kind"] == "test_boost"


def test_measure_params_come_from_the_config(tmp_path):
    run = ss.run(
        cfg(analysis={"measures": {"test_count_above": {"above": 0.9}}}), out=tmp_path / "r"
    )
    assert run.summary["measures"]["test_count_above"] == {"c1": 1}  # leaves are at 0.875


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"agents.params.weight": 2}, "agents.params.weight: 2 must be <= 1"),
        ({"agents.params.epsilon": 0.1}, "agents.params.epsilon: unknown parameter of policy test_halfway; allowed: initial, seed_fraction, weight"),
        ({"agents.policy": "nope"}, "agents.policy: 'nope' is not one of "),
        ({"network.params": {"hub": -1}}, "network.params.hub: -1 must be >= 0"),
        ({"network.kind": "nope"}, "(register your own with socialsim.register_network)"),
        ({"scenario.params.value": "high"}, "scenario.params.value: 'high' must be a number"),
        ({"scenario.params.other": 1}, "scenario.params.other: unknown parameter of scenario test_boost"),
        ({"analysis.measures": {"test_count_above": {"above": -1}}}, "analysis.measures.test_count_above.above: -1 must be >= 0"),
        ({"analysis.measures": {"nope": {}}}, "analysis.measures.nope: 'nope' is not one of"),
        ({"agents.mix": [{"fraction": 0.5, "policy": "test_halfway", "params": {"weight": -1}}]}, "agents.mix[0].params.weight: -1 must be >= 0"),
    ],
)  # fmt: skip
def test_bad_values_of_registered_things_fail_at_load_with_one_line(override, message):
    with pytest.raises(ConfigError) as info:
        cfg().with_overrides(override)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_switching_policy_keeps_prompt_settings_apart():
    llm = ss.ExperimentConfig.from_dict(
        {"agents": {"policy": "llm", "prompt": {"persona": "brief"}, "params": {"initial": 0.3}}}
    )
    rule = llm.with_overrides(["agents.policy=voter"])
    assert rule.agents.policy == "voter" and rule.agents.prompt.persona == "brief"
    legacy = ss.ExperimentConfig.from_dict({"agents": {"params": {"persona": "brief"}}})
    assert legacy.agents.params == {} and legacy.agents.prompt.persona == "brief"
    assert legacy.with_overrides(["agents.policy=degroot"]).agents.params == {}


def test_a_generator_with_bad_node_ids_is_named(tmp_path):
    bad = cfg(network={"kind": "test_bad_ids"})
    with pytest.raises(ConfigError, match="test_bad_ids.*outside 0..11"):
        ss.run(bad, out=tmp_path / "r")


PLUGIN = '''
import numpy as np
import socialsim as ss

@ss.register_network("plugin_path")
def path(n, params, seed):
    """A path graph."""
    return np.column_stack([np.arange(n - 1), np.arange(1, n)])
'''

CONFIG = """
name: plugged
plugins: [my_plugin.py]
steps: 2
population: {size: 6}
network: {kind: plugin_path}
agents: {policy: degroot}
claims: [{id: c1, text: The river is poisoned.}]
output: {formats: [jsonl], report: false}
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    code = "import sys; from socialsim.cli import main; sys.argv = ['socialsim', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_plugins_from_yaml_work_in_the_cli_and_in_sweep_workers(tmp_path):
    (tmp_path / "my_plugin.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "plugged.yaml").write_text(CONFIG)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli("run", str(tmp_path / "plugged.yaml"), "--out", "r", "-q", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    saved = (elsewhere / "r" / "config.yaml").read_text()
    assert str(tmp_path / "my_plugin.py") in saved  # resolved, so the record runs again
    edges = __import__("pandas").read_parquet(elsewhere / "r" / "edges.parquet")
    assert len(edges) == 5
    swept = cli(
        "sweep", str(tmp_path / "plugged.yaml"), "--out", "s", "--executor", "processes",
        "--workers", "2", "--set", "sweep.seed=[1,2]", "-q", cwd=elsewhere,
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    results = __import__("pandas").read_csv(elsewhere / "s" / "results.csv")
    assert list(results["status"]) == ["ok", "ok"] and (results["network.n_edges"] == 5).all()
    listed = cli("list", "networks", "--plugin", "my_plugin.py", cwd=tmp_path)
    assert "plugin_path" in listed.stdout


def test_missing_plugin_and_bad_name_are_one_line_exit_2(tmp_path):
    (tmp_path / "c.yaml").write_text("plugins: [nowhere.py]\n")
    done = run_cli("run", str(tmp_path / "c.yaml"), cwd=tmp_path)
    assert done.code == 2 and "plugins: 'nowhere.py' does not exist" in done.err
    assert "Traceback" not in done.err and len(done.err_lines) == 1
    (tmp_path / "d.yaml").write_text("plugins: [no_such_module_xyz]\n")
    done = run_cli("run", str(tmp_path / "d.yaml"), cwd=tmp_path)
    assert done.code == 2 and "no_such_module_xyz" in done.err and len(done.err_lines) == 1


def test_register_rejects_bad_names_and_params():
    with pytest.raises(ConfigError, match="letters, digits and underscores"):
        ss.register_network("bad name")(star)
    with pytest.raises(ConfigError, match="pydantic BaseModel"):
        ss.register_measure("x_bad", params=dict)(count_above)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="neither a RulePolicy nor a DecidingPolicy"):
        ss.register_policy("x_plain")(object)


def test_summary_json_holds_a_registered_measure(tmp_path):
    run = ss.run(cfg(), out=tmp_path / "r")
    saved = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert saved["measures"]["test_count_above"] == run.summary["measures"]["test_count_above"]


def test_a_registered_deciding_policy_builds_the_requests(tmp_path):
    from socialsim.agents.policies import LLMPolicy
    from socialsim.testing import ScriptedClient
    from tests.simulation.test_llm_run import ANSWER, _cfg

    @ss.register_policy("test_terse_llm")
    class Terse(LLMPolicy):
        """An LLM policy that asks for brevity in every request."""

        def build_request(self, obs):
            request = super().build_request(obs)
            request.messages[-1]["content"] += "\nAnswer in five words."
            return request

    seen: list[str] = []

    def answer(request):
        seen.append(request.messages[-1]["content"])
        return ANSWER

    cfg = _cfg(tmp_path, size=4, steps=1).with_overrides({"agents.policy": "test_terse_llm"})
    client = ScriptedClient(answer)
    run = ss.run(cfg, out=tmp_path / "r", clients={cfg.agents.llm.model_dump_json(): client})
    assert len(seen) == 4 and all(s.endswith("Answer in five words.") for s in seen)
    assert set(run.personas["policy"]) == {"test_terse_llm"}
    assert run.summary["data_quality"]["calls"] == 4


def test_registered_params_refuse_true_false_and_nan_where_a_number_goes():
    """Every registry holds every entry's params to numbers: nested models and lists too."""
    from pydantic import BaseModel

    from socialsim.core.errors import ConfigError
    from socialsim.core.registry import SCENARIOS, wrong_numbers

    class Inner(BaseModel):
        count: int = 1
        share: float | None = None

    class Outer(BaseModel):
        rate: float = 0.5
        flag: bool = False
        inner: Inner = Inner()
        many: list[Inner] = []
        weights: dict[str, float] = {}

    assert wrong_numbers(Outer, {"rate": 0.2, "flag": True, "inner": {"count": 3}}, "x") is None
    assert (
        wrong_numbers(Outer, {"rate": True}, "x") == "x.rate: true is not a number; give a number"
    )
    assert (
        wrong_numbers(Outer, {"rate": float("nan")}, "x") == "x.rate: NaN must be a finite number"
    )
    assert wrong_numbers(Outer, {"inner": {"count": False}}, "x") == (
        "x.inner.count: false is not a number; give a number"
    )
    assert wrong_numbers(Outer, {"many": [{"share": 0.1}, {"share": float("nan")}]}, "x") == (
        "x.many[1].share: NaN must be a finite number"
    )
    assert wrong_numbers(Outer, {"weights": {"a": 0.5, "b": True}}, "x") == (
        "x.weights.b: true is not a number; give a number"
    )
    with pytest.raises(ConfigError, match=r"^scenario.params.threshold: true is not a number"):
        SCENARIOS.validate("donor_game", {"threshold": True}, "scenario.params")


def test_register_scenario_refuses_a_class_that_is_no_scenario():
    class Plain:
        pass

    for cls in (Plain, int):
        with pytest.raises(ConfigError, match="is not a Scenario; subclass socialsim.Scenario"):
            ss.register_scenario("x_plain_scenario")(cls)
    assert "x_plain_scenario" not in SCENARIOS.names()


def _rule_returning(update):
    class Returns(ss.Rule):
        def update(self, ctx):
            return update() if callable(update) else update

    return Returns


def _one(values, dtype=None):
    return np.asarray(values, dtype=dtype)


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (None, "update() returned NoneType, not a RuleUpdate"),
        (ss.RuleUpdate(_one([0]), _one([0]), _one([np.nan]), _one([-1])), "in [0, 1]; got NaN"),
        (ss.RuleUpdate(_one([0]), _one([0]), _one([1.5]), _one([-1])), "in [0, 1]; got 1.5"),
        (ss.RuleUpdate(_one([-1]), _one([0]), _one([0.5]), _one([-1])), "agents must be in 0..9; got -1"),
        (ss.RuleUpdate(_one([10]), _one([0]), _one([0.5]), _one([-1])), "agents must be in 0..9; got 10"),
        (ss.RuleUpdate(_one([0]), _one([1]), _one([0.5]), _one([-1])), "claims must be in 0..0; got 1"),
        (ss.RuleUpdate(_one([0]), _one([0]), _one([0.5]), _one([12])), "source must be in -1..9; got 12"),
        (ss.RuleUpdate(_one([0.5]), _one([0]), _one([0.5]), _one([-1])), "agents must hold whole numbers"),
        (ss.RuleUpdate(_one([0, 1]), _one([0]), _one([0.5]), _one([-1])), "got agents 2, claims 1"),
    ],
)  # fmt: skip
def test_a_rule_update_that_cannot_be_applied_is_named_not_applied(tmp_path, update, message):
    ss.register_policy("test_bad_update")(_rule_returning(update))
    try:
        config = cfg(agents={"policy": "test_bad_update"}, scenario={"kind": "none"})
        config = config.with_overrides({"population.size": 10, "network.kind": "ring"})
        with pytest.raises(ss.SocialsimError) as err:
            ss.run(config, out=tmp_path / "r")
    finally:
        POLICIES.remove("test_bad_update")
    assert str(err.value).startswith("policy test_bad_update: ") and message in str(err.value)
    changes = [e for e in map(json.loads, (tmp_path / "r" / "events.jsonl").read_text().splitlines())
               if e["kind"] == "belief_change"]  # fmt: skip
    assert changes == []  # nothing of the update was applied or logged


def test_a_rule_update_of_python_lists_is_applied_as_arrays(tmp_path):
    ss.register_policy("test_list_update")(
        _rule_returning(lambda: ss.RuleUpdate([0, 1], [0, 0], [0.25, 0.75], [-1, 0]))
    )
    try:
        config = cfg(agents={"policy": "test_list_update", "params": {"initial": 0.5}})
        config = config.with_overrides({"scenario.kind": "none", "steps": 1})
        run = ss.run(config, out=tmp_path / "r")
    finally:
        POLICIES.remove("test_list_update")
    last = run.agents[run.agents["step"] == 1].set_index("agent")["credence"]
    assert (last[0], last[1], last[2]) == (0.25, 0.75, 0.5)


def test_a_users_nested_params_class_is_part_of_the_state_so_the_run_resumes(tmp_path):
    """A ``Params`` class nested in the user's scenario (as the tutorial writes it) is saved
    in the checkpoint like the built-ins' own: no "checkpoints are off" notice, and the run
    killed after step 2 resumes from it to the same record."""
    import warnings

    from socialsim.core.errors import Notice
    from socialsim.experiments import checkpoint
    from socialsim.experiments.resume import resume
    from tests.simulation.test_checkpoint import Stop, stop_after

    whole = ss.run(cfg(), out=tmp_path / "whole")
    saved = checkpoint.COST_FACTOR
    checkpoint.COST_FACTOR = 0.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Notice)
            with pytest.raises(Stop):
                ss.run(cfg(), out=tmp_path / "killed", on_step=stop_after(2))
    finally:
        checkpoint.COST_FACTOR = saved
    assert checkpoint.read_header(tmp_path / "killed")["step"] == 2
    again = resume(tmp_path / "killed")
    assert again.summary["run"]["resumed"] == {"from_checkpoint_at_step": 2}
    assert again.agents.equals(whole.agents)
