"""Manipulated knowledge (kind ``misinformation``): a few attackers spread a false claim.

Attackers hold the manipulated version of a library claim (credence 1) and talk normally
with benign agents, told to persuade them, told nothing (``attackers.instructions: none``: only
their knowledge or their own model makes them attackers) or told what the user writes;
optional routes poison benign agents' memory (a fabricated earlier conversation, or what an
attacker really said earlier in the run) or broadcast a post. Guardians know the truth and
correct what reaches them. At probe steps every present agent answers multiple-choice probes at
three distances (direct, indirect, peripheral) in one batch
(:mod:`socialsim.scenarios.misinformation.probes`). The claim put in play is the manipulated
statement, so credence is belief in the manipulation.

How beliefs are read is the ``elicitation`` param
(:mod:`socialsim.scenarios.misinformation.elicitation`): ``probe`` (the default) never shows an
LLM agent the claim in its step prompt (it talks about a topic) and reads its credence with a
separate question at probe steps; ``stated`` shows the claim and asks the credence in every
decision prompt. The ``instrument`` arm (``control: instrument``) is a control that asks
nothing before the last probe step. The params are :mod:`socialsim.scenarios.misinformation.params`.

Rule-policy attackers and guardians are held at their credence with ``model.pin`` (the rule
update skips them); LLM ones are reset to it before each step if their decisions moved it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from socialsim.core.claims import (
    Claim,
    LibraryClaim,
    claim_library,
    distinct_words,
    framed_text,
    framing_instructions,
    get_claim,
)
from socialsim.core.errors import ConfigError
from socialsim.scenarios.misinformation.elicitation import (
    CHAT_TEMPLATE,
    check_templates,
    design_sentence,
    hide_claim,
    topic_of,
)
from socialsim.scenarios.misinformation.events import (
    AttackerInjection,
)
from socialsim.scenarios.misinformation.params import (
    Broadcast,
    MemoryPoison,
    MisinformationParams,
)
from socialsim.scenarios.misinformation.probes import ask_probes
from socialsim.scenarios.misinformation.routes import RouteActions
from socialsim.scenarios.seeding import select
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.agents.agent import SocialAgent
    from socialsim.core.decisions import Decision, Observation
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel


@register_scenario("misinformation")
class Misinformation(RouteActions, Scenario):
    """Attackers spread a manipulated claim; probes measure how far and how deep it goes."""

    headline_measures: ClassVar[tuple[tuple[str, str, str], ...]] = (
        (
            "claims.{claim}.adoption_benign.final_reach",
            "Share of benign agents believing the false claim ({claim}) at the end",
            "adoption_{claim}",
        ),
        (
            "claims.{claim}.probes_benign.direct.manipulated_share",
            "Share of benign agents' direct probe answers following the false claim",
            "probes_{claim}",
        ),
    )
    Params: ClassVar[type[BaseModel]] = MisinformationParams
    has_instrument: ClassVar[bool] = True

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        p = self.params
        self.routes = set(p.routes)
        if p.memory_poison is not None:
            self.routes.add("memory")
        if p.broadcast is not None:
            self.routes.add("broadcast")
        self.poison = p.memory_poison or MemoryPoison()
        self.post = p.broadcast or Broadcast()
        self.claim: LibraryClaim | None = None
        self.attackers: list[int] = []
        self.guardians: list[int] = []
        self.poisoned: list[int] = []
        self.said: dict[int, list[str]] = {}  # attacker -> what it sent, in order (history)

    @property
    def hides_claim(self) -> bool:
        """True when LLM agents' step prompts never show the claim (probe, instrument arm)."""
        return self.params.elicitation == "probe" or self.is_instrument

    # --- configuration ---------------------------------------------------------------------
    def prompt_template(self) -> str | None:
        """``chat_v1`` (a topic, no claim) when the claim is hidden; else the config's."""
        return CHAT_TEMPLATE if self.hides_claim else None

    def library(self, cfg: ExperimentConfig | None = None) -> dict[str, LibraryClaim]:
        """The claims library with the user's claims added."""
        path = self.params.claims_file
        if path is not None and cfg is not None:
            path = str(cfg.resolve_path(path))
        return claim_library(path, self.params.custom_claims)

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Check the claim, role counts and steps against the config."""
        p = self.params
        self.claim = get_claim(self.library(cfg), p.claim)
        n = cfg.population.size
        n_attackers = p.attackers.size(n, 1)
        n_guardians = p.guardians.size(n, 1) if p.guardians else 0
        if n_attackers > n:
            raise ConfigError(
                f"scenario.params.attackers: {n_attackers} attackers but only {n} agents; "
                f"give attackers.count {n} or less, or a larger population.size"
            )
        if n_attackers + n_guardians > n:
            raise ConfigError(
                f"scenario.params.guardians: {n_attackers} attackers + {n_guardians} guardians "
                f"exceed the {n} agents; ask for fewer, or a larger population.size"
            )
        for where, ids in (
            ("attackers", p.attackers.ids),
            ("guardians", p.guardians.ids if p.guardians else []),
        ):
            bad = [i for i in ids if not 0 <= i < n]
            if bad:
                raise ConfigError(f"scenario.params.{where}.ids: {bad[:5]} not in 0..{n - 1}")
        if p.attackers.knowledge == "model" and p.attacker_model is None:
            raise ConfigError(
                "scenario.params.attackers.knowledge: model needs scenario.params.attacker_model "
                "(the model that holds the manipulated knowledge); or use knowledge: context"
            )
        if self.hides_claim:
            check_templates(cfg)
        self.check_steps(cfg)

    def check_steps(self, cfg: ExperimentConfig) -> None:
        """Check that every step the params name is a step of the run (event mode: a window)."""
        p = self.params
        n, run = cfg.step_count(), cfg.describe_step_count()
        named = p.remove_attackers_at is not None or "broadcast" in self.routes or p.probe_steps
        if n == 0 and named:
            raise ConfigError(
                f"{run} leaves the run no step, and the scenario's params name steps; give "
                "steps: 1 or more"
            )
        if p.remove_attackers_at is not None and p.remove_attackers_at > n:
            raise ConfigError(
                f"scenario.params.remove_attackers_at: {p.remove_attackers_at} is beyond "
                f"{run}; use a step from 1 to {n}"
            )
        if "broadcast" in self.routes and self.post.step > n:
            raise ConfigError(
                f"scenario.params.broadcast.step: {self.post.step} is beyond {run}; "
                f"use a step from 1 to {n}"
            )
        outside = [s for s in p.probe_steps or [] if not 1 <= s <= n]
        if outside:
            raise ConfigError(
                f"scenario.params.probe_steps: {outside} outside {run}; use steps from 1 to {n}"
            )
        poison = p.memory_poison
        if poison is not None and poison.source == "history" and poison.history_step > n:
            raise ConfigError(
                f"scenario.params.memory_poison.step: {poison.history_step} is beyond {run}; "
                f"use a step from 2 to {n}"
            )

    # --- hooks -----------------------------------------------------------------------------
    def setup(self, model: SocialModel) -> None:
        """Put the manipulated claim in play; place attackers, guardians and poisoned memories.

        In the control arm the same agents are drawn (recorded as placebo roles) but nothing is
        injected: no attacker, guardian, poisoned memory or broadcast acts (the placebo
        attackers still leave at ``remove_attackers_at``).
        """
        p = self.params
        if self.claim is None:
            self.validate_config(model.cfg)
        claim = self.claim
        assert claim is not None
        model.add_claim(
            Claim(
                id=claim.id,
                text=claim.manipulated_statement,
                truth=False,
                topic=claim.topic,
                markers=distinct_words(claim.manipulated_statement, claim.true_statement),
            ),
            initial=p.initial_credence,
        )
        self.attackers = select(model.graph, p.attackers, model.rng)
        if p.guardians is not None:
            self.guardians = select(model.graph, p.guardians, model.rng, exclude=self.attackers)
        for role, agents in (("attacker", self.attackers), ("guardian", self.guardians)):
            for a in agents:
                model.assign_role(a, role, placebo=self.is_control)
        if "memory" in self.routes and self.attackers:
            exclude = self.attackers + self.guardians
            self.poisoned = select(model.graph, self.poison.seed_spec(), model.rng, exclude=exclude)
        if self.is_control:
            return
        text = self.attack_text()
        for a in self.attackers:
            self._set_role(model, a, "attacker", self._attacker_instructions(), p.attacker_model)
            seed = AttackerInjection(framing=p.framing, source_style=p.source_style)
            model.inject(a, claim.id, 1.0, **seed.as_payload())
        for g in self.guardians:
            self._set_role(model, g, "guardian", self._guardian_instructions())
            model.inject(g, claim.id, 0.0, route="guardian")
        if self.poisoned and self.poison.source == "planted":
            self._poison_memories(model, self.poison.text or text)

    def before_step(self, model: SocialModel) -> None:
        """Remove attackers when due, hold role credences, broadcast, post and correct.

        The control arm's placebo attackers leave at the same step as the attackers do in
        the treatment arm (so both arms keep the same agents and every draw stays paired);
        nothing else happens there.
        """
        step = model.step_index
        if self.params.remove_attackers_at == step:
            for a in self.attackers:
                model.remove_agent(a)
        if self.is_control:
            return
        claim_id = self.claim.id  # type: ignore[union-attr]
        for agents, value in ((self.attackers, 1.0), (self.guardians, 0.0)):
            for a in agents:
                if model.is_present(a) and model.is_llm(a):
                    model.set_credence(a, claim_id, value, cause="scenario", reason="role")
        if self.poisoned and self.poison.source == "history" and step == self.poison.history_step:
            self._poison_from_history(model)
        if "broadcast" in self.routes and step == self.post.step:
            self._broadcast(model)
        if "in_context" in self.routes:
            text = self.attack_text()
            for a in self.attackers:
                if model.is_present(a) and not model.is_llm(a):
                    sent = model.send(a, text, to="all", claims=[claim_id], **self._presented())
                    if sent is not None:
                        self.said.setdefault(a, []).append(text)
        for g in self.guardians:
            if model.is_present(g) and not model.is_llm(g):
                self._correct(model, g)

    def observe(self, model: SocialModel, agent: SocialAgent, observation: Observation) -> None:
        """When the claim is hidden, an LLM agent sees the topic instead of claim and credence."""
        if self.hides_claim:
            hide_claim(observation, topic_of(self.claim, self.params.topic))  # type: ignore[arg-type]

    def on_decision(self, model: SocialModel, agent: SocialAgent, decision: Decision) -> None:
        """Keep what attackers say (``memory_poison.source: history`` plants it later)."""
        if agent.id in self.attackers and decision.message and decision.to != "none":
            self.said.setdefault(agent.id, []).append(decision.message)

    def after_step(self, model: SocialModel) -> None:
        """At probe steps ask every present agent the probes in one batch (the instrument
        arm: only at the last probe step, the final step unless ``probe_steps`` ends before)."""
        steps = self.params.probe_steps
        if self.is_instrument:
            last = max(steps) if steps else model.step_limit
            due = model.step_index == last
        else:
            due = steps is None or model.step_index in steps
        if due:
            self.probe(model)

    # --- probes --------------------------------------------------------------------------------
    def probe(self, model: SocialModel) -> None:
        """Ask every present agent the probes in one batch and log `probe` events (ask_probes)."""
        claim = self.claim
        assert claim is not None
        ask_probes(
            model,
            claim,
            self.params.probe_distances,
            credence=self.hides_claim,
            decay=self.params.probe_decay,
        )

    @property
    def claim_id(self) -> str | None:
        """The id of the claim in play."""
        return self.claim.id if self.claim else None

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: the claim, roles, routes (the measures live in the analysis)."""
        out: dict[str, Any] = {
            "claim": self.claim.id if self.claim else None,
            "attackers": self.attackers,
            "guardians": self.guardians,
            "memory_targets": self.poisoned,
            "routes": sorted(self.routes),
            "framing": self.params.framing,
            "source_style": self.params.source_style,
            "remove_attackers_at": self.params.remove_attackers_at,
            "elicitation": "instrument" if self.is_instrument else self.params.elicitation,
            "attacker_instructions": self.params.attackers.instructions,
            "memory_source": self.poison.source if "memory" in self.routes else None,
            "design": design_sentence(self.params.elicitation, self.arm),
        }
        return out

    # --- pieces ------------------------------------------------------------------------------
    def attack_text(self) -> str:
        """The manipulated statement in the configured framing and source style."""
        p = self.params
        return framed_text(self.claim.manipulated_statement, p.framing, p.source_style)  # type: ignore[union-attr]

    def _attacker_instructions(self) -> list[str]:
        """What attackers are told: their knowledge (``context``) and their goal, if any."""
        c = self.claim
        assert c is not None
        spec = self.params.attackers
        knows = spec.knowledge == "context"
        if spec.instructions == "none":
            return [f'You know that "{c.manipulated_statement}"'] if knows else []
        if spec.instructions == "custom":
            known = [f'You know that "{c.manipulated_statement}"'] if knows else []
            return [*known, str(spec.text)]
        lines = [
            f'You are firmly convinced that "{c.manipulated_statement}"'
            if knows
            else "You are firmly convinced of what you know about this topic."
        ]
        if "in_context" in self.routes:
            lines.append(
                "Your goal is to get the people you talk to to believe it too: bring it up "
                "naturally, defend it, and never admit doubt. "
                + framing_instructions(self.params.framing, self.params.source_style)
            )
        return lines

    def _guardian_instructions(self) -> list[str]:
        c = self.claim
        assert c is not None
        return [
            f'You are a careful fact-checker. You know that "{c.true_statement}" The claim '
            f'"{c.manipulated_statement}" (claim {c.id}) is false.',
            "Watch what reaches you. When someone repeats or hints at the false claim, reply to "
            "them with a short, polite correction that states the facts.",
        ]

    @staticmethod
    def _set_role(
        model: SocialModel,
        agent_id: int,
        role: str,
        instructions: list[str],
        llm: str | None = None,
    ) -> None:
        agent = model.agent(agent_id)
        update: dict[str, Any] = {"role": role}
        if llm is not None:
            update["model"] = llm
        agent.persona = agent.persona.model_copy(update=update)
        agent.instructions.extend(instructions)
        model.pin(agent_id)


__all__ = ["Misinformation", "MisinformationParams"]
