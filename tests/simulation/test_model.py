"""SocialModel and runs: outputs, reproducibility, crash safety, event mode, mixed populations."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import socialsim as ss
from socialsim.core.claims import Claim
from socialsim.core.registry import POLICIES
from socialsim.simulation.log import read_events
from socialsim.simulation.model import SocialModel
from socialsim.simulation.queries import Question


def test_run_writes_the_run_directory_contract(rule_cfg, tmp_path):
    run = ss.run(rule_cfg(), out=tmp_path / "r")
    names = set(run.paths)
    assert {
        "config.yaml",
        "events.jsonl",
        "agents.parquet",
        "agents.csv",
        "steps.csv",
        "graph.graphml",
        "summary.json",
        "events.parquet",
        "events.csv",
        "personas.parquet",
        "personas.csv",
    } <= names
    agents = run.agents
    assert list(agents.columns[:4]) == ["step", "agent", "claim", "credence"]
    assert sorted(agents["step"].unique()) == [0, 1, 2, 3, 4]
    assert len(agents) == 5 * 60
    assert len(run.steps) == 5 and "believers.c1" in run.steps.columns
    summary = json.loads((run.dir / "summary.json").read_text())
    reach = summary["measures"]["claims"]["c1"]["adoption_all"]["final_reach"]
    assert summary["run"]["steps_run"] == 4 and reach >= 0.05
    events = run.events
    assert {"run", "step", "time", "kind", "agent", "target", "claim"} <= set(events.columns)
    assert {"payload.old", "payload.new", "payload.cause"} <= set(events.columns)
    changes = events[events.kind == "belief_change"]
    assert (changes["payload.cause"] == "rule").all()
    # every adoption names the neighbour that caused it
    graph = __import__("networkx").read_graphml(run.dir / "graph.graphml")
    for row in changes.itertuples():
        assert graph.has_edge(str(row.agent), str(int(row.target)))


def test_same_seed_same_log_different_seed_differs(rule_cfg, tmp_path):
    a = ss.run(rule_cfg(), out=tmp_path / "a")
    b = ss.run(rule_cfg(), out=tmp_path / "b")
    c = ss.run(rule_cfg(seed=6), out=tmp_path / "c")

    def strip(r):
        lines = (r.dir / "events.jsonl").read_text().splitlines()
        return [{k: v for k, v in json.loads(line).items() if k != "run"} for line in lines]

    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


@pytest.mark.parametrize("policy", [p for p in POLICIES.names() if p != "llm"])
def test_every_rule_policy_runs_from_config(rule_cfg, tmp_path, policy):
    run = ss.run(rule_cfg(**{"agents.policy": policy, "agents.params": {}}), out=tmp_path / policy)
    cred = run.agents
    assert cred["credence"].between(0, 1).all()
    assert run.summary["run"]["steps_run"] == 4


def test_mixed_population_uses_each_policy_share(rule_cfg, tmp_path):
    cfg = rule_cfg(
        **{
            "agents.policy": "degroot",
            "agents.params": {"initial": 0.2},
            "agents.mix": [{"fraction": 0.25, "policy": "voter", "params": {"initial": 1.0}}],
        }
    )
    model = SocialModel(cfg, tmp_path)
    assert (model.policy_of == 1).sum() == 15
    initial = model.beliefs.credence[:, 0]
    assert np.allclose(initial[model.policy_of == 1], 1.0) and np.allclose(
        initial[model.policy_of == 0], 0.2
    )
    model.step()
    model.close()


@pytest.mark.slow
def test_killed_run_keeps_a_valid_log_up_to_its_last_step(tmp_path):
    script = f"""
import os, signal
import socialsim as ss
from socialsim.simulation.config import ExperimentConfig
cfg = ExperimentConfig.from_dict({{"name": "k", "steps": 50, "population": {{"size": 80}},
    "network": {{"kind": "ring"}}, "agents": {{"policy": "voter", "params": {{"initial": "uniform"}}}},
    "claims": [{{"id": "c1", "text": "The river is poisoned."}}],
    "output": {{"dir": r"{tmp_path}", "report": False}}}})
def kill(model):
    if model.step_index == 3:
        os.kill(os.getpid(), signal.SIGKILL)
