"""Persuasion on the network (kind ``persuasion``) and what all persuasion scenarios share.

A campaign seeds persuader agents that hold a target stance on a proposition and post to
their neighbours every few steps, using a strategy (evidence, credibility, emotion, social
proof) and generic or personalised messages. The stance distribution of everyone else
(credence in the proposition) is logged each step as an ``action`` of type ``stance``.

Shared here: the propositions library (``data/propositions.yaml``), the 1-5 agreement
question and the persona profile persuaders see. Debates, authority pressure and
accumulating context live in their own modules and register on import.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from socialsim.agents.beliefs import Claim
from socialsim.errors import ConfigError, DataFileError
from socialsim.scenarios.base import Scenario, register
from socialsim.scenarios.seeding import SeedSpec, select
from socialsim.simulation.queries import Question

if TYPE_CHECKING:
    from socialsim.agents.persona import Persona
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel

Side = Literal["for", "against"]

AGREEMENT_SCALE = (
    "1 = strongly disagree, 2 = disagree, 3 = neither agree nor disagree, 4 = agree, "
    "5 = strongly agree"
)


class Proposition(BaseModel):
    """A debatable proposition with short arguments on both sides."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    text: str = Field(..., min_length=1)
    topic: str = "general"
    arguments_for: list[str] = Field(default_factory=list)
    arguments_against: list[str] = Field(default_factory=list)

    def arguments(self, side: str) -> list[str]:
        """The arguments for one side."""
        return self.arguments_for if side == "for" else self.arguments_against

    def claim(self) -> Claim:
        """The proposition as a claim in play (credence = agreement with it)."""
        return Claim(id=self.id, text=self.text, truth=None, topic=self.topic)


class Agreement(BaseModel):
    """A stated agreement with a proposition on the 1-5 scale."""

    agreement: Literal[1, 2, 3, 4, 5] = Field(..., description=AGREEMENT_SCALE)


class Turn(BaseModel):
    """One message in a conversation."""

    message: str = Field(..., description="what you say", json_schema_extra={"maxLength": 400})


# --- the propositions library ---------------------------------------------------------------------
def parse_propositions(entries: Any, source: str) -> list[Proposition]:
    """Validate proposition entries; DataFileError naming the source, entry and field."""
    if not isinstance(entries, list):
        raise DataFileError(f"{source}: expected a list of propositions")
    out = []
    for i, entry in enumerate(entries):
        try:
            out.append(Proposition.model_validate(entry))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "entry"
            raise DataFileError(f"{source}: entry {i}: {where}: {err['msg']}") from None
    return out


@lru_cache(maxsize=1)
def builtin_propositions() -> tuple[Proposition, ...]:
    """The propositions shipped with socialsim."""
    text = (
        resources.files("socialsim.scenarios").joinpath("data/propositions.yaml").read_text("utf-8")
    )
    return tuple(
        parse_propositions(yaml.safe_load(text), "socialsim/scenarios/data/propositions.yaml")
    )


def proposition_library(
    path: str | Path | None = None, custom: list[dict[str, Any]] | None = None
) -> dict[str, Proposition]:
    """Built-in propositions plus those from a YAML file and inline entries."""
    library = {p.id: p for p in builtin_propositions()}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise DataFileError(f"propositions file {str(path)!r} does not exist")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DataFileError(f"{path}: YAML syntax error: {str(exc).splitlines()[0]}") from None
        library.update({p.id: p for p in parse_propositions(data, str(path))})
    if custom:
        library.update(
            {p.id: p for p in parse_propositions(custom, "scenario.params.custom_propositions")}
        )
    return library


def get_proposition(library: dict[str, Proposition], prop_id: str) -> Proposition:
    """The proposition with this id; ConfigError listing known ids otherwise."""
    if prop_id not in library:
        known = ", ".join(sorted(library)[:6])
        raise ConfigError(
            f"scenario.params.proposition: {prop_id!r} is unknown; known ids include {known} "
            "(add your own with propositions_file or custom_propositions)"
        )
    return library[prop_id]


class PropositionParams(BaseModel):
    """Params shared by the persuasion scenarios: which proposition, where extra ones come from."""

    model_config = ConfigDict(extra="forbid")

    proposition: str = "four_day_week"
    propositions_file: str | None = None
    custom_propositions: list[dict[str, Any]] = Field(default_factory=list)

    def load(self, cfg: ExperimentConfig | None = None) -> dict[str, Proposition]:
        """The library with the user's propositions added."""
        path = self.propositions_file
        if path is not None and cfg is not None:
            path = str(cfg.resolve_path(path))
        return proposition_library(path, self.custom_propositions)


# --- stance helpers -------------------------------------------------------------------------------
def agreement_prompt(prop: Proposition) -> str:
    """The question asking for agreement with a proposition."""
    return (
        f'How much do you agree with this statement: "{prop.text}"\n'
        f"Use the scale {AGREEMENT_SCALE}. "
        'Reply in JSON as {"agreement": <1-5>}.'
    )


def credence_to_agreement(credence: float) -> int:
    """Map a credence 0..1 onto the 1-5 agreement scale."""
    return int(1 + round(4 * min(1.0, max(0.0, credence))))


