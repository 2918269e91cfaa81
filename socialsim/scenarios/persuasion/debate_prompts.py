"""The prompts of a debate: the opponent's turn, the target's reply, the question after.

Every opponent prompt states the side it argues (:func:`side_line`), whatever its role's own
instruction says, so each cell of the design argues against the target's stance.
"""

from __future__ import annotations

from socialsim.core.persona import Persona
from socialsim.scenarios.propositions import Proposition, agreement_prompt, profile

JSON_MESSAGE = 'Reply in JSON as {"message": "..."}.'


def side_line(side: str) -> str:
    """The line telling an opponent which side it argues (``for`` or ``against``)."""
    return f"In this debate you argue {side.upper()} the statement."


def goal_of(side: str) -> str:
    """What the opponent wants the target to do with the statement: agree or disagree."""
    return "agree" if side == "for" else "disagree"


def opponent_prompt(
    prop: Proposition,
    side: str,
    instruction: str,
    target: Persona,
    personalised: bool,
    history: str,
) -> str:
    """An opponent's turn: the statement, its side, its role's instruction, what it knows."""
    name = target.name
    role = instruction.format(name=name, goal=goal_of(side), side=side)
    if personalised:
        role += f"\nWhat you know about {name}: {profile(target)} Tailor your arguments to them."
    return (
        f'You are in a short online debate with {name} about: "{prop.text}"\n'
        f"{side_line(side)}\n{role}\n"
        f"Conversation so far:\n{history}\nWrite your next message to {name} (2-3 sentences). "
        + JSON_MESSAGE
    )


def reply_prompt(prop: Proposition, opponent_name: str, history: str) -> str:
    """The target's reply to the opponent's last message."""
    return (
        f'{opponent_name} is discussing this with you: "{prop.text}"\n'
        f"Conversation so far:\n{history}\n"
        f"Reply to {opponent_name} in 1-2 sentences with your honest reaction. " + JSON_MESSAGE
    )


def after_prompt(prop: Proposition, transcript: str | None) -> str:
    """The agreement question after the debate (`transcript` None: the control arm's)."""
    if transcript is None:
        return agreement_prompt(prop)  # the same question, with nothing in between
    return f"You just had this conversation:\n{transcript}\n\n{agreement_prompt(prop)}"


__all__ = ["after_prompt", "goal_of", "opponent_prompt", "reply_prompt", "side_line"]