ss.run(cfg, out=r"{tmp_path / "k"}", on_step=kill)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -9
    events = read_events(tmp_path / "k" / "events.jsonl")
    assert len(events) > 0 and events["step"].max() == 3
    lines = (tmp_path / "k" / "events.jsonl").read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # no partial line


@pytest.mark.slow
def test_event_mode_is_deterministic_and_batches_by_window(rule_cfg, tmp_path):
    cfg = rule_cfg(
        mode="event",
        until=3.5,
        **{"agents.policy": "voter", "agents.params": {"initial": "uniform"}},
    )
    a = ss.run(cfg, out=tmp_path / "a")
    b = ss.run(cfg, out=tmp_path / "b")
    assert (a.dir / "events.jsonl").read_text().replace("t-s5", "") == (
        b.dir / "events.jsonl"
    ).read_text().replace("t-s5", "")
    steps = a.steps
    assert list(steps["time"]) == [0.0, 1.0, 2.0, 3.0, 3.5]
    active = steps["active"].iloc[1:4]
    # activity rate ~1 per unit time: P(wake in a window of 1) = 1 - e^-1 ~ 0.63 of 60 agents
    assert ((active > 20) & (active < 58)).all()


def test_removed_agent_stops_acting_and_receiving(rule_cfg, tmp_path):
    cfg = rule_cfg(
        **{
            "agents.policy": "voter",
            "agents.params": {"initial": "uniform"},
            "network.kind": "complete",
        }
    )
    model = SocialModel(cfg, tmp_path)
    model.remove_agent(0)
    assert model.send(1, "hello", to=0) is None
    msg = model.send(1, "hello all")
    assert 0 not in msg.recipients and len(msg.recipients) == 58
    before = model.beliefs.credence[0].copy()
    for _ in range(3):
        model.step()
    assert np.array_equal(model.beliefs.credence[0], before)
    model.close()
    events = read_events(tmp_path / "events.jsonl")
    assert not ((events.kind == "belief_change") & (events.agent == 0)).any()


def test_ask_uses_fallback_for_rule_agents_and_set_credence_logs_cause(rule_cfg, tmp_path):
    from pydantic import BaseModel

    class Yes(BaseModel):
        answer: str

    model = SocialModel(rule_cfg(), tmp_path)
    model.add_claim(Claim(id="c2", text="x"), initial=0.1)
    answers = model.ask(
        [
            Question(agent_id=i, prompt="?", schema=Yes, tag="t", fallback=lambda: Yes(answer="a"))
            for i in range(3)
        ]
    )
    assert [a.value.answer for a in answers] == ["a", "a", "a"]
    assert model.set_credence(2, "c2", 0.9, cause="probe", ref="q1")
    assert not model.set_credence(2, "c2", 0.9, cause="probe")
    model.close()
    events = read_events(tmp_path / "events.jsonl")
    change = events[events.kind == "belief_change"].iloc[-1]
    assert change.payload == {"old": 0.1, "new": 0.9, "cause": "probe", "ref": "q1", "reason": None}
    assert model.beliefs.history(2)[-1].cause == "probe"


def test_out_dir_holding_a_run_is_refused(rule_cfg, tmp_path):
    ss.run(rule_cfg(), out=tmp_path / "r")
    before = (tmp_path / "r" / "events.jsonl").read_bytes()
    with pytest.raises(ss.ConfigError, match="already holds a run"):
        ss.run(rule_cfg(), out=tmp_path / "r")
    assert (tmp_path / "r" / "events.jsonl").read_bytes() == before


@pytest.mark.slow
def test_default_out_dirs_never_collide(rule_cfg):
    a = ss.run(rule_cfg())
    b = ss.run(rule_cfg())
    assert a.dir != b.dir and a.dir.name == "t-s5" and b.dir.name == "t-s5-2"


def test_agents_table_is_long_format(rule_cfg, tmp_path):
    model = SocialModel(rule_cfg(), tmp_path)
    model.step()
    table = model.agents_table()
    model.close()
    assert isinstance(table, pd.DataFrame) and len(table) == 2 * 60
    assert table.groupby("step")["agent"].nunique().tolist() == [60, 60]


