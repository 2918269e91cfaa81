"""Debates (kind ``debate``): many opponent-target pairs in a 2x2 factorial design.

Each pair's target states agreement with a proposition (1-5), the two exchange `rounds`
rounds (the opponent argues, the target replies; each turn of all pairs is one batch), and
the target states agreement again. Conditions, balanced across pairs: opponent kind
(``persuader`` or ``peer``, each a role with its own model, prompt and label: ``roles`` in
:mod:`~socialsim.scenarios.persuasion.debate_params`) x personalisation (the opponent sees
the target's persona). In every cell the opponent argues the side opposite the target's
stance before the debate; a neutral target (3) gets a side drawn from ``model.rng``, and the
event says so (``side_drawn``).

``pre``/``post``/``shift`` are agreement with the side the opponent argued (the scale is
flipped when it argued against), so ``post > pre`` is increased agreement with the opponent.

Each pair ends in one ``action`` of type ``debate_pair`` with ``status`` ``answered`` or
``failed``. A failed or unusable answer is never replaced: when the target's first answer
fails, the pair does not debate and ``pre``, ``post`` and ``shift`` are null; when the
target's second answer fails, ``post`` and ``shift`` are null; ``error`` says which answer
failed. A failed debate turn is not sent and is counted in ``turns_failed``.

Control arm: the same pairs, conditions and sides are drawn, but nobody argues: the target
is asked the same agreement question twice with no exchange between (``rounds`` is 0 in the
event; the second ask has its own tag, ``debate_stance_after``, hence its own seed). The
opponents are recorded as placebo roles and keep the population's model.

Rule-policy baseline: a target moves one point toward the opponent's side with probability
``credulity x kind weight x personalisation weight`` (``baseline`` param), drawn from
``model.rng`` (drawn in the control arm too, where the target never moves); with probability
``baseline.noise`` its second answer is then one point off, up or down (both arms).
Rule-policy opponents post the proposition's stock arguments.

The whole debate runs in the first step, and the run then ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from socialsim.core.errors import ConfigError
from socialsim.core.events import ABSENT
from socialsim.scenarios.persuasion.debate_design import CELLS, assign_conditions, make_pairs
from socialsim.scenarios.persuasion.debate_params import (
    DebateParams,
    Role,
    role_instruction,
    role_label,
)
from socialsim.scenarios.persuasion.debate_prompts import (
    after_prompt,
    opponent_prompt,
    reply_prompt,
)
from socialsim.scenarios.persuasion.events import DebatePair
from socialsim.scenarios.persuasion.wordings import PARAPHRASES
from socialsim.scenarios.propositions import (
    Agreement,
    Proposition,
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


class _Pair:
    """Running state of one debate; answers stay None until given."""

    def __init__(self, index: int, persuader: int, target: int, kind: str, personalised: bool):
        self.index, self.persuader, self.target = index, persuader, target
        self.kind, self.personalised = kind, personalised
        self.side: str | None = None  # the side the opponent argues: opposite the target's
        self.side_drawn = False  # the target was neutral, so the side was drawn at random
        self.pre: int | None = None  # the target's agreement with the proposition, before
        self.post: int | None = None  # ... and after
        self.noise = 0  # the rule baseline's answer noise on the second answer: -1, 0 or 1
        self.error: str | None = None
        self.turns_asked = self.turns_failed = 0
        self.transcript: list[tuple[str, str]] = []
        self.last_message: str | None = None


@register_scenario("debate")
class Debate(Scenario):
    """Pairs debate a proposition; agreement before and after, under a 2x2 design."""

    #: the debate and its two stance questions are all the agents do (no step decision
    #: beside them: no extra call, no talk of the proposition outside the debate)
    step_decisions = False

    headline_measures: ClassVar[tuple[tuple[str, str, str], ...]] = (
        (
            "persuasion.debate.odds_ratio.persuader|personalised.odds_ratio",
            "Odds ratio of increased agreement, personalised persuader vs plain peer",
            "debate_shift",
        ),
        (
            "persuasion.debate.ordinal.terms.persuader|personalised.odds_ratio",
            "Proportional-odds ratio of post agreement, personalised persuader vs plain peer",
            "debate_shift",
        ),
        (
            "persuasion.debate.mean_shift",
            "Mean agreement shift toward the opponent",
            "debate_shift",
        ),
    )
    Params: ClassVar[type[BaseModel]] = DebateParams
    paraphrases = PARAPHRASES

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.prop: Proposition | None = None
        self.pairs: list[_Pair] = []
        self.finished = False

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Check the proposition and that random pairing has enough agents."""
        self.prop = get_proposition(self.params.load(cfg), self.params.proposition)
        count, n = self.params.pairs.count, cfg.population.size
        if count is not None and 2 * count > n:
            raise ConfigError(
                f"scenario.params.pairs.count: {count} pairs need {2 * count} agents; there are {n}"
            )

    def setup(self, model: SocialModel) -> None:
        """Put the proposition in play; form the pairs, assign conditions, record the roles.

        In the treatment arm an opponent whose role names a model gets it as its persona's
        model, so that model answers its turns.
        """
        if self.prop is None:
            self.validate_config(model.cfg)
        model.add_claim(self.prop.claim())  # type: ignore[union-attr]
        p = self.params.pairs
        raw = make_pairs(model.graph, p.source, p.count, model.rng)
        cells = assign_conditions(len(raw), model.rng)
        self.pairs = [
            _Pair(i, a, b, k, pers)
            for i, ((a, b), (k, pers)) in enumerate(zip(raw, cells, strict=True))
        ]
        for d in self.pairs:
            model.assign_role(d.persuader, d.kind, placebo=self.is_control)
            llm = self._role(d.kind).llm.model
            if llm is not None and not self.is_control:
                agent = model.agent(d.persuader)
                agent.persona = agent.persona.model_copy(update={"model": llm})

    def before_step(self, model: SocialModel) -> None:
        """Run every debate (once, at the first step)."""
        if self.finished:
            return
        self.finished = True
        prop = self.prop
        assert prop is not None
        pairs = [
            d for d in self.pairs if model.is_present(d.persuader) and model.is_present(d.target)
        ]
        answers = model.ask([self._stance(model, d.target, None) for d in pairs])
        for d, answer in zip(pairs, answers, strict=True):
            if not answer.ok:
                d.error = answer_status(answer, labels=("pre",))["error"]
                self._unknown(model, d)
                continue
            d.pre = int(answer.value.agreement)
            model.set_credence(
                d.target,
                prop.id,
                agreement_to_credence(d.pre),
                cause="probe",
                ref=f"debate{d.index}",
            )
            # every opponent argues against the target's stance; a neutral one's side is drawn
            d.side_drawn = d.pre == 3
            d.side = opposite(lean(d.pre, model.rng))
        live = [d for d in pairs if d.error is None]
        if not self.is_control:
            for r in range(self.params.rounds):
                self._turn(model, live, r, opponent=True)
                self._turn(model, live, r, opponent=False)
        moves = {d.index: model.rng.random() < self._p_move(model, d) for d in pairs}
        self._draw_noise(model, pairs)
        answers = model.ask([self._stance(model, d.target, d, moves[d.index]) for d in live])
        for d, answer in zip(live, answers, strict=True):
            if not answer.ok:
                d.error = answer_status(answer, labels=("post",))["error"]
                self._unknown(model, d)
                continue
            d.post = int(answer.value.agreement)
            model.set_credence(
                d.target,
                prop.id,
                agreement_to_credence(d.post),
                cause="probe" if self.is_control else "message",
                ref=f"debate{d.index}",
                source=None if self.is_control else d.persuader,
            )
        for d in pairs:
            self._emit(model, d)

    def _unknown(self, model: SocialModel, d: _Pair) -> None:
        """The target's stance answer failed: its credence is unknown, not the last one."""
        assert self.prop is not None
        model.forget_credence(
            d.target, self.prop.id, cause="probe", ref=f"debate{d.index}", reason="no answer"
        )

    def done(self, model: SocialModel) -> bool:
        """The run ends once the debates are over."""
        return self.finished

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: the proposition, the design, the roles and who debated whom."""
        roles = self.params.roles
        return {
            "proposition": self.prop.id if self.prop else None,
            "pairs": len(self.pairs),
            "rounds": 0 if self.is_control else self.params.rounds,
            "pair_source": self.params.pairs.source,
            "roles": {
                kind: {"label": role_label(kind, role), "model": role.llm.model}
                for kind, role in (("persuader", roles.persuader), ("peer", roles.peer))
            },
            "persuaders": [d.persuader for d in self.pairs],
            "targets": [d.target for d in self.pairs],
        }

    # --- pieces ---------------------------------------------------------------------------------
    def _role(self, kind: str) -> Role:
        return getattr(self.params.roles, kind)

    def _emit(self, model: SocialModel, d: _Pair) -> None:
        prop = self.prop
        assert prop is not None
        answered = d.error is None and d.pre is not None and d.post is not None
        pre = toward(d.pre, d.side) if d.pre is not None and d.side is not None else None
        post = toward(d.post, d.side) if answered and d.side is not None else None
        opponent_llm = model.is_llm(d.persuader) and not self.is_control
        payload = DebatePair(
            pair=d.index,
            persuader=d.persuader,
            target=d.target,
            proposition=prop.id,
            persuader_kind=d.kind,
            personalised=d.personalised,
            side=d.side,
            side_drawn=d.side_drawn,
            opponent_model=model.agent(d.persuader).model_string if opponent_llm else None,
            status="answered" if answered else "failed",
            pre=pre,
            post=post,
            shift=post - pre if pre is not None and post is not None else None,
            pre_agreement=d.pre,
            post_agreement=d.post,
            rounds=0 if self.is_control else self.params.rounds,
            turns_asked=d.turns_asked,
            turns_failed=d.turns_failed,
            source="llm" if model.is_llm(d.target) else "rule",
            error=ABSENT if answered else d.error or "no answer",
        ).as_payload()
        model.emit("action", agent=d.persuader, target=d.target, claim=prop.id, payload=payload)

    def _p_move(self, model: SocialModel, d: _Pair) -> float:
        b = self.params.baseline
        kind = b.persuader if d.kind == "persuader" else b.peer
        pers = b.personalised if d.personalised else b.plain
        return model.agent(d.target).persona.credulity * kind * pers

    def _draw_noise(self, model: SocialModel, pairs: list[_Pair]) -> None:
        """The rule baseline's answer noise of each pair (no draw when ``noise`` is 0)."""
        noise = self.params.baseline.noise
        if noise <= 0:
            return
        for d in pairs:
            if model.rng.random() < noise:
                d.noise = 1 if model.rng.random() < 0.5 else -1

    def _stance(
        self, model: SocialModel, agent: int, d: _Pair | None, move: bool = False
    ) -> Question:
        prop = self.prop
        assert prop is not None
        if d is None:
            value = credence_to_agreement(model.beliefs.get(agent, prop.id))
            prompt, tag = agreement_prompt(prop), "debate_stance"
        else:
            assert d.pre is not None
            moved = move and not self.is_control
            step = (1 if d.side == "for" else -1) * int(moved)
            value = min(5, max(1, d.pre + step + d.noise))
            tag = "debate_stance_after"
            prompt = after_prompt(prop, None if self.is_control else _transcript(d))
        return Question(
            agent_id=agent,
            prompt=prompt,
            schema=Agreement,
            tag=tag,
            fallback=lambda v=value: Agreement(agreement=v),
            use_memory=False,
        )

    def _turn(self, model: SocialModel, pairs: list[_Pair], r: int, opponent: bool) -> None:
        prop = self.prop
        assert prop is not None
        questions = []
        for d in pairs:
            assert d.side is not None
            speaker, other = (d.persuader, d.target) if opponent else (d.target, d.persuader)
            history = _transcript(d) or "(nobody has spoken yet)"
            if opponent:
                role = self._role(d.kind)
                prompt = opponent_prompt(
                    prop,
                    d.side,
                    role_instruction(d.kind, role),
                    model.agent(other).persona,
                    d.personalised,
                    history,
                )
                args = prop.arguments(d.side) or [prop.text]
                stock, system = args[r % len(args)], role.prompt.system
                temperature, max_tokens = role.llm.temperature, role.llm.max_tokens
            else:
                prompt = reply_prompt(prop, model.agent(other).persona.name, history)
                stock, system = "I hear you. Let me think about that.", None
                temperature = max_tokens = None
            questions.append(
                Question(
                    agent_id=speaker,
                    prompt=prompt,
                    schema=Turn,
                    tag="debate_turn",
                    fallback=lambda t=stock: Turn(message=t),
                    system=system,
                    use_memory=False,
                    temperature=temperature,
                    max_tokens=max_tokens,
                )
            )
        for d, q, answer in zip(pairs, questions, model.ask(questions), strict=True):
            d.turns_asked += 1
            text = " ".join(answer.value.message.split())[:600] if answer.ok else ""
            if not text:
                d.turns_failed += 1
                continue
            to = d.target if q.agent_id == d.persuader else d.persuader
            message = model.send(q.agent_id, text, to=to, claims=[prop.id], reply_to=d.last_message)
            d.last_message = message.id if message is not None else d.last_message
            d.transcript.append((model.agent(q.agent_id).persona.name, text))


def _transcript(d: _Pair) -> str:
    return "\n".join(f"{name}: {text}" for name, text in d.transcript)


__all__ = ["CELLS", "Debate", "assign_conditions", "make_pairs"]
