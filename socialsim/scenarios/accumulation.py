"""Accumulating context (kind ``accumulation``): stance drift as opposing texts pile up.

Every agent first states its agreement with a proposition (exposure 0). Then, one exposure
per step, it reads one more text arguing the side opposite its initial view (``mode:
texts``) or hears one more turn from a conversation partner arguing that side and replies
(``mode: discussion``), and states its agreement again. For LLM agents everything read and
answered stays in the conversation, so the context grows with every exposure.

Each probe is an ``action`` of type ``stance_probe``: ``stance`` is agreement (1-5) with the
side the texts argue (so a rise is drift toward them); ``agreement`` is agreement with the
proposition itself. Rule-policy baseline: after each exposure an agent moves one point toward
the texts' side with probability ``persona.credulity x baseline_rate`` (``model.rng``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from socialsim.errors import ConfigError
from socialsim.scenarios.base import Scenario, register
from socialsim.scenarios.persuasion import (
    AGREEMENT_SCALE,
    Agreement,
    Proposition,
    PropositionParams,
    Turn,
    agreement_prompt,
    agreement_to_credence,
    credence_to_agreement,
    get_proposition,
    lean,
    opposite,
    toward,
)
from socialsim.simulation.queries import Question

if TYPE_CHECKING:
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel


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
    mode: Literal["texts", "discussion"] = "texts"
    custom_texts: CustomTexts | None = None
    baseline_rate: float = Field(0.5, ge=0.0, le=1.0)


@register
class Accumulation(Scenario):
    """Repeated stance probes while opposing texts accumulate in an agent's context."""

    kind: ClassVar[str] = "accumulation"
    Params: ClassVar[type[BaseModel]] = AccumulationParams

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        self.prop: Proposition | None = None
        self.side: dict[int, str] = {}
        self.current: dict[int, int] = {}
        self.history: dict[int, list[dict[str, str]]] = {}
        self.means: dict[int, float] = {}
        self.replies: dict[int, str] = {}

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
        self.prop = get_proposition(p.load(cfg), p.proposition)
        if p.mode == "texts":
            short = min(len(self.texts_for("for")), len(self.texts_for("against")))
            if p.texts > short:
                raise ConfigError(
                    f"scenario.params.texts: {p.texts} exposures but only {short} texts per side for "
                    f"{p.proposition!r}; lower texts or add custom_texts"
                )
        if cfg.steps < p.texts:
            raise ConfigError(
                f"scenario.params.texts: {p.texts} exposures need steps >= {p.texts}; steps is {cfg.steps}"
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
        agents = [a for a in agents if a in self.side]
        if self.params.mode == "texts":
            self._read(model, agents, step)
        else:
            self._discuss(model, agents, step)

    def done(self, model: SocialModel) -> bool:
        """The run ends after the last exposure."""
        return model.step_index >= self.params.texts

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Mean stance toward the texts' side per exposure, and its change."""
        keys = sorted(self.means)
        return {
            "proposition": self.prop.id if self.prop else None,
            "mode": self.params.mode,
            "mean_stance": {k: self.means[k] for k in keys},
            "change": self.means[keys[-1]] - self.means[keys[0]] if keys else None,
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
        stances = []
        for q, ans in zip(questions, model.ask(questions), strict=True):
            if not ans.ok:
                continue
            a = q.agent_id
            self.side[a] = opposite(lean(ans.value.agreement, model.rng))
            self.history[a] = [
                {"role": "user", "content": q.prompt},
                {"role": "assistant", "content": ans.value.model_dump_json()},
            ]
            stances.append(self._record(model, a, 0, ans.value.agreement, None))
        self.means[0] = sum(stances) / len(stances) if stances else 0.0

    def _moved(self, model: SocialModel, agent: int) -> int:
        """The rule baseline's next agreement: one point toward the texts' side, or unchanged."""
        current = self.current[agent]
        p = model.agent(agent).persona.credulity * self.params.baseline_rate
        if model.rng.random() >= p:
            return current
        return min(5, max(1, current + (1 if self.side[agent] == "for" else -1)))

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
        self, model: SocialModel, questions: list[Question], answers: list, exposure: int
    ) -> None:
        stances = []
        for q, ans in zip(questions, answers, strict=True):
            if not ans.ok:
                continue
            a = q.agent_id
            self.history[a] += [
                {"role": "user", "content": q.prompt},
                {"role": "assistant", "content": json.dumps(ans.value.model_dump())},
            ]
            if isinstance(ans.value, Reply):
                self.replies[a] = " ".join(ans.value.message.split())[:600]
            stances.append(self._record(model, a, exposure, ans.value.agreement, q))
        if stances:
            self.means[exposure] = sum(stances) / len(stances)

    def _record(
        self, model: SocialModel, agent: int, exposure: int, agreement: int, q: Question | None
    ) -> int:
        prop = self.prop
        assert prop is not None
        self.current[agent] = int(agreement)
        side = self.side[agent]
        stance = toward(agreement, side)
        model.set_credence(
            agent,
            prop.id,
            agreement_to_credence(agreement),
            cause="probe",
            ref=f"exposure{exposure}",
        )
        model.emit(
            "action",
            agent=agent,
            claim=prop.id,
            payload={
                "type": "stance_probe",
                "exposure": exposure,
                "stance": stance,
                "agreement": int(agreement),
                "side": side,
                "topic": prop.topic,
                "proposition": prop.id,
                "mode": self.params.mode,
                "source": "llm" if model.is_llm(agent) else "rule",
            },
        )
        return stance


__all__ = ["Accumulation"]