def test_steps_collect_garbage_less_often_and_restore_the_thresholds(rule_cfg, tmp_path):
    import gc

    from socialsim.simulation.model import fewer_collections

    before = gc.get_threshold()
    seen = []
    with fewer_collections(first=50_000):
        seen.append(gc.get_threshold()[0])
    assert seen == [max(50_000, before[0])] and gc.get_threshold() == before
    model = SocialModel(rule_cfg(steps=2), tmp_path)
    model.scenario.after_step = lambda m: seen.append(gc.get_threshold()[0])
    model.step()
    model.close()
    assert seen[-1] >= 20_000 and gc.get_threshold() == before


def test_rule_agents_become_mesa_agents_only_when_asked(rule_cfg, tmp_path):
    model = SocialModel(rule_cfg(steps=3), tmp_path)
    for _ in range(3):
        model.step()
    assert model._space is None and len(model._all_agents) == 0  # arrays did the work
    persona = model.persona_of(7)
    assert len(model._all_agents) == 0 and persona.id == 7
    seven = model.agent(7)
    assert seven is model.agent(7) and seven.persona == persona
    assert seven.cell.coordinate == 7 and seven in seven.cell.agents
    assert sorted(c.coordinate for c in seven.cell.neighborhood) == model.neighbours(7)
    assert len(model.agents) == model.n_agents == 60  # mesa's AgentSet holds everyone
    assert [a.id for a in model.social_agents] == list(range(60))
    model.remove_agent(3)
    assert not model.agent(3).present and model.agent(4).present
    model.close()


def test_names_by_id_with_public_posts():
    from socialsim.simulation.model import Names

    names = Names(["Ann", "Bo"], public="a public post")
    assert (names[1], names[-1], names.get(-1), names.get(5, "?"), len(names)) == (
        "Bo",
        "a public post",
        "a public post",
        "?",
        2,
    )


def test_llm_agents_are_observed_each_before_its_request_on_the_models_thread(rule_cfg, tmp_path):
    import threading

    from socialsim.llm.types import CallRecord, LLMResult

    class OneByOneClient:
        """Answers each request as soon as it is drawn, as LLMClient.stream can."""

        def __init__(self):
            self.built: list[int] = []  # the thread that drew each request

        def stream(self, requests):
            for i, request in enumerate(requests):
                self.built.append(threading.get_ident())
                answer = '{"message": "", "to": "none", "beliefs": {}}'
                value = request.schema.model_validate_json(answer)
                yield i, LLMResult(text=answer, record=CallRecord("m", "fake"), value=value)

        def close(self):
            """Nothing to release."""

    cfg = rule_cfg(**{"agents.policy": "llm", "agents.params": {}, "population.size": 40})
    client = OneByOneClient()
    model = SocialModel(cfg, tmp_path, clients={cfg.agents.llm.model_dump_json(): client})
    observed: list[tuple[int, int, int]] = []  # (agent, requests drawn before, thread)

    def observe(m, agent, obs):
        observed.append((agent.id, len(client.built), threading.get_ident()))

    model.scenario.observe = observe
    model.step()
    model.close()
    me = threading.get_ident()
    assert sorted(a for a, _, _ in observed) == list(range(40))
    assert [a for a, _, _ in observed] != list(range(40))  # in the step's seeded order
    # each agent before its own request, a few ahead of it (16 at a time), all on this thread
    assert all(j - 16 < before <= j for j, (_, before, _) in enumerate(observed))
    assert {t for _, _, t in observed} == {me} and set(client.built) == {me}
    assert model.llm_totals["calls"] == 40


class ShuffledClient:
    """Draws every request in order, then answers them in a seeded shuffled order.

    Each answer depends on the request's seed (its agent and step): a message to everyone
    or no one, and a credence for claim c1. `applied` is the number of decisions the model
    had applied (in all) when the last batch's last answer came. With ``stream=False`` it
    has only ``run``: every answer of a batch at once, in order.
    """

    def __init__(self, model_ref: list, shuffle_seed: int, stream: bool = True):
        self.model_ref = model_ref
        self.rng = np.random.default_rng(shuffle_seed)
        self.applied = 0
        if stream:
            self.stream = self._stream

    @staticmethod
    def _answer(request):
        from socialsim.llm.types import CallRecord, LLMResult

        seed = request.seed
        answer = json.dumps({
            "message": f"note {seed % 997}" if seed % 3 else "",
            "to": "all",
            "beliefs": {"c1": {"reason": "r", "credence": (seed % 101) / 100}},
        })  # fmt: skip
        value = request.schema.model_validate_json(answer)
        return LLMResult(text=answer, record=CallRecord("m", "fake"), value=value)

    def _stream(self, requests):
        requests = list(requests)
        arrival = self.rng.permutation(len(requests)).tolist()
        for n, i in enumerate(arrival):
            if n == len(arrival) - 1:
                self.applied = self.model_ref[0].log.counts["decision"]
            yield i, self._answer(requests[i])

    def run(self, requests):
        self.applied = self.model_ref[0].log.counts["decision"]
        return [self._answer(r) for r in requests]

    def close(self):
        """Nothing to release."""


