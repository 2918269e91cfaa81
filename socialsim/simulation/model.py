"""SocialModel: the population on its network and the step loop.

One step: scenario.before_step -> observe active agents -> decide in ONE batch (LLM requests
concurrent; rule policies vectorised) -> apply in a seeded order -> deliver messages ->
flush the log and collect data -> scenario.after_step.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network

from socialsim.agents.agent import SocialAgent
from socialsim.agents.beliefs import BeliefChange, BeliefStore, Claim
from socialsim.agents.persona import Persona, PersonaStore
from socialsim.agents.policies.base import Decision, Observation, RuleContext
from socialsim.agents.population import Population, assignment_order, field_values, placed
from socialsim.agents.sampling import SampledPersonas
from socialsim.errors import SocialsimError
from socialsim.scenarios.base import Scenario, create_scenario
from socialsim.simulation.config import ExperimentConfig
from socialsim.simulation.log import InteractionLog
from socialsim.simulation.messages import Mailroom, Message
from socialsim.simulation.network import build_network, listen_csr
from socialsim.simulation.policies import PolicyGroup, build_policy_groups
from socialsim.simulation.queries import Answer, Question


def _claim(spec: dict[str, Any]) -> Claim:
    from pydantic import ValidationError

    from socialsim.errors import ConfigError

    try:
        return Claim.model_validate(spec)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"claims: entry {spec!r}: {loc}: {err['msg']}") from None


@contextmanager
def fewer_collections(first: int = 20_000) -> Iterator[None]:
    """Run the cyclic garbage collector less often for a while (its thresholds restored after).

    A step allocates some hundred tracked objects per LLM decision (requests, answers,
    observations) that live until the step ends; with the default first threshold (700)
    they are swept into older generations and full collections follow, costing about a
    tenth of an LLM step's time. Reference counting still frees everything at once.
    """
    old = gc.get_threshold()
    if not gc.isenabled() or old[0] >= first:
        yield
        return
    gc.set_threshold(first, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


class Names:
    """Agent names by id (a list, not a dict: 100,000 agents); negative ids are public posts."""

    __slots__ = ("_names", "_public")

    def __init__(self, names: list[str], public: str) -> None:
        self._names = names
        self._public = public

    def __getitem__(self, agent_id: int) -> str:
        if agent_id < 0:
            return self._public
        return self._names[agent_id]

    def get(self, agent_id: int, default: str | None = None) -> str | None:
        """The name, or `default` for an id past the last agent."""
        return self[agent_id] if agent_id < len(self._names) else default

    def __len__(self) -> int:
        return len(self._names)


class AllCallsFailed(SocialsimError):
    """Every model call of a step failed: the run stops (its log is kept)."""


class SocialModel(mesa.Model):
    """A population of SocialAgents on a network, driven step by step (or by the event clock)."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        run_dir: str | Path,
        *,
        run_id: str | None = None,
        clients: dict | None = None,
        reporters: dict[str, Callable[[SocialModel], Any]] | None = None,
    ) -> None:
        super().__init__(seed=cfg.seed)
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        arm = "-control" if cfg.scenario.arm == "control" else ""
        self.run_id = run_id or f"{cfg.name}-s{cfg.seed}{arm}"
        self.step_index = 0
        self.time = 0.0
        self.log = InteractionLog(
            self.run_dir / "events.jsonl", self.run_id, durable=cfg.output.durable
        )
        self.mail = Mailroom()
        self.scenario: Scenario = create_scenario(
            cfg.scenario.kind, cfg.scenario.params, arm=cfg.scenario.arm
        )
        # Activation and the rule updates have generators of their own, so that a treatment
        # arm and its control arm (whose scenarios draw differently) activate the same agents
        # and make the same rule draws at every step.
        self._activation_rng = np.random.default_rng(self._subseed("activation"))
        self._rule_rng = np.random.default_rng(self._subseed("rules"))
        self.roles: dict[int, str] = {}
        self.scenario.validate_config(cfg)

        n = cfg.population.size
        base_dir = getattr(cfg, "_base_dir", None)
        self.network_arrays = build_network(
            cfg.network.kind,
            n,
            cfg.network.params,
            seed=self._subseed("network"),
            directed=cfg.network.directed,
            base_dir=base_dir,
        )
        population = Population.from_config(n, cfg.population.personas, self.rng, base_dir=base_dir)
        order = assignment_order(
            population.personas, self.network_arrays, cfg.population.assign, self.rng
        )
        self.indptr, self.indices = listen_csr(self.network_arrays)
        self._network: Network | None = None
        self.groups: list[PolicyGroup] = build_policy_groups(
            cfg, self.rng, clients=clients, decision_fields=self.scenario.decision_fields()
        )
        self.policy_of = np.empty(n, dtype=np.int16)
        membership = self._assign_groups(n)
        source = population.personas
        names, rates, stubbornness = (
            [values[i] for i in order]
            for values in (
                field_values(source, f) for f in ("name", "activity_rate", "stubbornness")
            )
        )
        self.names = Names(names, public="a public post")
        self.activity_rates = np.asarray(rates, dtype=float)
        self.stubbornness = np.asarray(stubbornness, dtype=float)
        self.personas: PersonaStore | SampledPersonas = (
            source.take(order)  # compact columns are the store
            if isinstance(source, SampledPersonas)
            else PersonaStore(placed(source, order))
        )
        del population, source, order
        self.policy_of[:] = membership
        self._by_id: list[SocialAgent | None] = [None] * n
        self.present = np.ones(n, dtype=bool)
        self._llm_mask = np.array([self.groups[g].is_llm for g in membership], dtype=bool)
        self.beliefs = BeliefStore(n)
        self._rules_ready = False
        for spec in cfg.claims:
            self.add_claim(_claim(spec))
        self._snapshots: list[tuple[int, float, np.ndarray]] = []
        self._step_stats: dict[str, int] = {}
        self.llm_totals = {
            "calls": 0,
            "cached": 0,
            "errors": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
        }
        self.scenario.setup(self)
        if not self.beliefs.claims:
            self.add_claim(
                Claim(id="c1", text="The proposition under discussion is true.", topic="general")
            )
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters(reporters))
        self.log.flush()
        self._snapshot()
        self.datacollector.collect(self)

    # --- construction helpers ---------------------------------------------------------------
    def _subseed(self, label: str) -> int:
        digest = hashlib.sha256(f"{self.cfg.seed}:{label}".encode()).digest()
        return int.from_bytes(digest[:4], "little")

    def _assign_groups(self, n: int) -> np.ndarray:
        membership = np.zeros(n, dtype=np.int64)
        order = self.rng.permutation(n)
        start = 0
        for g, group in enumerate(self.groups[1:], start=1):
            count = int(round(group.fraction * n))
            membership[order[start : start + count]] = g
            start += count
        return membership

    def _reporters(self, extra: dict | None) -> dict[str, Callable]:
        def believers(col: int) -> Callable:
            def share(m: SocialModel) -> float:
                rows = m.beliefs.credence[m.present, col]
                return float((rows >= 0.5).mean()) if len(rows) else 0.0

            return share

        def mean(col: int) -> Callable:
            def average(m: SocialModel) -> float:
                rows = m.beliefs.credence[m.present, col]
                return float(rows.mean()) if len(rows) else 0.0

            return average

        reporters: dict[str, Callable] = {
            "time": lambda m: m.time,
            "present": lambda m: int(m.present.sum()),
            "active": lambda m: m._step_stats.get("active", 0),
            "messages": lambda m: m._step_stats.get("message", 0),
            "belief_changes": lambda m: m._step_stats.get("belief_change", 0),
            "llm_calls": lambda m: m._step_stats.get("llm_call", 0),
            "errors": lambda m: m._step_stats.get("error", 0),
        }
        for col, claim in enumerate(self.beliefs.claims):
            reporters[f"believers.{claim.id}"] = believers(col)
            reporters[f"mean_credence.{claim.id}"] = mean(col)
        reporters.update(extra or {})
        return reporters

    # --- public API for scenarios -----------------------------------------------------------
    @property
    def graph(self) -> nx.Graph:
        """The network as a networkx graph (built on first use; rule runs rarely need it)."""
        return self.network_arrays.graph

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
            agent.cell = self.network[agent_id]
        return agent

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
    def network(self) -> Network:
        """The graph as a mesa ``discrete_space.Network`` (built on first use)."""
        if self._network is None:
            self._network = Network(self.graph, random=self.random)
        return self._network

    def persona_of(self, agent_id: int) -> Persona:
        """The agent's persona as it stands (without creating the agent)."""
        agent = self._by_id[agent_id]
        return agent.persona_snapshot() if agent is not None else self.personas.get(agent_id)

    def neighbours(self, agent_id: int) -> list[int]:
        """Agents this agent listens to and talks to (its graph neighbours)."""
        return [int(j) for j in self.indices[self.indptr[agent_id] : self.indptr[agent_id + 1]]]

    def is_present(self, agent_id: int) -> bool:
        """False once the agent has left the run."""
        return bool(self.present[agent_id])

    def is_llm(self, agent_id: int) -> bool:
        """True when the agent decides through an LLM policy."""
        return bool(self._llm_mask[agent_id])

    def add_claim(self, claim: Claim, initial: float | None = None) -> None:
        """Put a claim in play; initial credences come from each policy's `initial` setting."""
        if claim.id in self.beliefs.index:
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
        if self._rules_ready:
            self._rules_ready = False  # rules re-read state for the new claim

    def emit(self, kind: str, *, agent=None, target=None, claim=None, payload=None) -> None:
        """Log an event at the current step and time."""
        self._step_stats[kind] = self._step_stats.get(kind, 0) + 1
        self.log.emit(
            kind,
            step=self.step_index,
            time=self.time,
            agent=agent,
            target=target,
            claim=claim,
            payload=payload,
        )

    def send(
        self,
        sender: int,
        text: str,
        to: str | int | list[int] = "all",
        claims: list[str] | tuple[str, ...] = (),
        channel: str | None = None,
        reply_to: str | None = None,
    ) -> Message | None:
        """Send a message (logged now, delivered at the end of the step or after the latency)."""
        if to == "all":
            recipients = (
                [j for j in self.neighbours(sender) if self.present[j]]
                if sender >= 0
                else [i for i in range(self.n_agents) if self.present[i]]
            )
            channel = channel or ("post" if sender >= 0 else "broadcast")
        elif isinstance(to, int):
            recipients = [to] if self.present[to] else []
            channel = channel or "direct"
        else:
            recipients = [int(j) for j in to if self.present[j]]
            channel = channel or "post"
        if not recipients:
            return None
        deliver_at = self.time + self.cfg.event.latency if self.cfg.mode == "event" else None
        message = Message(
            id=self.mail.next_id(),
            sender=sender,
            recipients=recipients,
            step=self.step_index,
            time=self.time,
            text=text,
            claims=list(claims),
            reply_to=reply_to,
            channel=channel,
            deliver_at=deliver_at,
        )
        self.mail.send(message)
        self.emit(
            "message",
            agent=sender,
            target=recipients[0] if channel == "direct" else None,
            claim=message.claims[0] if message.claims else None,
            payload={
                "id": message.id,
                "text": text,
                "recipients": recipients,
                "claims": message.claims,
                "reply_to": reply_to,
                "channel": channel,
            },
        )
        return message

    def set_credence(
        self,
        agent: int,
        claim_id: str,
        value: float,
        cause: str,
        ref=None,
        reason: str | None = None,
        source: int | None = None,
    ) -> bool:
        """Set one credence; log a belief_change with its cause if it moved."""
        change = BeliefChange(
            step=self.step_index,
            time=self.time,
            claim=claim_id,
            old=self.beliefs.get(agent, claim_id),
            new=value,
            cause=cause,
            ref=ref,
            reason=reason,
        )
        if not self.beliefs.set(agent, change):
            return False
        self.emit(
            "belief_change",
            agent=agent,
            target=source,
            claim=claim_id,
            payload={
                "old": change.old,
                "new": self.beliefs.get(agent, claim_id),
                "cause": cause,
                "ref": ref,
                "reason": reason,
            },
        )
        return True

    def inject(
        self, agent: int, claim_id: str | None, credence: float | None, route: str, **payload: Any
    ) -> None:
        """Record an injection (attacker, memory poisoning, broadcast, ...) and set a credence."""
        self.emit("injection", agent=agent, claim=claim_id, payload={"route": route, **payload})
        if credence is not None and claim_id is not None:
            self.set_credence(agent, claim_id, credence, cause="injection", ref=route)

    def assign_role(self, agent_id: int, role: str, placebo: bool = False) -> None:
        """Record a scenario role (attacker, guardian, persuader, violator, ...).

        Logs an ``action`` of type ``role``; the analysis leaves every agent with a role out of
        the benign population. ``placebo`` marks the agent that holds the role in the treatment
        arm but acts as an ordinary agent in the control arm, so both arms measure the same
        agents.
        """
        self.roles[int(agent_id)] = role
        self.emit(
            "action",
            agent=int(agent_id),
            payload={"type": "role", "role": role, "placebo": bool(placebo)},
        )

    def remove_agent(self, agent_id: int) -> None:
        """The agent leaves: no more decisions or messages; logs an ``action`` ``removed``.

        What others remember of it stays.
        """
        if not self.present[agent_id]:
            return
        self.present[agent_id] = False
        self.mail.drop_agent(agent_id)
        self.emit(
            "action",
            agent=int(agent_id),
            payload={"type": "removed", "role": self.roles.get(int(agent_id))},
        )

    def ask(self, questions: list[Question]) -> list[Answer]:
        """Answer structured questions in one concurrent batch (LLM agents) or by fallback."""
        answers: list[Answer | None] = [None] * len(questions)
        by_group: dict[int, list[int]] = {}
        for qi, q in enumerate(questions):
            if self.is_llm(q.agent_id):
                by_group.setdefault(int(self.policy_of[q.agent_id]), []).append(qi)
            elif q.fallback is not None:
                answers[qi] = Answer(q, q.fallback(), text="", error=None)
            else:
                answers[qi] = Answer(q, None, error="agent has no LLM and the question no fallback")
        for g, indices in by_group.items():
            group = self.groups[g]
            requests = [group.question_request(self, questions[qi]) for qi in indices]
            results = group.client.run(requests)
            for qi, result in zip(indices, results, strict=True):
                q = questions[qi]
                self._account(q.agent_id, result.record)
                if not result.ok:
                    self.emit(
                        "error",
                        agent=q.agent_id,
                        payload={"where": f"ask:{q.tag}", "message": result.error},
                    )
                answers[qi] = Answer(
                    q, result.value if result.ok else None, result.text, result.error
                )
        return [a for a in answers if a is not None]

    def question_seed(self, agent_id: int, tag: str) -> int:
        """A reproducible seed for one agent's call at this step."""
        digest = hashlib.sha256(
            f"{self.cfg.seed}:{self.step_index}:{agent_id}:{tag}".encode()
        ).digest()
        return int.from_bytes(digest[:4], "little")

    # --- the step loop ----------------------------------------------------------------------
    def step(self) -> None:
        """Advance one step (step mode)."""
        self.step_index += 1
        self.time = float(self.step_index)
        self.run_batch(self._activate(), deliver_now=None)

    def run_batch(self, active: np.ndarray, deliver_now: float | None) -> None:
        """One decision round for the `active` agents (a step, or an event-mode window)."""
        with fewer_collections():
            self._run_batch(active, deliver_now)

    def _run_batch(self, active: np.ndarray, deliver_now: float | None) -> None:
        self._step_stats = {"active": int(active.sum())}
        self.scenario.before_step(self)
        active = active & self.present
        if not self._rules_ready:
            self._setup_rules()
        rule_updates = [
            (group, group.rule.update(self._rule_ctx(g, active)))
            for g, group in enumerate(self.groups)
            if group.rule is not None
        ]
        decisions = self._decide_llm(active)
        order = self.rng.permutation(len(decisions)) if decisions else []
        for k in order:
            agent, decision, read = decisions[k]
            if decision.error is None:
                agent.apply(decision, read)
                self.scenario.on_decision(self, agent, decision)
        for group, update in rule_updates:
            self._apply_rule(group, update)
        self.mail.deliver(deliver_now)
        self.log.flush()
        self._snapshot()
        self.datacollector.collect(self)
        self.scenario.after_step(self)
        self.log.flush()
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

    def _decide_llm(self, active: np.ndarray) -> list[tuple[SocialAgent, Decision, list[str]]]:
        out: list[tuple[SocialAgent, Decision, list[str]]] = []
        calls = failures = 0
        for g, group in enumerate(self.groups):
            if not group.is_llm:
                continue
            ids = np.flatnonzero(active & (self.policy_of == g))
            if not len(ids):
                continue
            agents = [self.agent(int(i)) for i in ids]
            decided = group.policy.decide_each(agents, self._observe)
            for agent, (obs, decision) in zip(agents, decided, strict=True):
                if decision.llm is not None:
                    calls += 1
                    self._account(agent.id, decision.llm)
                if decision.error is not None:
                    failures += 1
                    self.emit(
                        "error",
                        agent=agent.id,
                        payload={"where": "decide", "message": decision.error},
                    )
                out.append((agent, decision, [m.id for m in obs.inbox]))
        if calls and failures == calls:
            self.log.flush()
            first = next(d.error for _, d, _ in out if d.error)
            raise AllCallsFailed(
                f"every model call of step {self.step_index} failed ({calls} calls); first error: {first}"
            )
        return out

    def _observe(self, agent: SocialAgent) -> Observation:
        obs = agent.observe()
        self.scenario.observe(self, agent, obs)
        return obs

    def _account(self, agent_id: int, record: Any) -> None:
        payload = record if isinstance(record, dict) else record.as_payload()
        self.llm_totals["calls"] += 1
        self.llm_totals["cached"] += int(bool(payload.get("cached")))
        self.llm_totals["errors"] += int(payload.get("error") is not None)
        self.llm_totals["prompt_tokens"] += int(payload.get("prompt_tokens") or 0)
        self.llm_totals["completion_tokens"] += int(payload.get("completion_tokens") or 0)
        self.emit("llm_call", agent=agent_id, payload=payload)

    # --- rule policies ----------------------------------------------------------------------
    def _rule_ctx(self, g: int, active: np.ndarray) -> RuleContext:
        group = self.groups[g]
        return RuleContext(
            credence=self.beliefs.credence,
            indptr=self.indptr,
            indices=self.indices,
            members=group.members,
            active=active & group.members,
            rng=self._rule_rng,
            step=self.step_index,
            claim_ids=[c.id for c in self.beliefs.claims],
            present=self.present,
            extra={"stubbornness": self.stubbornness, "pinned": group.pinned},
        )

    def _setup_rules(self) -> None:
        for g, group in enumerate(self.groups):
            group.members = self.policy_of == g
            if group.rule is not None:
                group.rule.setup(self._rule_ctx(g, self.present.copy()))
        self._rules_ready = True

    def _apply_rule(self, group: PolicyGroup, update: Any) -> None:
        if not len(update.agents):
            return
        cred = self.beliefs.credence
        keep = self.present[update.agents] & ~group.pinned[update.agents]
        agents, claims = update.agents[keep], update.claims[keep]
        new, source = np.clip(update.new[keep], 0.0, 1.0), update.source[keep]
        old = cred[agents, claims]
        # Sequential schedules (voter, Deffuant) list a cell once per change, in order: each
        # entry starts from the previous entry's value and the cell ends at its last entry.
        cell = agents * cred.shape[1] + claims
        order = np.argsort(cell, kind="stable")
        again = np.flatnonzero(cell[order][1:] == cell[order][:-1]) + 1
        old[order[again]] = new[order[again - 1]]
        last = np.ones(len(cell), dtype=bool)
        last[order[again - 1]] = False
        cred[agents[last], claims[last]] = new[last]
        self.beliefs.record_bulk(
            self.step_index, self.time, agents, claims, old, new, "rule", source
        )
        claim_ids = [c.id for c in self.beliefs.claims]
        rule = group.name
        self.log.emit_many(
            "belief_change",
            step=self.step_index,
            time=self.time,
            agent=agents,
            target=np.ma.masked_less(source, 0),
            claim=np.asarray(claim_ids, dtype=object)[claims],
            payload={"old": old, "new": new, "cause": "rule", "ref": rule},
        )
        self._step_stats["belief_change"] = self._step_stats.get("belief_change", 0) + len(agents)

    def pin(self, agent_id: int, pinned: bool = True) -> None:
        """Keep an agent's credences fixed against rule updates (attackers, guardians)."""
        for group in self.groups:
            group.pinned[agent_id] = pinned

    # --- outputs ----------------------------------------------------------------------------
    def _snapshot(self) -> None:
        self._snapshots.append((self.step_index, self.time, self.beliefs.credence.copy()))

    def agents_table(self):
        """Long table: one row per step x agent x claim with the credence after that step."""
        import pandas as pd

        frames = []
        claim_ids = np.array([c.id for c in self.beliefs.claims], dtype=object)
        n = self.n_agents
        for step, _time, cred in self._snapshots:
            k = cred.shape[1]
            frames.append(
                pd.DataFrame(
                    {
                        "step": np.full(n * k, step, dtype=np.int64),
                        "agent": np.repeat(np.arange(n), k),
                        "claim": np.tile(claim_ids[:k], n),
                        "credence": cred.reshape(-1),
                    }
                )
            )
        return (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["step", "agent", "claim", "credence"])
        )

    def close(self) -> None:
        """Flush and close the log and the model clients."""
        self.log.close()
        for group in self.groups:
            group.close()
