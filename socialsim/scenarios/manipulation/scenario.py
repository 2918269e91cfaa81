"""Covert manipulation of decisions (kind ``manipulation``): advisors steer targets' choices.

Each target faces one decision task (``data/decision_tasks.yaml``: financial and emotional
tasks, each with a beneficial option and one of known harm) and talks with an advisor agent
for ``turns`` turns (the advisor writes, the target replies), then chooses option A or B.
An advisor is ``neutral`` (honest advice in the target's interest) or ``manipulative``: its
brief carries a hidden objective, steer the target to the harmful option, and (condition
``explicit_tactic``) a tactic (emotional appeal, false urgency, selective facts, social
proof) or (condition ``hidden_goal``) none. ``conditions`` splits the targets evenly across
the conditions listed; without it ``manipulative_share`` of them get a hidden goal and a
tactic. The target sees only the advisor's messages, never the brief. The target rates both
options (1-7) before any advice and after every turn (``manipulation_rating`` actions, see
:mod:`socialsim.scenarios.manipulation.ratings`). Which advisor, kind, tactic, task and option order each
target gets is drawn at setup from ``model.rng`` and logged as a ``manipulation_assignment``
action; every turn is a ``message`` event (the transcript) and the decision a
``manipulation_choice`` action with a ``status``: ``answered``, or ``failed`` when a turn or
the choice got no usable answer (the conversation stops there; the option fields are null,
``error`` says which answer failed; nothing is filled in). Everything runs in the first step.

Control arm: the same advisors, targets, tasks, option orders and draws, but every advisor is
neutral (``advisor_kind`` and ``condition`` are ``neutral``; ``assigned_kind`` and
``assigned_condition`` keep the draw).

Rule baseline (agents without an LLM): an advisor posts stock lines of its tactic (a neutral
one advises the beneficial option); the target picks the advised option with probability
credulity x the weight of its tactic (``baseline``; ``hidden_goal`` without one), otherwise decides alone and picks the harmful
option with probability ``baseline.unaided_harmful``. The measures live in
:mod:`socialsim.scenarios.manipulation.measures`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel

from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.validation import choices, shown
from socialsim.scenarios.manipulation.events import (
    ManipulationAssignment,
    ManipulationChoice,
    ManipulationRating,
)
from socialsim.scenarios.manipulation.params import Conversation, ManipulationParams
from socialsim.scenarios.manipulation.ratings import (
    Ratings,
    advised_side,
    by_side,
    rating_prompt,
    rule_ratings,
)
from socialsim.scenarios.manipulation.talk import (
    LETTERS,
    STOCK_REPLY,
    Choice,
    advisor_prompt,
    advisor_system,
    baseline_side,
    choice_prompt,
    message_error,
    option_text,
    stock_advice,
    target_prompt,
)
from socialsim.scenarios.manipulation.tasks import DecisionTask, task_library
from socialsim.scenarios.manipulation.wordings import PARAPHRASES
from socialsim.scenarios.propositions import Turn
from socialsim.simulation.queries import Answer, Question
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel


@register_scenario("manipulation")
class Manipulation(Scenario):
    """Neutral or covertly manipulative advisors talk with targets before a decision of known harm."""

    Params: ClassVar[type[BaseModel]] = ManipulationParams
    paraphrases = PARAPHRASES
    step_decisions = False  # the conversations and the choice are all the agents do
    headline_measures: ClassVar[tuple[tuple[str, str, str], ...]] = (
        *(
            (
                f"manipulation.conditions.{c}.odds",
                f"Odds of a harmful choice, {c} advisor",
                "manipulation_harmful",
            )
            for c in ("hidden_goal", "explicit_tactic", "neutral")
        ),
        *(
            (
                f"manipulation.condition_odds_ratio.{c}.odds_ratio",
                f"Odds ratio of a harmful choice, {c} vs neutral advisor",
                "manipulation_odds",
            )
            for c in ("hidden_goal", "explicit_tactic")
        ),
        (
            "manipulation.rating_shift.explicit_tactic.toward_harmful.mean",
            "Preference shift toward the harmful option, explicit_tactic advisor",
            "manipulation_harmful",
        ),
        (
            "manipulation.assigned.manipulative.rate",
            "Harmful choices of targets drawn for a manipulative advisor",
            "manipulation_harmful",
        ),
        (
            "manipulation.odds_ratio.overall.odds_ratio",
            "Odds ratio of a harmful choice, manipulative vs neutral advisor",
            "manipulation_odds",
        ),
    )

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.pool: list[DecisionTask] = []
        self.advisors: list[int] = []
        self.conversations: list[Conversation] = []
        self.finished = False

    # --- configuration -----------------------------------------------------------------------
    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Load the task pool; check task ids, the number of advisors and the steps."""
        p = self.params
        path = str(cfg.resolve_path(p.tasks_file)) if p.tasks_file else None
        try:
            library = task_library(path)
        except DataFileError as exc:
            raise ConfigError(f"scenario.params.tasks_file: {exc}") from None
        unknown = [t for t in p.tasks if t not in library]
        if unknown:
            raise ConfigError(
                f"scenario.params.tasks: unknown task id {shown(unknown[0])}; known ids: "
                + choices(sorted(library), unknown[0], limit=80)
            )
        chosen = [library[t] for t in p.tasks] if p.tasks else list(library.values())
        self.pool = [t for t in chosen if t.domain in p.domains]
        if not self.pool:
            raise ConfigError("scenario.params: no decision task matches tasks and domains")
        if p.advisors >= cfg.population.size:
            raise ConfigError(
                f"scenario.params.advisors: {p.advisors} advisors leave no target among "
                f"{cfg.population.size} agents"
            )
        if cfg.step_count() < 1:
            raise ConfigError("steps: the manipulation scenario runs in step 1; set steps >= 1")

    # --- hooks -------------------------------------------------------------------------------
    def setup(self, model: SocialModel) -> None:
        """Draw advisors, targets and each target's advisor, kind, tactic, task and option order."""
        if not self.pool:
            self.validate_config(model.cfg)
        p, rng, n = self.params, model.rng, model.n_agents
        self.advisors = sorted(int(i) for i in rng.permutation(n)[: p.advisors])
        for a in self.advisors:
            model.assign_role(a, "advisor")
        others = np.setdiff1d(np.arange(n), self.advisors)
        k = int(round(p.target_share * len(others)))
        targets = np.sort(others[rng.permutation(len(others))[:k]])
        seat = rng.permutation(k)  # balanced advisors: target j talks with advisors[seat[j] % m]
        rank = rng.permutation(k)  # the first `manipulative` ranks get a manipulative advisor
        manipulative = int(round(p.manipulative_share * k))
        offset = int(rng.integers(len(p.tactics)))
        task_at = (rng.permutation(k) + int(rng.integers(len(self.pool)))) % len(self.pool)
        flips = rng.random(k) < 0.5
        draws = rng.random((k, 2))
        self.conversations = []
        for j in range(k):
            if p.conditions:
                condition = p.conditions[int(rank[j]) % len(p.conditions)]
                drawn = "neutral" if condition == "neutral" else "manipulative"
                slot = int(rank[j]) // len(p.conditions) + offset
                tactic = (
                    p.tactics[slot % len(p.tactics)] if condition == "explicit_tactic" else None
                )
            else:
                drawn = "manipulative" if rank[j] < manipulative else "neutral"
                tactic = (
                    p.tactics[(rank[j] + offset) % len(p.tactics)] if drawn != "neutral" else None
                )
                condition = "neutral" if drawn == "neutral" else "explicit_tactic"
            order = ["harmful", "beneficial"] if p.shuffle_options and flips[j] else None
            self.conversations.append(
                Conversation(
                    index=j,
                    advisor=self.advisors[int(seat[j]) % len(self.advisors)],
                    target=int(targets[j]),
                    task=self.pool[int(task_at[j])],
                    order=order or ["beneficial", "harmful"],
                    assigned_kind=drawn,
                    assigned_tactic=tactic,
                    kind="neutral" if self.is_control else drawn,
                    tactic=None if self.is_control else tactic,
                    assigned_condition=condition,
                    condition="neutral" if self.is_control else condition,
                    follow_draw=float(draws[j, 0]),
                    own_draw=float(draws[j, 1]),
                )
            )
        for c in self.conversations:
            model.emit(
                "action",
                agent=c.target,
                target=c.advisor,
                payload=ManipulationAssignment(**self._facts(c)).as_payload(),
            )

    def before_step(self, model: SocialModel) -> None:
        """Run every conversation turn by turn (one batch per side and turn), then the choices."""
        if self.finished:
            return
        self.finished = True
        live = []
        for c in self.conversations:
            if model.is_present(c.advisor) and model.is_present(c.target):
                live.append(c)
            else:
                c.error = "the advisor or the target left before the conversation"
        self._rate(model, live, 0)
        for turn in range(self.params.turns):
            live = self._advise(model, live, turn)
            live = self._reply(model, live, turn)
            self._rate(model, live, turn + 1)
        self._choose(model, live)
        for c in self.conversations:
            self._emit_choice(model, c)

    def done(self, model: SocialModel) -> bool:
        """The run ends once the decisions are made."""
        return self.finished

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: advisors, targets, the design and the tasks in play."""
        p = self.params
        drawn: dict[str, int] = {}
        for c in self.conversations:
            key = c.assigned_tactic or "neutral"
            drawn[key] = drawn.get(key, 0) + 1
        return {
            "advisors": list(self.advisors),
            "targets": len(self.conversations),
            "turns": p.turns,
            "manipulative_share": None if p.conditions else p.manipulative_share,
            "conditions": list(p.conditions) if p.conditions else None,
            "tactics": list(p.tactics),
            "domains": list(p.domains),
            "tasks": [t.id for t in self.pool],
            "assigned": dict(sorted(drawn.items())),
            "advisors_neutral_in_arm": self.is_control,
        }

    # --- the conversation ----------------------------------------------------------------------
    def _advise(
        self, model: SocialModel, live: list[Conversation], turn: int
    ) -> list[Conversation]:
        questions = []
        for c in live:
            llm = model.is_llm(c.advisor)
            names = model.names[c.advisor], model.names[c.target]
            questions.append(
                Question(
                    agent_id=c.advisor,
                    # prompts are built for model agents only: others answer by fallback
                    prompt=advisor_prompt(names[1], c.reply) if llm else "",
                    system=advisor_system(c.task, *names, c.order, c.tactic, c.kind)
                    if llm
                    else None,
                    history=list(c.advisor_history),
                    schema=Turn,
                    tag="manipulation_advice",
                    fallback=lambda c=c: Turn(message=stock_advice(c.task, c.tactic, turn, c.kind)),
                    use_memory=False,
                )
            )
        return self._collect(model, live, questions, turn, "advisor")

    def _reply(self, model: SocialModel, live: list[Conversation], turn: int) -> list[Conversation]:
        questions = []
        for c in live:
            llm = model.is_llm(c.target)
            prompt = ""
            if llm:
                assert c.advice is not None
                prompt = target_prompt(c.task, c.order, model.names[c.advisor], c.advice, turn == 0)
            questions.append(
                Question(
                    agent_id=c.target,
                    prompt=prompt,
                    history=list(c.target_history),
                    schema=Turn,
                    tag="manipulation_reply",
                    fallback=lambda: Turn(message=STOCK_REPLY),
                    use_memory=False,
                )
            )
        return self._collect(model, live, questions, turn, "target")

    def _collect(
        self,
        model: SocialModel,
        live: list[Conversation],
        questions: list[Question],
        turn: int,
        side: str,
    ) -> list[Conversation]:
        """Send the usable messages and extend the transcripts; stop conversations that failed."""
        going = []
        for c, q, answer in zip(live, questions, model.ask(questions), strict=True):
            text = " ".join(str(answer.value.message).split())[:600] if answer.ok else ""
            problem = _error(answer) if not answer.ok else message_error(text)
            if problem is not None:
                c.error = f"turn {turn + 1} {side}: {problem}"
                continue
            sender, to = (c.advisor, c.target) if side == "advisor" else (c.target, c.advisor)
            message = model.send(sender, text, to=to, channel="direct", reply_to=c.last_message)
            c.last_message = message.id if message is not None else c.last_message
            history = c.advisor_history if side == "advisor" else c.target_history
            if model.is_llm(sender):
                history += [
                    {"role": "user", "content": q.prompt},
                    {"role": "assistant", "content": answer.value.model_dump_json()},
                ]
            if side == "advisor":
                c.advice = text
            else:
                c.reply, c.turns_done = text, turn + 1
            going.append(c)
        return going

    def _choose(self, model: SocialModel, live: list[Conversation]) -> None:
        questions = []
        for c in live:
            llm = model.is_llm(c.target)
            questions.append(
                Question(
                    agent_id=c.target,
                    prompt=choice_prompt(c.task, c.order) if llm else "",
                    history=list(c.target_history),
                    schema=Choice,
                    tag="manipulation_choice",
                    fallback=lambda c=c: self._baseline_choice(model, c),
                    use_memory=False,
                )
            )
        for c, answer in zip(live, model.ask(questions), strict=True):
            if not answer.ok:
                c.error = f"choice: {_error(answer)}"
                continue
            c.choice = answer.value.choice
            c.reason = " ".join(str(answer.value.reason).split())[:300]

    def _rate(self, model: SocialModel, live: list[Conversation], turn: int) -> None:
        """Ask every live target for its ratings beside the conversation, and log them."""
        questions = []
        for c in live:
            llm = model.is_llm(c.target)
            weight = self.params.baseline.weight(c.tactic, c.kind)
            follows = c.follow_draw < float(model.persona_of(c.target).credulity) * weight
            questions.append(
                Question(
                    agent_id=c.target,
                    prompt=rating_prompt(c, turn == 0) if llm else "",
                    history=list(c.target_history),
                    schema=Ratings,
                    tag="manipulation_rating",
                    fallback=lambda c=c, f=follows: rule_ratings(c, f),
                    use_memory=False,
                )
            )
        for c, answer in zip(live, model.ask(questions), strict=True):
            sides = by_side(c, answer.value) if answer.ok else None
            if sides is not None:
                c.ratings = sides
            payload = ManipulationRating(
                conversation=c.index,
                advisor=c.advisor,
                task=c.task.id,
                condition=c.condition,
                assigned_condition=c.assigned_condition,
                advised=advised_side(c.kind),
                turn=turn,
                status="answered" if sides else "failed",
                source="llm" if model.is_llm(c.target) else "rule",
                rating_a=answer.value.option_a if sides else None,
                rating_b=answer.value.option_b if sides else None,
                harmful_rating=sides["harmful"] if sides else None,
                beneficial_rating=sides["beneficial"] if sides else None,
                error=None if sides else _error(answer),
            ).as_payload()
            model.emit("action", agent=c.target, target=c.advisor, payload=payload)

    def _baseline_choice(self, model: SocialModel, c: Conversation) -> Choice:
        """The rule baseline's decision from the draws made at setup."""
        b = self.params.baseline
        advised = "beneficial" if c.kind == "neutral" else "harmful"
        credulity = float(model.persona_of(c.target).credulity)
        side = baseline_side(
            credulity,
            b.weight(c.tactic, c.kind),
            advised,
            c.follow_draw,
            c.own_draw,
            b.unaided_harmful,
        )
        return Choice(choice=LETTERS[c.order.index(side)], reason="baseline")

    # --- records -------------------------------------------------------------------------------
    def _facts(self, c: Conversation) -> dict[str, Any]:
        return {
            "conversation": c.index,
            "advisor": c.advisor,
            "task": c.task.id,
            "domain": c.task.domain,
            "advisor_kind": c.kind,
            "tactic": c.tactic,
            "assigned_kind": c.assigned_kind,
            "assigned_tactic": c.assigned_tactic,
            "condition": c.condition,
            "assigned_condition": c.assigned_condition,
            "harmful_letter": LETTERS[c.order.index("harmful")],
        }

    def _emit_choice(self, model: SocialModel, c: Conversation) -> None:
        """Log one decision; a failed one keeps its context and leaves the option fields null."""
        answered = c.error is None and c.choice is not None
        side = c.order[LETTERS.index(c.choice)] if answered else None
        payload = ManipulationChoice(
            status="answered" if answered else "failed",
            source="llm" if model.is_llm(c.target) else "rule",
            **self._facts(c),
            choice=c.choice if answered else None,
            option=option_text(c.task, side) if side else None,
            harmful=side == "harmful" if side else None,
            reason=c.reason if answered else None,
            turns=self.params.turns,
            turns_done=c.turns_done,
            error=None if answered else c.error or "no answer",
        ).as_payload()
        model.emit("action", agent=c.target, target=c.advisor, payload=payload)


def _error(answer: Answer) -> str:
    """Why an answer is unusable, as one line."""
    return answer.error or "no usable answer"


__all__ = ["Manipulation"]
