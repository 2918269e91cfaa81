"""SocialModel: the population on its network and the step loop, a Mesa model.

One step: scenario.before_step -> rule updates from the pre-step credences -> active LLM
agents observed, then decided in ONE batch -> decisions applied in a seeded order -> rule
updates applied -> messages delivered -> log flushed, snapshot and DataCollector row ->
scenario.after_step. Mesa's ``steps`` counts the steps; ``run_model()`` stops at the
config's ``steps`` (event mode: at the horizon) or when the scenario is done.

The parts live apart: :mod:`~socialsim.simulation.placement` (the population on
its network), :mod:`~socialsim.simulation.rule_driver` (rule groups),
:mod:`~socialsim.simulation.llm_batch` (LLM decisions and questions),
:mod:`~socialsim.simulation.actions` (what scenarios do to the run),
:mod:`~socialsim.simulation.recorder` (snapshots, DataCollector),
:mod:`~socialsim.simulation.record` (the record as tables), and
:mod:`~socialsim.simulation.given` (configs, graphs and personas given from Python).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network as CellNetwork

from socialsim.agents.agent import SocialAgent
from socialsim.agents.beliefs import BeliefStore
from socialsim.agents.persona import PersonaStore
from socialsim.agents.sampling import SampledPersonas
from socialsim.core.claims import Claim
from socialsim.core.errors import ConfigError, EndpointDown
from socialsim.core.messages import Mailroom
from socialsim.core.network import Network
from socialsim.core.persona import Persona
from socialsim.core.validation import describe_error, shown
from socialsim.simulation import llm_batch
from socialsim.simulation.actions import ModelActions
from socialsim.simulation.clock import EventClock, windows
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.given import resolve_given
from socialsim.simulation.llm_batch import AllCallsFailed, fewer_collections
from socialsim.simulation.log import InteractionLog, new_log_path
from socialsim.simulation.placement import Names, place_population
from socialsim.simulation.policies import PolicyGroup
from socialsim.simulation.queries import Answer, Question
from socialsim.simulation.recorder import (
    Collector,
    Recorder,
    SnapshotCredences,
    model_reporters,
)
from socialsim.simulation.rule_driver import RuleDriver
from socialsim.simulation.self_report import ask_at_end, ask_at_start
from socialsim.simulation.world import Scenario, create_scenario

if TYPE_CHECKING:
    import pandas as pd

    from socialsim.core.rundata import RunData


def _claim(spec: dict[str, Any]) -> Claim:
    from pydantic import ValidationError

    try:
        return Claim.model_validate(spec)
    except ValidationError as exc:
        raise ConfigError(f"claims: entry {spec!r}: {describe_error(exc)}") from None


def check_something_to_do(cfg: ExperimentConfig) -> None:
    """Refuse a run with neither a scenario nor a claim: no agent would have anything to do.

    Every rule policy updates credences in claims and LLM agents make the step decision
    only about claims in play (:meth:`Scenario.makes_step_decisions`), so such a run would
    record nothing. A scenario with no claim of its own runs without any.
    """
    if cfg.scenario.kind == "none" and not cfg.claims:
        raise ConfigError(
            "claims: none given and scenario.kind is none, so the agents have nothing to "
            "update or decide; add claims: [{id: c1, text: ...}] (from Python: claims=[...]) "
            "or choose a scenario.kind"
        )


class SocialModel(ModelActions, mesa.Model):
    """A population of SocialAgents on a network, driven step by step (or by the event clock).

    Built from a config (an :class:`ExperimentConfig`, a dict or a YAML path) and/or from
    Python objects: ``graph`` (a networkx graph; nodes become agents 0..n-1 in
    ``list(graph.nodes)`` order), ``personas`` (a DataFrame, one row per agent, or a list
    of Persona objects or dicts), ``policy`` and ``params`` (``agents.policy`` and
    ``agents.params``), ``steps``, ``seed`` and ``claims`` (one claim or a list, each a
    dict or a Claim: the claims in play, replacing ``claims:``; a run without a scenario
    needs one, as only claims in play have credences). With ``run_dir`` the event log is
    written to ``run_dir/events.jsonl``; without, the record is kept in memory
    (:meth:`record`).
    ``reporters`` and ``agent_reporters`` add to Mesa's DataCollector (no agent reporters
    by default, so a large rule run creates no agent objects); later, add them with
    ``model.datacollector.add_model_reporter(name, fn)`` / ``add_agent_reporter(name, fn)``.

    ``with SocialModel(...) as model:`` closes the log and the model clients on exit.
    """

    def __init__(
        self,
        config: ExperimentConfig | dict | str | os.PathLike | None = None,
        run_dir: str | os.PathLike | None = None,
        *,
        graph: nx.Graph | None = None,
        personas: Any = None,
        policy: str | None = None,
        params: dict[str, Any] | None = None,
        steps: int | None = None,
        seed: int | None = None,
        claims: Any = None,
        clients: dict | None = None,
        reporters: dict[str, Callable[[SocialModel], Any]] | None = None,
        agent_reporters: dict[str, Callable[[SocialAgent], Any] | str] | None = None,
        run_id: str | None = None,
    ) -> None:
        given = resolve_given(
            config,
            graph=graph,
            personas=personas,
            policy=policy,
            params=params,
            steps=steps,
            seed=seed,
            claims=claims,
        )
        cfg = given.cfg
        check_something_to_do(cfg)
        super().__init__(seed=cfg.seed)
        self.cfg = cfg
        self.network_source = "given" if given.network is not None else "config"
        self.persona_source = "given" if given.personas is not None else "config"
        self.node_labels = given.labels
        self.run_dir = Path(run_dir) if run_dir is not None else None
        arm = "-control" if cfg.scenario.arm == "control" else ""
        self.run_id = run_id or f"{cfg.name}-s{cfg.seed}{arm}"
        self.time = 0.0
        events = new_log_path(self.run_dir) if self.run_dir is not None else None
        self.log = InteractionLog(events, self.run_id, durable=cfg.output.durable)
        self.mail = Mailroom()
        self.recorder = Recorder()
        self.scenario: Scenario = create_scenario(
            cfg.scenario.kind, cfg.scenario.params, arm=cfg.scenario.arm
        )
        # Activation and the rule updates have generators of their own, so that a treatment
        # arm and its control arm (whose scenarios draw differently) activate the same agents
        # and make the same rule draws at every step.
        self._activation_rng = np.random.default_rng(self._subseed("activation"))
        self.rules = RuleDriver(self, np.random.default_rng(self._subseed("rules")))
        self._clock: EventClock | None = None
        self.roles: dict[int, str] = {}
        self.scenario.validate_config(cfg)
        placement = place_population(
            given,
            self.rng,
            network_seed=self._subseed("network"),
            clients=clients,
            decision_fields=self.scenario.decision_fields(),
            default_template=self.scenario.prompt_template(),
        )
        self.network: Network = placement.network
        self.groups: list[PolicyGroup] = placement.groups
        self.policy_of = placement.policy_of
        self.names = placement.names
        self.activity_rates = placement.activity_rates
        self.stubbornness = placement.stubbornness
        self.personas: PersonaStore | SampledPersonas = placement.personas
        del placement
        n = self.network.n
        self._space: CellNetwork | None = None
        self._by_id: list[SocialAgent | None] = [None] * n
        self.present = np.ones(n, dtype=bool)
        self._llm_mask = np.array([self.groups[g].is_llm for g in self.policy_of], dtype=bool)
        self.beliefs = BeliefStore(n)
        for spec in cfg.claims:
            self.add_claim(_claim(spec))
        self.llm_totals = llm_batch.new_totals()
        self.scenario.setup(self)
        self.datacollector = Collector(
            model_reporters=model_reporters(self, reporters), agent_reporters=agent_reporters
        )
        self.step_limit = windows(self) if cfg.mode == "event" else cfg.steps
        self.running = self.step_limit > 0
        ask_at_start(self, self.step_limit)  # agents.self_report: before (and after, no steps)
        self.log.flush()
        self._record_state()

    # --- construction helpers ---------------------------------------------------------------
    def _subseed(self, label: str) -> int:
        digest = hashlib.sha256(f"{self.cfg.seed}:{label}".encode()).digest()
        return int.from_bytes(digest[:4], "little")

    # --- public API for scenarios -----------------------------------------------------------
    @property
    def step_index(self) -> int:
        """The current step (Mesa's ``steps``; 0 during set-up)."""
        return self.steps

    @property
    def graph(self) -> nx.Graph:
        """The network as a networkx graph (built on first use; rule runs rarely need it)."""
        return self.network.to_networkx()

    @property
    def n_agents(self) -> int:
        """Number of agents (including removed ones)."""
        return len(self._by_id)

    def agent(self, agent_id: int) -> SocialAgent:
        """The agent with this id, a mesa agent on its network cell (created on first use).

        Rule policies work on arrays, so a large rule population never needs its agent
        objects; they come into being when something asks for them.
        """
        agent = self._by_id[agent_id]
        if agent is None:
            group = self.groups[int(self.policy_of[agent_id])]
            agent = self._by_id[agent_id] = SocialAgent(self, agent_id, group.name)
            if self._space is not None:  # else placed when the space is built
                agent.cell = self._space[agent_id]
        return agent

    def created_ids(self) -> list[int]:
        """Ids of the agents whose objects exist (see :meth:`agent`)."""
        return [i for i, a in enumerate(self._by_id) if a is not None]

    @property
    def social_agents(self) -> list[SocialAgent]:
        """Every agent, in id order (all are created)."""
        return [self.agent(i) for i in range(self.n_agents)]

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """mesa's AgentSet of every agent (all are created)."""
        if None in self._by_id:
            self.social_agents  # noqa: B018 - creates the missing ones
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, mesa.agent.AgentSet]:
        """mesa's agents by type (all are created)."""
        self.agents  # noqa: B018
        return super().agents_by_type

    @property
    def space(self) -> CellNetwork:
        """The graph as a mesa ``discrete_space.Network`` of cells (built on first use, with
        every agent made so far placed on its cell; agents made later are placed as made)."""
        if self._space is None:
            self._space = CellNetwork(self.graph, random=self.random)
            for i, agent in enumerate(self._by_id):
                if agent is not None and agent in self._agents:  # made, and not removed
                    agent.cell = self._space[i]
        return self._space

    @property
    def indptr(self) -> np.ndarray:
        """``network.indptr``: where each agent's list of whom it listens to starts."""
        return self.network.indptr

    @property
    def indices(self) -> np.ndarray:
        """``network.indices``: whom each agent listens to, agent after agent."""
        return self.network.indices

    def persona_of(self, agent_id: int) -> Persona:
        """The agent's persona as it stands (without creating the agent)."""
        agent = self._by_id[agent_id]
        return agent.persona_snapshot() if agent is not None else self.personas.get(agent_id)

    def neighbours(self, agent_id: int) -> list[int]:
        """Agents this agent listens to and talks to (its graph neighbours)."""
        return self.network.neighbours(agent_id).tolist()

    def present_neighbours(self, agent_id: int) -> list[int]:
        """The agent's neighbours that have not left the run, in the order of :meth:`neighbours`."""
        ids = self.network.neighbours(agent_id)
        return ids[self.present[ids]].tolist()

    def set_edges(self, edges: np.ndarray) -> None:
        """Replace the network's edges (an (m, 2) array of node ids; directedness kept).

        Messages, rule policies and the written ``edges.parquet`` follow the new edges:
        the listening CSR is rebuilt and the cached networkx graph and mesa Network are
        dropped. Self-loops are left out. Agent objects created earlier keep their old
        cell until they are created again; scenarios that grow a network read
        :meth:`neighbours`, which follows the new edges.
        """
        old = self.network
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        if len(edges) and (edges.min() < 0 or edges.max() >= old.n):
            raise ConfigError(f"set_edges: node ids must lie in 0..{old.n - 1}")
        edges = edges[edges[:, 0] != edges[:, 1]]
        self.network = Network.from_edges(
            old.n, edges, old.directed, attributes=old.attributes, kind=old.kind
        )
        self._space = None

    def is_present(self, agent_id: int) -> bool:
        """False once the agent has left the run."""
        return bool(self.present[agent_id])

    def is_llm(self, agent_id: int) -> bool:
        """True when the agent decides through an LLM policy."""
        return bool(self._llm_mask[agent_id])

    def add_claim(self, claim: Claim, initial: float | None = None) -> None:
        """Put a claim in play; initial credences come from each policy's `initial` setting."""
        if claim.id in self.beliefs.index:
            held = self.beliefs.claim(claim.id)
            if held.text != claim.text:
                raise ConfigError(
                    f"claim {claim.id!r} is in play already as {shown(held.text, 60)}, not "
                    f"{shown(claim.text, 60)}; give the second claim an id of its own"
                )
            return
        col = self.beliefs.add_claim(claim, 0.5)
        for g, group in enumerate(self.groups):
            rows = np.flatnonzero(self.policy_of == g)
            if not len(rows):
                continue
            if initial is not None:
                self.beliefs.credence[rows, col] = initial
            else:
                self.beliefs.credence[rows, col] = group.initial_credences(len(rows), self.rng)
        self.rules.ready = False  # rules re-read state for the new claim

    def ask(self, questions: list[Question]) -> list[Answer]:
        """Answer structured questions in one concurrent batch (LLM agents) or by fallback."""
        return llm_batch.ask(self, self.scenario.reworded(questions))

    def question_seed(self, agent_id: int, tag: str) -> int:
        """A reproducible seed for one agent's call at this step."""
        digest = hashlib.sha256(f"{self.cfg.seed}:{self.steps}:{agent_id}:{tag}".encode()).digest()
        return int.from_bytes(digest[:4], "little")

    # --- the step loop ----------------------------------------------------------------------
    def step(self) -> None:
        """Advance one step: one round of decisions (event mode: one window of the clock).

        Mesa counts the step in ``steps`` before it runs; ``running`` turns False at the
        step limit (``steps``, or the horizon in event mode) or when the scenario is done,
        and then the ``agents.self_report: after`` inventory is asked.
        """
        was_running = self.running
        if self.cfg.mode == "event":
            if self._clock is None:
                self._clock = EventClock(self)
            self._clock.advance()
        else:
            self.time = float(self.steps)
            self.run_batch(self._activate(), deliver_now=None)
        if self.steps >= self.step_limit:
            self.running = False
        if was_running and not self.running:
            ask_at_end(self)  # agents.self_report: after

    def run_model(self, on_step: Callable[[SocialModel], None] | None = None) -> None:
        """Step until the step limit or the scenario's end; `on_step(model)` after each step."""
        while self.running:
            self.step()
            if on_step is not None:
                on_step(self)

    def run_batch(self, active: np.ndarray, deliver_now: float | None) -> None:
        """One decision round for the `active` agents (a step, or an event-mode window)."""
        with fewer_collections():
            self._run_batch(active, deliver_now)

    def _run_batch(self, active: np.ndarray, deliver_now: float | None) -> None:
        try:
            self._decide_round(active, deliver_now)
        except (EndpointDown, AllCallsFailed) as exc:
            self._stopped(exc)
            raise
        except KeyboardInterrupt:  # Ctrl-C inside a step: marked, as an error's stop is
            self._stopped(KeyboardInterrupt("interrupted (Ctrl-C)"))
            raise

    def _stopped(self, exc: BaseException) -> None:
        """Mark the step the run stopped inside: an ``error`` event and steps.csv's
        ``complete`` False, so its partial events are never read as a whole step."""
        self.emit(
            "error",
            payload={
                "where": "step",
                "message": f"step {self.steps} stopped before it finished: {exc}",
                "incomplete": True,
            },
        )
        self.recorder.stop_step(self.steps, self.time)
        self.log.flush()

    def _decide_round(self, active: np.ndarray, deliver_now: float | None) -> None:
        self.recorder.start_step()
        self.scenario.before_step(self)
        active = active & self.present  # agents the scenario removed before the step do not act
        self.recorder.count("active", int(active.sum()))
        rule_updates = self.rules.updates(active)
        if self.scenario.makes_step_decisions(self):
            llm_batch.decide_and_apply(self, active)
        for group, update in rule_updates:
            self.recorder.count("belief_change", self.rules.apply(group, update))
        self.mail.deliver(deliver_now)
        self.log.flush()
        self.scenario.after_step(self)  # probes: what they set is part of the step's state
        self.log.flush()
        self._record_state()
        if self.scenario.done(self):
            self.running = False

    def _activate(self) -> np.ndarray:
        agents = self.cfg.agents
        n = self.n_agents
        if agents.activation == "all":
            return self.present.copy()
        draws = self._activation_rng.random(n)
        if agents.activation == "fraction":
            return self.present & (draws < agents.activation_fraction)
        return self.present & (draws < 1.0 - np.exp(-self.activity_rates))

    # --- outputs ----------------------------------------------------------------------------
    def _record_state(self) -> None:
        self.recorder.snapshot(self.steps, self.time, self.beliefs.measured())
        self.datacollector.collect(self)

    def agents_table(self) -> pd.DataFrame:
        """Long table: one row per step x agent x claim with the credence after that step."""
        return self.recorder.agents_table(self.n_agents, [c.id for c in self.beliefs.claims])

    def credence_source(self) -> SnapshotCredences:
        """The agents table's source: the credence snapshots so far, without the table."""
        return self.recorder.credences(self.n_agents, [c.id for c in self.beliefs.claims])

    def record(self) -> RunData:
        """The run's record so far (events, agents, steps, personas, network, config).

        The same :class:`~socialsim.core.rundata.RunData` the runner writes to a run
        directory, so every ``socialsim.analysis`` measure takes it.
        """
        from socialsim.simulation.record import build_record

        if not self.log.closed:
            self.log.flush()
        return build_record(self)

    def close(self) -> None:
        """Flush and close the log and the model clients."""
        self.log.close()
        for group in self.groups:
            group.close()

    def __enter__(self) -> SocialModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["AllCallsFailed", "Names", "SocialModel", "fewer_collections"]