@pytest.mark.parametrize("mix", [[], [{"fraction": 0.4, "policy": "llm"}]])
def test_decisions_applied_while_the_batch_runs_give_the_log_of_applying_after_it(rule_cfg, mix):
    cfg = rule_cfg(**{"agents.policy": "llm", "agents.params": {}, "population.size": 40,
                      "agents.inbox_limit": 2, "steps": 3, "agents.mix": mix})  # fmt: skip
    runs = {}
    for stream in (True, False):  # answers as they come, shuffled; or all after the batch
        ref: list = []
        client = ShuffledClient(ref, shuffle_seed=11, stream=stream)
        model = SocialModel(cfg, None, clients={cfg.agents.llm.model_dump_json(): client})
        ref.append(model)
        counts = []
        for _ in range(cfg.steps):
            before = model.log.counts["decision"]
            model.step()
            counts.append(client.applied - before)  # applied before the step's last answer
        runs[stream] = (model.log.sink.text(), model.beliefs.credence.copy(), counts)
        model.close()
    (early_log, early_cred, early_counts), (late_log, late_cred, late_counts) = (
        runs[True],
        runs[False],
    )
    assert early_log == late_log and np.array_equal(early_cred, late_cred)
    assert '"kind": "decision"' in early_log and '"kind": "message"' in early_log
    # (with two groups, the first group's decisions are applied before the second's batch)
    assert all(n > 0 for n in early_counts) and (mix or late_counts == [0, 0, 0])
    # the log keeps every call of a step before that step's decisions
    kinds = [json.loads(line)["kind"] for line in early_log.splitlines()]
    step_kinds = [k for k in kinds if k in ("llm_call", "decision")]
    assert step_kinds == (["llm_call"] * 40 + ["decision"] * 40) * 3


class _LateProbe(ss.Scenario):
    """Sets one agent's credence after every step, as a probe does (cause ``probe``)."""

    def after_step(self, model) -> None:
        agent = model.step_index % model.n_agents
        model.set_credence(agent, "c1", 0.123 * (model.step_index % 8), cause="probe", ref="late")


def test_the_agents_table_holds_at_each_step_what_the_events_of_that_step_set(rule_cfg, tmp_path):
    """A credence set after the step (a probe) is part of that step's state, the last step's
    too: replaying the belief changes of the log step by step gives the agents table."""
    from socialsim.core.registry import SCENARIOS

    ss.register_scenario("test_late_probe")(_LateProbe)
    try:
        run = ss.run(
            rule_cfg(**{"scenario.kind": "test_late_probe", "steps": 5}), out=tmp_path / "r"
        )
    finally:
        SCENARIOS.remove("test_late_probe")
    table = run.agents.pivot(index="step", columns="agent", values="credence").sort_index()
    state = table.loc[0].to_numpy().copy()
    log = read_events(run.dir / "events.jsonl")
    changes = log[log["kind"] == "belief_change"].to_dict("records")
    for step in range(1, 6):
        for e in (e for e in changes if e["step"] == step):
            state[e["agent"]] = e["payload"]["new"]
        assert np.array_equal(table.loc[step].to_numpy(), state), step
    last = [e for e in changes if e["step"] == 5 and e["payload"]["cause"] == "probe"]
    assert len(last) == 1 and table.loc[5, last[0]["agent"]] == pytest.approx(0.123 * 5)
    assert run.summary["measures"]["claims"]["c1"]["adoption_all"]["mean_credence_final"] == (
        pytest.approx(float(state.mean()))
    )
