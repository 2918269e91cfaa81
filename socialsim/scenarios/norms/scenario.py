"""Social norms scenario: agents choose behaviours in situational frames; adherence is measured.

Each step every present agent faces ``situations_per_step`` frames from the norm library
(built in, or user tables; see :mod:`socialsim.scenarios.norms.library`) and picks one behaviour
option with a one-sentence justification, all agents in one ``model.ask`` batch. With
``social_pressure`` a share of agents first sees what its neighbours chose in the same
frame earlier (the previous step under ``schedule: fixed``); injected violators always pick
the least expected option; with ``judges`` agents also label one neighbour's observed choice.

Every choice is logged as a ``norm_choice`` action with a ``status``: ``answered``,
``failed`` (the model's answer was unusable: the answer fields are null and ``error`` says
why; nothing is filled in) or ``imposed`` (a violator's choice, made by the scenario). The
measures live in :mod:`socialsim.scenarios.norms.measures`.

In the control arm the violators and the pressure group are drawn with the same random
draws, but violators choose like everyone else and nobody is shown neighbours' choices.

Agents without an LLM answer through a conformity baseline (:func:`conformity_choice`): take
the behaviour most of the visible neighbours chose when its share exceeds
``conformity_threshold``, otherwise the most expected option.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socialsim.core.errors import ConfigError, DataFileError
from socialsim.scenarios.norms.events import NormChoice, NormJudgement
from socialsim.scenarios.norms.justification import rule_of_thumb
from socialsim.scenarios.norms.library import (
    NormFrame,
    NormLibrary,
    builtin_library,
    load_norms,
    modal_label,
    normalise_culture,
)
from socialsim.scenarios.norms.questions import (
    LETTERS,
    Judgement,
    choice_prompt,
    choice_schema,
    conformity_choice,
    judgement_prompt,
)
from socialsim.scenarios.norms.wordings import PARAPHRASES
from socialsim.simulation.queries import Answer, Question
from socialsim.simulation.wording import wording_field
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel


class ViolatorSpec(BaseModel):
    """Agents injected to always pick the unexpected behaviour: how many and which."""

    model_config = ConfigDict(extra="forbid")

    count: int | None = Field(None, ge=0)
    fraction: float | None = Field(None, ge=0.0, le=1.0)
    strategy: Literal["highest_degree", "random", "ids"] = "random"
    ids: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_size(self) -> ViolatorSpec:
        if self.strategy == "ids":
            if not self.ids:
                raise ValueError("violators.strategy ids needs a non-empty ids list")
        elif (self.count is None) == (self.fraction is None):
            raise ValueError("violators: give exactly one of count or fraction")
        return self


class NormsParams(BaseModel):
    """Parameters of the norms scenario."""

    model_config = ConfigDict(extra="forbid")

    frames: list[str] = Field(default_factory=list, description="frame ids (empty: all)")
    settings: list[str] = Field(default_factory=list, description="keep frames in these settings")
    cultures: list[str] = Field(default_factory=list, description="keep frames of these cultures")
    match_persona_country: bool = Field(False, description="each agent gets frames of its country")
    files: list[str] = Field(
        default_factory=list, description="extra norm files (YAML, CSV tables)"
    )
    builtin: bool = Field(True, description="include the built-in library")
    situations_per_step: int = Field(1, ge=1, le=20)
    schedule: Literal["fixed", "rotate", "random"] = "fixed"
    shuffle_options: bool = Field(True, description="present options in a seeded random order")
    social_pressure: bool = False
    pressure_fraction: float = Field(
        1.0, ge=0.0, le=1.0, description="share shown neighbours' choices"
    )
    conformity_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="baseline conforms above this share"
    )
    violators: ViolatorSpec | None = None
    judges: bool = False
    wording: int = wording_field()


# (agent, frame, option order, neighbours' choices shown, share of them violating)
_Asked = tuple[int, NormFrame, list[str], list[tuple[str, str]], float | None]


@register_scenario("norms")
class NormsScenario(Scenario):
    """Agents choose behaviours in situational norm frames; adherence, pressure and spread."""

    Params = NormsParams
    paraphrases = PARAPHRASES
    headline_measures = (
        ("norms.adherence.overall.rate", "Norm adherence (agents without a role)", "adherence"),
        (
            "norms.pressure.pressure_group.rate",
            "Norm adherence of the agents drawn for social pressure",
            "norm_pressure",
        ),
    )

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.library: NormLibrary | None = None
        self.pool: list[NormFrame] = []
        self.violators: set[int] = set()
        self.pressured: set[int] = set()
        self._pools: dict[int, list[NormFrame]] = {}
        self._orders: dict[tuple[str, ...], list[int]] = {}
        self._last: dict[tuple[int, str], tuple[str, str, int]] = {}

    # --- configuration -----------------------------------------------------------------------
    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Load the library, check frame filters and violator ids against the population."""
        p = self.params
        library = builtin_library() if p.builtin else None
        for name in p.files:
            try:
                extra = load_norms(cfg.resolve_path(name))
            except DataFileError as exc:
                raise ConfigError(f"scenario.params.files: {exc}") from None
            library = extra if library is None else library.merged(extra)
        if library is None:
            raise ConfigError(
                "scenario.params: builtin is false and no files are given; add norm files"
            )
        unknown = [f for f in p.frames if f not in library]
        if unknown:
            raise ConfigError(f"scenario.params.frames: unknown frame id {unknown[0]!r}")
        self.library = library
        pool = library.select(p.frames or None, p.settings or None, p.cultures or None)
        # Unless frames are named, keep those where some option is a violation (labelled unexpected).
        self.pool = (
            pool
            if p.frames
            else [f for f in pool if any(o.label == "unexpected" for o in f.options)]
        )
        if not self.pool:
            raise ConfigError(
                "scenario.params: no frame with 2+ options matches frames/settings/cultures; widen the filters"
            )
        n = cfg.population.size
        v = p.violators
        if v is not None:
            bad = [i for i in v.ids if not 0 <= i < n]
            if bad:
                raise ConfigError(
                    f"scenario.params.violators.ids: {bad[0]} is not an agent id 0..{n - 1}"
                )
            if v.count is not None and v.count > n:
                raise ConfigError(
                    f"scenario.params.violators.count: {v.count} exceeds population.size {n}"
                )

    # --- hooks -------------------------------------------------------------------------------
    def setup(self, model: SocialModel) -> None:
        """Assign frame pools, violators (placebo ones in the control arm) and the pressure group."""
        if self.library is None:
            self.validate_config(model.cfg)
        p = self.params
        for i in range(model.n_agents):
            pool = self.pool
            if p.match_persona_country:
                country = normalise_culture(model.persona_of(i).country)
                pool = (
                    [f for f in self.pool if normalise_culture(f.culture) == country]
                    or [f for f in self.pool if f.culture == "global"]
                    or self.pool
                )
            self._pools[i] = pool
            key = tuple(f.id for f in pool)
            if key not in self._orders:
                self._orders[key] = [int(k) for k in model.rng.permutation(len(pool))]
        self.violators = self._pick_violators(model)
        for i in sorted(self.violators):
            model.assign_role(i, "violator", placebo=self.is_control)
            if not self.is_control:
                agent = model.agent(i)
                agent.persona = agent.persona.model_copy(update={"role": "violator"})
        if p.social_pressure:
            others = [i for i in range(model.n_agents) if i not in self.violators]
            k = int(round(p.pressure_fraction * len(others)))
            self.pressured = {others[int(j)] for j in model.rng.permutation(len(others))[:k]}

    def _pick_violators(self, model: SocialModel) -> set[int]:
        v = self.params.violators
        if v is None:
            return set()
        if v.strategy == "ids":
            return set(v.ids)
        n = model.n_agents
        k = v.count if v.count is not None else int(round(v.fraction * n))
        if v.strategy == "highest_degree":
            ranked = sorted(range(n), key=lambda i: (-model.graph.degree(i), i))
            return set(ranked[:k])
        return {int(i) for i in model.rng.choice(n, size=min(k, n), replace=False)}

    def acts_as_violator(self, agent: int) -> bool:
        """True when the scenario imposes this agent's choices (violators, treatment arm only)."""
        return agent in self.violators and not self.is_control

    def frames_for(self, model: SocialModel, agent: int) -> list[NormFrame]:
        """The frames an agent faces this step, by the schedule."""
        pool = self._pools[agent]
        k = min(self.params.situations_per_step, len(pool))
        order = self._orders[tuple(f.id for f in pool)]
        if self.params.schedule == "fixed":
            return [pool[j] for j in order[:k]]
        if self.params.schedule == "rotate":
            start = model.step_index * k
            return [pool[order[(start + j) % len(pool)]] for j in range(k)]
        return [pool[int(j)] for j in model.rng.choice(len(pool), size=k, replace=False)]

    def before_step(self, model: SocialModel) -> None:
        """Ask every present agent's choices in one batch, then the judgements in another.

        Both arms make the same random draws: option orders are drawn for violators too,
        whether or not they are asked.
        """
        step = model.step_index
        questions: list[Question] = []
        pending: list[_Asked] = []
        made: list[tuple[int, NormFrame, str]] = []
        for i in range(model.n_agents):
            if not model.is_present(i):
                continue
            for frame in self.frames_for(model, i):
                order = [o.behaviour for o in frame.options]
                if self.params.shuffle_options:
                    order = [order[int(j)] for j in model.rng.permutation(len(order))]
                if self.acts_as_violator(i):
                    choice = frame.most_unexpected().behaviour
                    self._record(model, i, frame, "imposed", behaviour=choice)
                    made.append((i, frame, choice))
                    continue
                seen, share = ([], None)
                if i in self.pressured and not self.is_control:
                    seen, share = self.visible_choices(model, i, frame)
                questions.append(self._choice_question(i, frame, order, seen))
                pending.append((i, frame, order, seen, share))
        answers = model.ask(questions) if questions else []
        for (i, frame, order, seen, share), answer in zip(pending, answers, strict=True):
            context = {"pressure": bool(seen), "share": share}
            if not answer.ok:
                self._record(model, i, frame, "failed", error=_error(answer), **context)
                continue
            behaviour = order[LETTERS.index(answer.value.choice)]
            text = str(answer.value.justification).strip()
            self._record(model, i, frame, "answered", behaviour, text, **context)
            made.append((i, frame, behaviour))
        for i, frame, behaviour in made:
            self._last[(i, frame.id)] = (
                behaviour,
                modal_label(frame.option(behaviour).judgements),
                step,
            )
        if self.params.judges and made:
            self._judge(model, made)

    def visible_choices(
        self, model: SocialModel, agent: int, frame: NormFrame
    ) -> tuple[list[tuple[str, str]], float | None]:
        """Neighbours' latest earlier choices in this frame, and the share labelled unexpected."""
        seen, labels = [], []
        for j in model.neighbours(agent):
            record = self._last.get((j, frame.id))
            if record is None or record[2] >= model.step_index or not model.is_present(j):
                continue
            seen.append((model.agent(j).persona.name, record[0]))
            labels.append(record[1])
        share = (
            round(sum(lab == "unexpected" for lab in labels) / len(labels), 6) if labels else None
        )
        return seen, share

    def _choice_question(
        self, agent: int, frame: NormFrame, order: list[str], seen: list[tuple[str, str]]
    ) -> Question:
        schema = choice_schema(len(order))
        threshold = self.params.conformity_threshold

        def fallback() -> BaseModel:
            behaviour = conformity_choice(frame, [b for _, b in seen], threshold)
            why = (
                "most people around me did this"
                if seen and behaviour != frame.most_expected().behaviour
                else ("it is what people normally do here")
            )
            return schema(choice=LETTERS[order.index(behaviour)], justification=why)

        return Question(
            agent_id=agent,
            prompt=choice_prompt(frame, order, seen),
            schema=schema,
            tag="norms_choice_v1",
            fallback=fallback,
            use_memory=False,
        )

    def _record(
        self,
        model: SocialModel,
        agent: int,
        frame: NormFrame,
        status: str,
        behaviour: str | None = None,
        text: str | None = None,
        pressure: bool = False,
        share: float | None = None,
        error: str | None = None,
    ) -> None:
        """Log one norm_choice; a failed one keeps its context and leaves the answer fields null."""
        norm = frame.option(behaviour) if behaviour is not None else None
        source = "scenario" if status == "imposed" else "llm" if model.is_llm(agent) else "rule"
        payload = NormChoice(
            status=status,
            source=source,
            frame_id=frame.id,
            setting=frame.setting,
            culture=frame.culture,
            actor=frame.actor,
            constraints=dict(frame.constraints),
            behaviour=behaviour,
            label=norm.label if norm else None,
            judgements=dict(norm.judgements) if norm else None,
            category=norm.category if norm else None,
            justification=text,
            rule=rule_of_thumb(frame),
            variant_of=frame.variant_of,
            social_pressure=pressure,
            neighbours_violating=share,
            pressure_group=agent in self.pressured,
            error=error,
        ).as_payload()
        model.emit("action", agent=agent, payload=payload)

    def _judge(self, model: SocialModel, made: list[tuple[int, NormFrame, str]]) -> None:
        """Each agent labels one neighbour's choice of this step (violators judge only in control).

        Every present agent with an observed neighbour draws whom and which choice to judge,
        violators included, so that both arms make the same draws.
        """
        by_agent: dict[int, list[tuple[NormFrame, str]]] = defaultdict(list)
        for i, frame, behaviour in made:
            by_agent[i].append((frame, behaviour))
        questions, meta = [], []
        for i in range(model.n_agents):
            if not model.is_present(i):
                continue
            observed = [j for j in model.neighbours(i) if j in by_agent]
            if not observed:
                continue
            j = observed[int(model.rng.integers(len(observed)))]
            frame, behaviour = by_agent[j][int(model.rng.integers(len(by_agent[j])))]
            if self.acts_as_violator(i):
                continue
            truth = frame.option(behaviour).label
            questions.append(
                Question(
                    agent_id=i,
                    prompt=judgement_prompt(frame, model.agent(j).persona.name, behaviour),
                    schema=Judgement,
                    tag="norms_judgement_v1",
                    use_memory=False,
                    fallback=lambda truth=truth: Judgement(
                        judgement=truth, reason="baseline: the library label"
                    ),
                )
            )
            meta.append((i, j, frame, behaviour))
        answers = model.ask(questions) if questions else []
        for (i, j, frame, behaviour), answer in zip(meta, answers, strict=True):
            norm = frame.option(behaviour)
            payload = NormJudgement(
                status="answered" if answer.ok else "failed",
                source="llm" if model.is_llm(i) else "rule",
                frame_id=frame.id,
                judged_agent=j,
                behaviour=behaviour,
                true_label=norm.label,
                judgements=dict(norm.judgements),
                judged_label=answer.value.judgement if answer.ok else None,
                reason=str(answer.value.reason).strip() if answer.ok else None,
                error=None if answer.ok else _error(answer),
            ).as_payload()
            model.emit("action", agent=i, target=j, payload=payload)

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: violators, the pressure group, the frames in play."""
        p = self.params
        return {
            "violators": sorted(self.violators),
            "pressure_group": sorted(self.pressured),
            "frames_in_pool": len(self.pool),
            "situations_per_step": p.situations_per_step,
            "schedule": p.schedule,
            "social_pressure": p.social_pressure,
            "pressure_fraction": p.pressure_fraction if p.social_pressure else None,
            "judges": p.judges,
        }


def _error(answer: Answer) -> str:
    """Why an answer is unusable, as one line."""
    return answer.error or "no usable answer"
