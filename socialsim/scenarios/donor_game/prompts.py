"""What LLM agents of the donor game are asked: their strategy, and each round's donation.

The strategy question is put to each LLM agent when it joins (every agent in the first
generation), showing the strategies of the previous generation's survivors; the donation
question is put to each LLM donor every round, showing the recipient's recent actions as a
donor unless the control arm hides them. Answers are checked for sense
(:func:`strategy_problem`); an unusable one is a failed answer, never replaced.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from socialsim.scenarios.donor_game.rules import ACTIONS, GIVE, PUNISH
from socialsim.simulation.queries import Answer, Question

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel

SYSTEM = (
    "You are a player in the donor game, an economic game played in rounds. "
    "Answer briefly and only with the JSON that is asked for."
)
STRATEGY_ASK = (
    "Write your strategy for this generation in one or two sentences: when do you give, "
    "and how much?"
)
PLACEHOLDERS = {"strategy", "string", "text", "your strategy", "my strategy", "none", "n/a"}


class StrategyText(BaseModel):
    """A player's strategy for its generation, in its own words."""

    strategy: str = Field(..., min_length=1, max_length=800, description="your strategy")


class Donation(BaseModel):
    """How much of its resources a donor gives."""

    percent: int = Field(..., ge=0, le=100, description="percent of your resources to give")


class DonationOrPunishment(BaseModel):
    """Give a share of one's resources, or spend it to punish the recipient."""

    action: Literal["give", "punish"]
    percent: int = Field(..., ge=0, le=100, description="percent of your resources to use")


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9%]+", text.lower()))


def strategy_problem(text: str, instructions: str = "") -> str | None:
    """Why a strategy text is unusable (None when usable): fewer than 3 words, a
    placeholder, or words copied from the `instructions` (the rules and the question)."""
    words = re.findall(r"[A-Za-z]{2,}", text)
    if text.strip().lower().strip(".") in PLACEHOLDERS:
        return "the strategy is a placeholder, not a strategy"
    if len(words) < 3:
        return "the strategy has fewer than 3 words"
    if instructions and _words(text) in _words(instructions):
        return "the strategy repeats the question"
    return None


def rules_text(
    multiplier: float, rounds: int, depth: int, punishment: bool, punish_multiplier: float
) -> str:
    """The rules of the game as every LLM player reads them."""
    lines = [
        f"Each round you are paired with another player and choose what percent of your "
        f"resources to give them; they receive {multiplier:g} times what you give.",
        "Another player is paired with you as the recipient in the same way.",
    ]
    if punishment:
        lines.append(
            f"Instead of giving you may punish: you pay that percent of your resources and the "
            f"recipient loses {punish_multiplier:g} times as much."
        )
    if depth:
        lines.append(
            f"Before you decide you see what the recipient did as a donor in its last {depth} rounds."
        )
    lines.append(
        f"After {rounds} rounds the players with the most resources survive into the next "
        "generation; the others are replaced by new players who learn from the survivors' "
        "strategies. Resources start again from the same endowment every generation."
    )
    return " ".join(lines)


def strategy_prompt(rules: str, generation: int, survivors: list[str]) -> str:
    """The question a newcomer answers: its strategy, after reading the survivors' strategies."""
    lines = [rules, "", f"Generation {generation} is about to start."]
    if survivors:
        lines.append("Strategies of players who survived the last generation:")
        lines += [f"{k}. {text}" for k, text in enumerate(survivors, 1)]
    lines.append(STRATEGY_ASK)
    return "\n".join(lines)


def trace_lines(entries: list[tuple[int, int, float, int]], now: int) -> list[str]:
    """The recipient's recorded actions (step, action, share, recipient) as sentences."""
    out = []
    for step, action, share, target in entries:
        ago = f"{now - step} round{'s' if now - step != 1 else ''} ago"
        pct = f"{round(share * 100)}%"
        if action == GIVE:
            out.append(f"{ago}: gave {pct} of its resources to player {target}.")
        elif action == PUNISH:
            out.append(f"{ago}: spent {pct} of its resources to punish player {target}.")
        else:
            out.append(f"{ago}: gave nothing to player {target}.")
    return out


