"""The behavioural probe of the accumulating-context scenario: a decision revealing the stance.

Asked beside the conversation (the agent sees its conversation so far, and the question is not
added to it); option A is the ``for`` option for even agent ids and the ``against`` option for
odd ones. The rule baseline chooses the side its current agreement leans to (at 3, its initial
side: the one opposite the texts). One ``behaviour_probe`` action per agent asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialsim.core.events import ABSENT
from socialsim.scenarios.persuasion.accumulation_library import (
    BehaviourChoice,
    BehaviourProbeChoice,
)
from socialsim.scenarios.propositions import answer_status, opposite
from socialsim.simulation.queries import Question

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel


def option_sides(agent: int) -> tuple[str, str]:
    """The sides of options A and B in an agent's behavioural probe (alternating by id)."""
    return ("for", "against") if agent % 2 == 0 else ("against", "for")


def ask_behaviour(scenario: Any, model: SocialModel, agents: list[int], exposure: int) -> None:
    """Ask `agents` the behavioural probe of `scenario` (an ``Accumulation``); log each choice."""
    probe, prop = scenario.probe, scenario.prop
    assert probe is not None and prop is not None
    questions = []
    for a in agents:
        order = option_sides(a)
        options = "\n".join(
            f"Option {letter}: {probe.option(side)}"
            for letter, side in zip("AB", order, strict=True)
        )
        lean_side = (
            "for" if scenario.current[a] > 3 else "against" if scenario.current[a] < 3 else None
        )
        own = lean_side or opposite(scenario.side[a])
        questions.append(
            Question(
                agent_id=a,
                prompt=f"{probe.question}\n{options}\nWhich do you choose? "
                'Reply in JSON as {"choice": "A" or "B"}.',
                schema=BehaviourChoice,
                tag="accumulation_behaviour",
                history=list(scenario.history[a]),
                use_memory=False,
                fallback=lambda o=order, s=own: BehaviourChoice(choice="AB"[o.index(s)]),
            )
        )
    for q, ans in zip(questions, model.ask(questions), strict=True):
        a = q.agent_id
        chosen = option_sides(a)["AB".index(ans.value.choice)] if ans.ok else None
        payload = BehaviourProbeChoice(
            exposure=exposure,
            status="answered" if chosen else "failed",
            choice=ans.value.choice if chosen else None,
            chosen_side=chosen,
            toward=chosen == scenario.side[a] if chosen else None,
            side=scenario.side[a],
            proposition=prop.id,
            mode="none" if scenario.is_control else scenario.params.mode,
            source="llm" if model.is_llm(a) else "rule",
            error=ABSENT if chosen else answer_status(ans)["error"],
        ).as_payload()
        model.emit("action", agent=a, claim=prop.id, payload=payload)


__all__ = ["ask_behaviour", "option_sides"]
