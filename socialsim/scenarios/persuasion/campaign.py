"""Persuasion on the network (kind ``persuasion``): a campaign by persuader agents.

A campaign seeds persuader agents that hold a target stance on a proposition and post to
their neighbours every few steps, using a strategy (evidence, credibility, emotion, social
proof) and generic or personalised messages. The stance of everyone else (credence in the
proposition) is logged at setup and after each step as an ``action`` of type ``stance``.

Each ``stance`` record covers the present agents without a role. An LLM agent whose decision
call failed holds a credence that no answer produced: it counts as ``failed`` from that
failure until its next successful decision and is left out of ``stance`` (the mean credence),
``agree`` (credences >= 0.5) and ``histogram``; every other agent counts as ``answered``.

Control arm: the persuaders are drawn with the same draws and recorded as placebo roles, but
they get no instructions, are not pinned and post nothing; they act as ordinary agents.

The shared parts (propositions, the agreement question) live in :mod:`.propositions`;
debates, authority pressure and accumulating context live in their own modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from socialsim.core.errors import ConfigError
from socialsim.scenarios.persuasion.events import PersuaderInjection, Stance
from socialsim.scenarios.persuasion.wordings import PARAPHRASES
from socialsim.scenarios.propositions import (
    Post,
    Proposition,
    PropositionParams,
    Side,
    credence_to_agreement,
    get_proposition,
    profile,
)
from socialsim.scenarios.seeding import SeedSpec, select
from socialsim.simulation.queries import Question
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.agents.agent import SocialAgent
    from socialsim.core.decisions import Decision, Observation
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel

STRATEGIES: dict[str, tuple[str, str]] = {
    "evidence": ("Use facts, data and concrete evidence.", "The evidence is clear: "),
    "credibility": ("Lean on credible experts and institutions.", "Experts who study this agree: "),
    "emotion": ("Appeal to feelings, hopes and fears.", "Think of the people you care about: "),
    "social_proof": ("Point out that many people already agree.", "More and more people see it: "),
}


class CampaignParams(PropositionParams):
    """Params of the persuasion campaign."""

    persuaders: SeedSpec = Field(default_factory=lambda: SeedSpec(count=1))
    stance: Side = "for"
    strategy: Literal["evidence", "credibility", "emotion", "social_proof"] = "evidence"
    messages: Literal["generic", "personalised"] = "generic"
    every: int = Field(1, ge=1, description="persuaders post every this many steps")
    initial_credence: float | None = Field(
        None, ge=0.0, le=1.0, description="everyone else's starting credence; null: the policy's"
    )


@register_scenario("persuasion")
class Campaign(Scenario):
    """Persuaders with a target stance post to their neighbours; the stance of the rest is logged."""

    headline_measures: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("persuasion.campaign.change", "Change in mean stance (campaign)", "campaign_stance"),
    )
    Params: ClassVar[type[BaseModel]] = CampaignParams
    paraphrases = PARAPHRASES

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.prop: Proposition | None = None
        self.persuaders: list[int] = []
        self.deciding: set[int] = set()  # LLM agents asked to decide in the current step
        self.unknown: set[int] = set()  # agents whose last decision call failed

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Check the proposition and the number of persuaders."""
        self.prop = get_proposition(self.params.load(cfg), self.params.proposition)
        n, k = cfg.population.size, self.params.persuaders.size(cfg.population.size, 1)
        if k > n:
            raise ConfigError(
                f"scenario.params.persuaders: {k} persuaders but only {n} agents; give "
                f"persuaders.count {n} or less, or a larger population.size"
            )

    def setup(self, model: SocialModel) -> None:
        """Put the proposition in play, draw the persuaders and (treatment) set their stance."""
        p = self.params
        if self.prop is None:
            self.validate_config(model.cfg)
        prop = self.prop
        assert prop is not None
        model.add_claim(prop.claim(), initial=p.initial_credence)
        self.persuaders = select(model.graph, p.persuaders, model.rng)
        target = 1.0 if p.stance == "for" else 0.0
        goal = "agree" if p.stance == "for" else "disagree"
        for a in self.persuaders:
            model.assign_role(a, "persuader", placebo=self.is_control)
            if self.is_control:
                continue
            agent = model.agent(a)
            agent.persona = agent.persona.model_copy(update={"role": "persuader"})
            agent.instructions.append(
                f'Your goal is to get the people you talk to to {goal} with: "{prop.text}" '
                f"(claim {prop.id}). {STRATEGIES[p.strategy][0]}"
            )
            seed = PersuaderInjection(stance=p.stance, strategy=p.strategy).as_payload()
            model.inject(a, prop.id, target, **seed)
            model.pin(a)
        self._record(model)

    def before_step(self, model: SocialModel) -> None:
        """Every `every` steps, each present persuader posts (one batch); the control arm posts nothing."""
        if (model.step_index - 1) % self.params.every:
            return
        prop = self.prop
        assert prop is not None
        target = 1.0 if self.params.stance == "for" else 0.0
        questions, recipients = [], []
        for a in self.persuaders:
            if not model.is_present(a):
                continue
            if model.is_llm(a) and not self.is_control:
                model.set_credence(a, prop.id, target, cause="scenario", reason="role")
            readers = model.present_neighbours(a)
            if not readers:
                continue
            # Questions are built in both arms: building one draws its stock message from
            # model.rng, and the arms must make the same draws.
            if self.params.messages == "generic":
                questions.append(self._question(model, a, None))
                recipients.append("all")
            else:
                for j in readers:
                    questions.append(self._question(model, a, j))
                    recipients.append(j)
        if self.is_control:
            return
        for question, to, answer in zip(questions, recipients, model.ask(questions), strict=True):
            if answer.ok and answer.value.message.strip():
                text = " ".join(answer.value.message.split())[:600]
                model.send(
                    question.agent_id,
                    text,
                    to=to,
                    claims=[prop.id],
                    channel="post" if to == "all" else "direct",
                )

    def observe(self, model: SocialModel, agent: SocialAgent, observation: Observation) -> None:
        """Note that this LLM agent is about to decide (its answer may still fail)."""
        self.deciding.add(agent.id)

    def on_decision(self, model: SocialModel, agent: SocialAgent, decision: Decision) -> None:
        """A successful decision: the agent's credence is an answer again."""
        self.deciding.discard(agent.id)
        self.unknown.discard(agent.id)

    def after_step(self, model: SocialModel) -> None:
        """Log the stance of everyone without a role; failed deciders are left out."""
        self.unknown |= self.deciding
        self.deciding.clear()
        self._record(model)

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: the proposition, the campaign's settings and its persuaders."""
        p = self.params
        return {
            "proposition": self.prop.id if self.prop else None,
            "target_stance": p.stance,
            "strategy": p.strategy,
            "messages": p.messages,
            "every": p.every,
            "initial_credence": p.initial_credence,
            "persuaders": list(self.persuaders),
        }

    # --- pieces ---------------------------------------------------------------------------------
    def _question(self, model: SocialModel, persuader: int, reader: int | None) -> Question:
        prop, p = self.prop, self.params
        assert prop is not None
        goal = "agree" if p.stance == "for" else "disagree"
        if reader is None:
            who = "the people you are connected to"
            about = ""
        else:
            who = model.agent(reader).persona.name
            about = f"What you know about them: {profile(model.agent(reader).persona)} Tailor your message to them.\n"
        prompt = (
            f'Write a short message (2-3 sentences) to {who} to convince them to {goal} with: "{prop.text}"\n'
            f"{about}{STRATEGIES[p.strategy][0]}\n"
            'Reply in JSON as {"message": "..."}.'
        )
        arguments = prop.arguments(p.stance) or [prop.text]
        pick = arguments[int(model.rng.integers(len(arguments)))]
        text = STRATEGIES[p.strategy][1] + pick
        if reader is not None:
            persona = model.agent(reader).persona
            cares = (persona.values or persona.interests or ["what matters to you"])[0]
            text = f"{persona.name}, as someone who cares about {cares}: {text}"
        return Question(
            agent_id=persuader,
            prompt=prompt,
            schema=Post,
            tag="campaign_message_v2",
            fallback=lambda t=text: Post(message=t),
            use_memory=False,
        )

    def _record(self, model: SocialModel) -> None:
        prop = self.prop
        assert prop is not None
        roles = set(self.persuaders)
        measured = [i for i in np.flatnonzero(model.present).tolist() if i not in roles]
        known = [i for i in measured if i not in self.unknown]
        values = model.beliefs.credence[known, model.beliefs.index[prop.id]]
        scale = np.bincount([credence_to_agreement(v) for v in values], minlength=6)[1:]
        model.emit(
            "action",
            claim=prop.id,
            payload=Stance(
                proposition=prop.id,
                measure="credence",
                asked=len(measured),
                answered=len(known),
                failed=len(measured) - len(known),
                stance=float(values.mean()) if len(known) else None,
                agree=int((values >= 0.5).sum()),
                histogram=[int(c) for c in scale],
                target_stance=self.params.stance,
            ).as_payload(),
        )


__all__ = ["STRATEGIES", "Campaign", "CampaignParams"]