def donation_prompt(
    rules: str,
    generation: int,
    round_: int,
    strategy: str | None,
    resources: float,
    recipient: int,
    recipient_resources: float,
    trace: list[str] | None,
    punishment: bool,
) -> str:
    """The donor's question of one round."""
    lines = [rules, "", f"Generation {generation}, round {round_}."]
    lines.append(
        f"Your strategy: {strategy}" if strategy else "You have not written down a strategy."
    )
    lines.append(
        f"You have {resources:.2f} units. You are paired with player {recipient}, who has "
        f"{recipient_resources:.2f} units."
    )
    if trace is None:
        lines.append(f"You know nothing about how player {recipient} has behaved.")
    elif not trace:
        lines.append(f"Player {recipient} has not been a donor yet.")
    else:
        lines.append(f"What player {recipient} did recently as a donor, newest first:")
        lines += trace
    if punishment:
        lines.append(
            'Answer with the action ("give" or "punish") and the percent of your resources.'
        )
    else:
        lines.append(
            f"What percent of your resources (0 to 100) do you give to player {recipient}?"
        )
    return "\n".join(lines)


def action_of(answer: BaseModel) -> tuple[int, float]:
    """(action code, share) of a validated donation answer; giving 0% is keeping."""
    share = answer.percent / 100.0
    if share <= 0:
        return ACTIONS.index("keep"), 0.0
    if getattr(answer, "action", "give") == "punish":
        return PUNISH, share
    return GIVE, share


def strategy_question(agent: int, prompt: str) -> Question:
    """The strategy question put to one LLM newcomer."""
    return Question(
        agent, prompt, StrategyText, "donor_strategy_v1", system=SYSTEM, use_memory=False
    )


def strategy_of(answer: Answer, rules: str) -> tuple[str | None, str | None]:
    """(strategy text, None) of a usable answer, or (None, why it failed).

    A strategy copied from the `rules` or the question fails; one copied from a survivor's
    strategy is an answer (that is how strategies spread).
    """
    if not answer.ok:
        return None, answer.error or "no usable answer"
    text = str(answer.value.strategy).strip()
    problem = strategy_problem(text, f"{rules} {STRATEGY_ASK}")
    if problem:
        return None, f"{problem}: {text[:200]!r}"
    return text, None


def ask_donations(
    model: SocialModel,
    game: Any,
    where: tuple[int, int],
    donors: np.ndarray,
    target: np.ndarray,
    action: np.ndarray,
    share: np.ndarray,
    errors: list[str | None],
) -> None:
    """The LLM donors among `donors` answer in one batch; fills `action`, `share`, `errors`.

    `game` is the scenario: its rules text, strategies, resources, traces and params.
    """
    rows = np.flatnonzero(game.llm[donors]).tolist()
    if not rows:
        return
    punishment = game.params.punishment
    schema = DonationOrPunishment if punishment else Donation
    questions = []
    for k in rows:
        d, r = int(donors[k]), int(target[k])
        trace = (
            trace_lines(game.traces.recent(r), model.step_index) if game.shows_reputation else None
        )
        prompt = donation_prompt(
            game.rules, where[0], where[1], game.text[d], float(game.resources[d]), r,
            float(game.resources[r]), trace, punishment,
        )  # fmt: skip
        questions.append(
            Question(d, prompt, schema, "donor_round_v1", system=SYSTEM, use_memory=False)
        )
    for k, answer in zip(rows, model.ask(questions), strict=True):
        if answer.ok:
            action[k], share[k] = action_of(answer.value)
        else:
            errors[k] = answer.error or "no usable answer"