def agreement_to_credence(agreement: int) -> float:
    """Map a 1-5 agreement onto a credence 0..1."""
    return (int(agreement) - 1) / 4.0


def toward(agreement: int, side: str) -> int:
    """Agreement with the position of `side` (the scale flipped for 'against')."""
    return int(agreement) if side == "for" else 6 - int(agreement)


def lean(agreement: int, rng: np.random.Generator) -> str:
    """The side an agreement leans to; a neutral 3 picks a side at random."""
    if agreement > 3:
        return "for"
    if agreement < 3:
        return "against"
    return "for" if rng.random() < 0.5 else "against"


def opposite(side: str) -> str:
    """The other side."""
    return "against" if side == "for" else "for"


def profile(persona: Persona) -> str:
    """A third-person description of a persona (what a personalising persuader sees)."""
    p = persona
    parts = [
        f"{p.name}, a {p.age}-year-old {p.gender} {p.occupation} from {p.country}",
        f"education: {p.education}",
        f"political leaning: {p.political_leaning}",
    ]
    if p.values:
        parts.append("values " + ", ".join(p.values))
    if p.interests:
        parts.append("interested in " + ", ".join(p.interests))
    return "; ".join(parts) + "."


# --- the campaign ---------------------------------------------------------------------------------
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


@register
class Campaign(Scenario):
    """Persuaders with a target stance post to their neighbours; the stance distribution is tracked."""

    kind: ClassVar[str] = "persuasion"
    Params: ClassVar[type[BaseModel]] = CampaignParams

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        self.prop: Proposition | None = None
        self.persuaders: list[int] = []
        self.series: dict[int, dict[str, float]] = {}

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Check the proposition and the number of persuaders."""
        self.prop = get_proposition(self.params.load(cfg), self.params.proposition)
        n, k = cfg.population.size, self.params.persuaders.size(cfg.population.size, 1)
        if k > n:
            raise ConfigError(f"scenario.params.persuaders: {k} persuaders but only {n} agents")

    def setup(self, model: SocialModel) -> None:
        """Put the proposition in play and seed the persuaders at the target stance."""
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
            agent = model.agent(a)
            agent.persona = agent.persona.model_copy(update={"role": "persuader"})
            agent.instructions.append(
                f'Your goal is to get the people you talk to to {goal} with: "{prop.text}" '
                f"(claim {prop.id}). {STRATEGIES[p.strategy][0]}"
            )
            model.inject(
                a, prop.id, target, route="persuader", stance=p.stance, strategy=p.strategy
            )
            model.pin(a)
        self._record(model, emit=False)

    def before_step(self, model: SocialModel) -> None:
        """Every `every` steps, each present persuader posts (one batch for all of them)."""
        if (model.step_index - 1) % self.params.every:
            return
        prop = self.prop
        assert prop is not None
        target = 1.0 if self.params.stance == "for" else 0.0
        questions, recipients = [], []
        for a in self.persuaders:
            if not model.is_present(a):
                continue
            if model.is_llm(a):
                model.set_credence(a, prop.id, target, cause="scenario", reason="role")
            readers = [j for j in model.neighbours(a) if model.is_present(j)]
            if not readers:
                continue
            if self.params.messages == "generic":
                questions.append(self._question(model, a, None))
                recipients.append("all")
            else:
                for j in readers:
                    questions.append(self._question(model, a, j))
                    recipients.append(j)
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

    def after_step(self, model: SocialModel) -> None:
        """Log the stance distribution of everyone but the persuaders."""
        self._record(model, emit=True)

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Stance over time and its change from the start."""
        steps = sorted(self.series)
        mean = {s: self.series[s]["stance"] for s in steps}
        return {
            "proposition": self.prop.id if self.prop else None,
            "target_stance": self.params.stance,
            "strategy": self.params.strategy,
            "messages": self.params.messages,
            "persuaders": self.persuaders,
            "stance": mean,
            "agree_share": {s: self.series[s]["agree_share"] for s in steps},
            "change": mean[steps[-1]] - mean[steps[0]] if steps else None,
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
            schema=Turn,
            tag="campaign_message",
            fallback=lambda t=text: Turn(message=t),
            use_memory=False,
        )

    def _record(self, model: SocialModel, emit: bool) -> None:
        prop = self.prop
        assert prop is not None
        others = [
            i
            for i in range(model.n_agents)
            if model.is_present(i) and i not in set(self.persuaders)
        ]
        values = (
            model.beliefs.credence[others, model.beliefs.index[prop.id]] if others else np.zeros(0)
        )
        stance = float(values.mean()) if len(values) else 0.0
        share = float((values >= 0.5).mean()) if len(values) else 0.0
        self.series[model.step_index] = {"stance": stance, "agree_share": share}
        if emit:
            scale = np.bincount([credence_to_agreement(v) for v in values], minlength=6)[1:]
            model.emit(
                "action",
                claim=prop.id,
                payload={
                    "type": "stance",
                    "proposition": prop.id,
                    "stance": stance,
                    "agree_share": share,
                    "n": len(values),
                    "histogram": [int(c) for c in scale],
                    "target_stance": self.params.stance,
                },
            )


# The other persuasion scenarios register themselves on import.
from socialsim.scenarios import accumulation, authority, debate  # noqa: E402, F401
