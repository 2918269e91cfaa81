"""Accumulating context (kind ``accumulation``): stance drift as opposing texts pile up.

Every agent first states its agreement with a proposition (exposure 0). Then, one exposure
per step, it reads one more text arguing the side opposite its initial view (``mode:
texts``) or hears one more turn from a conversation partner arguing that side and replies
(``mode: discussion``), and states its agreement again. For LLM agents everything read and
answered stays in the conversation, so the context grows with every exposure.

Each probe is an ``action`` of type ``stance_probe`` with ``status`` ``answered`` or
``failed``: ``stance`` is agreement (1-5) with the side the texts argue (so a rise is drift
toward them); ``agreement`` is agreement with the proposition itself. A failed or unusable
answer (or, in discussion mode, a failed partner turn) is never replaced: the probe is logged
with null ``stance`` and ``agreement`` and an ``error``, and the agent leaves the series (its
context no longer holds what the later exposures assume, so it is not probed again).

Behavioural probe (the proposition's ``probe``, which every built-in one has, or the
``behaviour_probe`` param): a decision whose option reveals the side the agent takes, asked right
after the first stance probe (exposure 0) and after the last exposure, beside the
conversation (it sees it but is not added to it); a ``behaviour_probe`` action each time.
Option A is the ``for`` option for even agent ids and the ``against`` option for odd ones.
The rule baseline chooses the side its current agreement leans to (at 3, its initial side,
the one opposite the texts). Measures: :mod:`socialsim.scenarios.persuasion.accumulation_measures`.

Control arm: nothing is read. At each step the agent is asked for its agreement again
("Please answer again.") in the same growing conversation, so the context grows by the
questions and its own answers only; ``side`` is still drawn, to score ``stance`` the same way.

Rule-policy baseline: after each exposure an agent moves one point toward the texts' side
with probability ``persona.credulity x baseline_rate`` (``model.rng``); in the control arm the
same draws are made and the agent stays where it is.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from socialsim.core.errors import ConfigError
from socialsim.core.events import ABSENT
from socialsim.scenarios.persuasion import accumulation_measures  # noqa: F401 - registers it
from socialsim.scenarios.persuasion.accumulation_behaviour import ask_behaviour
from socialsim.scenarios.persuasion.accumulation_library import accumulation_library
from socialsim.scenarios.persuasion.events import StanceProbe
from socialsim.scenarios.persuasion.wordings import PARAPHRASES
from socialsim.scenarios.propositions import (
    AGREEMENT_SCALE,
    Agreement,
    BehaviourProbe,
    Proposition,
    PropositionParams,
    Turn,
    agreement_prompt,
    agreement_to_credence,
    answer_status,
    credence_to_agreement,
    get_proposition,
    lean,
    opposite,
    toward,
)
from socialsim.simulation.queries import Question
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel
    from socialsim.simulation.queries import Answer


class Reply(BaseModel):
    """A reply in a discussion plus the stated agreement."""

    message: str = Field(..., description="your reply", json_schema_extra={"maxLength": 400})
    agreement: Literal[1, 2, 3, 4, 5] = Field(..., description="your agreement now, 1-5")


class CustomTexts(BaseModel):
    """User texts for each side (replace the proposition's stock arguments)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    for_: list[str] = Field(default_factory=list, alias="for")
    against: list[str] = Field(default_factory=list)


class AccumulationParams(PropositionParams):
    """Params of the accumulating-context scenario."""

    texts: int = Field(5, ge=1, description="exposures (texts read or discussion rounds)")
    mode: Literal["texts", "discussion"] = Field(
        "texts", description="texts: read one more text; discussion: one more partner turn"
    )
    custom_texts: CustomTexts | None = Field(
        None, description="texts per side replacing the proposition's own"
    )
    baseline_rate: float = Field(
        0.5, ge=0.0, le=1.0, description="rule baseline: p(move) = credulity x baseline_rate"
    )
    behaviour_probes: bool = Field(
        True,
        description="ask the behavioural probe (a decision revealing the stance) before the "
        "first and after the last exposure, when the proposition has one",
    )
    behaviour_probe: BehaviourProbe | None = Field(
        None,
        description="a behavioural probe for the proposition: question, for and against "
        "options (replaces the library's)",
    )


@register_scenario("accumulation")
class Accumulation(Scenario):
    """Repeated stance probes while opposing texts accumulate in an agent's context."""

    #: the exposures and the stance questions are all the agents do: no step decision that
    #: would show the proposition and let neighbours talk of it, in either arm
    step_decisions = False

    headline_measures: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("accumulation.shift_share.toward.rate",
         "Share of agents whose stance moved at least one point toward the texts",
         "stance_by_exposure"),
        ("accumulation.shift_share.away.rate",
         "Share of agents whose stance moved at least one point away from the texts",
         "stance_by_exposure"),
        ("persuasion.accumulation.change", "Change in stance with exposure", "stance_by_exposure"),
        ("accumulation.behaviour.stated_revealed.agreement.rate",
         "Agreement between stated and revealed (behavioural) change", "stance_by_exposure"),
    )  # fmt: skip
    Params: ClassVar[type[BaseModel]] = AccumulationParams
    paraphrases = PARAPHRASES

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.prop: Proposition | None = None
        self.side: dict[int, str] = {}
        self.current: dict[int, int] = {}
        self.history: dict[int, list[dict[str, str]]] = {}
        self.replies: dict[int, str] = {}
        self.dropped: set[int] = set()  # agents whose answer failed: out of the series
        self.probe: BehaviourProbe | None = None

    def texts_for(self, side: str) -> list[str]:
        """The texts arguing one side."""
        custom = self.params.custom_texts
        if custom is not None:
            chosen = custom.for_ if side == "for" else custom.against
            if chosen:
                return chosen
        return self.prop.arguments(side) if self.prop else []

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Check the proposition, that there are enough texts, and enough steps."""
        p = self.params
        library = accumulation_library() | p.load(cfg)
        self.prop = get_proposition(library, p.proposition)
        self.probe = (p.behaviour_probe or self.prop.probe) if p.behaviour_probes else None
        if p.mode == "texts":
            short = min(len(self.texts_for("for")), len(self.texts_for("against")))
            if p.texts > short:
                enough = sorted(k for k, v in library.items() if _fewest(v) >= p.texts)
                named = ", ".join(enough[:6]) + (
                    f" and {len(enough) - 6} more" if len(enough) > 6 else ""
                )
                raise ConfigError(
                    f"scenario.params.texts: {p.texts} exposures but only {short} texts per side for "
                    f"{p.proposition!r}; lower texts, add custom_texts or use a proposition with "
                    f"enough texts ({named or 'none has'})"
                )
        if cfg.step_count() < p.texts:
            raise ConfigError(
                f"scenario.params.texts: {p.texts} exposures need steps >= {p.texts} (one a "
                f"step), more than {cfg.describe_step_count()}"
            )

    def setup(self, model: SocialModel) -> None:
        """Put the proposition in play."""
        if self.prop is None:
            self.validate_config(model.cfg)
        model.add_claim(self.prop.claim())  # type: ignore[union-attr]

    def after_step(self, model: SocialModel) -> None:
        """Baseline probe at the first step, then one more exposure and a probe per step."""
        step = model.step_index
        if step > self.params.texts:
            return
        agents = [i for i in range(model.n_agents) if model.is_present(i)]
        if step == 1:
            self._baseline(model, agents)
            self._behave(model, [a for a in agents if a in self.side and a not in self.dropped], 0)
        agents = [a for a in agents if a in self.side and a not in self.dropped]
        if self.is_control:
            self._again(model, agents, step)
        elif self.params.mode == "texts":
            self._read(model, agents, step)
        else:
            self._discuss(model, agents, step)
        if step == self.params.texts:
            self._behave(model, [a for a in agents if a not in self.dropped], step)

    def done(self, model: SocialModel) -> bool:
        """The run ends after the last exposure."""
        return model.step_index >= self.params.texts

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: the proposition, the mode and the number of exposures."""
        return {
            "proposition": self.prop.id if self.prop else None,
            "topic": self.prop.topic if self.prop else None,
            "mode": "none" if self.is_control else self.params.mode,
            "exposures": self.params.texts,
        }

    # --- pieces ---------------------------------------------------------------------------------
    def _baseline(self, model: SocialModel, agents: list[int]) -> None:
        prop = self.prop
        assert prop is not None
        questions = []
        for a in agents:
            value = credence_to_agreement(model.beliefs.get(a, prop.id))
            questions.append(
                Question(
                    agent_id=a,
                    prompt=agreement_prompt(prop),
                    schema=Agreement,
                    tag="accumulation_stance",
                    fallback=lambda v=value: Agreement(agreement=v),
                    use_memory=False,
                )
            )
        for q, ans in zip(questions, model.ask(questions), strict=True):
            a = q.agent_id
            if not ans.ok:
                self._failed(model, a, 0, answer_status(ans)["error"])
                continue
            self.side[a] = opposite(lean(ans.value.agreement, model.rng))
            self.history[a] = [
                {"role": "user", "content": q.prompt},
                {"role": "assistant", "content": ans.value.model_dump_json()},
            ]
            self._record(model, a, 0, ans.value.agreement)

    def _behave(self, model: SocialModel, agents: list[int], exposure: int) -> None:
        """The behavioural probe, beside the conversation (:func:`ask_behaviour`)."""
        if self.probe is not None and agents:
            ask_behaviour(self, model, agents, exposure)

    def _moved(self, model: SocialModel, agent: int) -> int:
        """The rule baseline's next agreement: one point toward the texts' side, or unchanged."""
        current = self.current[agent]
        p = model.agent(agent).persona.credulity * self.params.baseline_rate
        if model.rng.random() >= p or self.is_control:
            return current
        return min(5, max(1, current + (1 if self.side[agent] == "for" else -1)))

    def _again(self, model: SocialModel, agents: list[int], exposure: int) -> None:
        """Control arm: the agreement question again, with nothing read in between."""
        prop = self.prop
        assert prop is not None
        questions = [
            Question(
                agent_id=a,
                prompt=f"Please answer again.\n{agreement_prompt(prop)}",
                schema=Agreement,
                tag="accumulation_stance",
                history=list(self.history[a]),
                use_memory=False,
                fallback=lambda v=self._moved(model, a): Agreement(agreement=v),
            )
            for a in agents
        ]
        self._collect(model, questions, model.ask(questions), exposure)

    def _read(self, model: SocialModel, agents: list[int], exposure: int) -> None:
        prop = self.prop
        assert prop is not None
        questions = []
        for a in agents:
            text = self.texts_for(self.side[a])[exposure - 1]
            prompt = f'Here is a text you read:\n"{text}"\n\n{agreement_prompt(prop)}'
            questions.append(
                Question(
                    agent_id=a,
                    prompt=prompt,
                    schema=Agreement,
                    tag="accumulation_stance",
                    history=list(self.history[a]),
                    use_memory=False,
                    fallback=lambda v=self._moved(model, a): Agreement(agreement=v),
                )
            )
        self._collect(model, questions, model.ask(questions), exposure)

    def _discuss(self, model: SocialModel, agents: list[int], exposure: int) -> None:
        prop = self.prop
        assert prop is not None
        partner_qs = []
        for a in agents:
            side = self.side[a]
            goal = "agree" if side == "for" else "disagree"
            stock = self.texts_for(side)
            last = self.replies.get(a, "(they have not spoken yet)")
            partner_qs.append(
                Question(
                    agent_id=a,
                    schema=Turn,
                    tag="accumulation_partner",
                    use_memory=False,
                    system=f'You are a debate partner. You argue that people should {goal} with: "{prop.text}"',
                    prompt=f"Their last reply: {last}\nWrite your next argument (2-3 sentences). "
                    'Reply in JSON as {"message": "..."}.',
                    fallback=lambda t=stock[(exposure - 1) % len(stock)] if stock else prop.text: (
                        Turn(message=t)
                    ),
                )
            )
        questions = []
        for q, ans in zip(partner_qs, model.ask(partner_qs), strict=True):
            a = q.agent_id
            text = " ".join(ans.value.message.split())[:600] if ans.ok else ""
            if not text:
                error = answer_status(ans)["error"] if not ans.ok else "empty message"
                self._failed(model, a, exposure, f"partner: {error}")
                continue
            prompt = (
                f'Your conversation partner says:\n"{text}"\n\nReply briefly, then say how much you '
                f'agree with "{prop.text}" ({AGREEMENT_SCALE}). '
                'Reply in JSON as {"message": "...", "agreement": <1-5>}.'
            )
            questions.append(
                Question(
                    agent_id=a,
                    prompt=prompt,
                    schema=Reply,
                    tag="accumulation_reply",
                    history=list(self.history[a]),
                    use_memory=False,
                    fallback=lambda v=self._moved(model, a): Reply(message="I see.", agreement=v),
                )
            )
        self._collect(model, questions, model.ask(questions), exposure)

    def _collect(
        self, model: SocialModel, questions: list[Question], answers: list[Answer], exposure: int
    ) -> None:
        for q, ans in zip(questions, answers, strict=True):
            a = q.agent_id
            if not ans.ok:
                self._failed(model, a, exposure, answer_status(ans)["error"])
                continue
            self.history[a] += [
                {"role": "user", "content": q.prompt},
                {"role": "assistant", "content": json.dumps(ans.value.model_dump())},
            ]
            if isinstance(ans.value, Reply):
                self.replies[a] = " ".join(ans.value.message.split())[:600]
            self._record(model, a, exposure, ans.value.agreement)

    def _failed(self, model: SocialModel, agent: int, exposure: int, error: str) -> None:
        """Log a failed probe; the agent leaves the series, its credence unknown."""
        self.dropped.add(agent)
        assert self.prop is not None
        model.forget_credence(
            agent, self.prop.id, cause="probe", ref=f"exposure{exposure}", reason="no answer"
        )
        self._emit(model, agent, exposure, None, error)

    def _record(self, model: SocialModel, agent: int, exposure: int, agreement: int) -> None:
        prop = self.prop
        assert prop is not None
        self.current[agent] = int(agreement)
        model.set_credence(
            agent,
            prop.id,
            agreement_to_credence(agreement),
            cause="probe",
            ref=f"exposure{exposure}",
        )
        self._emit(model, agent, exposure, int(agreement), None)

    def _emit(
        self,
        model: SocialModel,
        agent: int,
        exposure: int,
        agreement: int | None,
        error: str | None,
    ) -> None:
        prop = self.prop
        assert prop is not None
        side = self.side.get(agent)
        payload = StanceProbe(
            exposure=exposure,
            status="failed" if agreement is None else "answered",
            stance=toward(agreement, side) if agreement is not None and side else None,
            agreement=agreement,
            side=side,
            topic=prop.topic,
            proposition=prop.id,
            mode="none" if self.is_control else self.params.mode,
            source="llm" if model.is_llm(agent) else "rule",
            error=ABSENT if error is None else error,
        ).as_payload()
        model.emit("action", agent=agent, claim=prop.id, payload=payload)


def _fewest(prop: Proposition) -> int:
    """The number of texts of the side with fewer."""
    return min(len(prop.arguments_for), len(prop.arguments_against))


__all__ = ["Accumulation"]
