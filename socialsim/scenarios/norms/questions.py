"""How a norm frame is put to an agent: prompts, the constrained-choice schema, the baseline rule.

Options are shown as letters; the answer schema's ``choice`` is a Literal of exactly those
letters, so a model can only pick an offered option. Agents without an LLM use
:func:`conformity_choice`: the behaviour most visible neighbours chose when its share
exceeds the threshold, otherwise the frame's most expected option.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field, create_model

from socialsim.scenarios.norms.frames import NormFrame

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Judgement(BaseModel):
    """An agent's judgement of an observed behaviour."""

    judgement: Literal["expected", "okay", "unexpected"] = Field(
        ..., description="how most people in this situation would see the behaviour"
    )
    reason: str = Field("", description="one short sentence")


_SCHEMAS: dict[int, type[BaseModel]] = {}


def choice_schema(n_options: int) -> type[BaseModel]:
    """The constrained-choice schema: `choice` is one of the first n option letters."""
    if n_options not in _SCHEMAS:
        letters = tuple(LETTERS[:n_options])
        _SCHEMAS[n_options] = create_model(
            f"NormChoice{n_options}",
            choice=(
                Literal[letters],
                Field(..., description="the letter of the option you choose"),
            ),
            justification=(str, Field("", description="one short sentence saying why")),
        )
    return _SCHEMAS[n_options]


def conformity_choice(frame: NormFrame, visible: list[str], threshold: float = 0.5) -> str:
    """Baseline rule: copy the most common visible behaviour if its share > threshold, else the most expected.

    Ties between equally common behaviours go to the more expected one, so the rule does not
    depend on the order in which neighbours are listed.
    """
    known = {o.behaviour: o for o in frame.options}
    counts = Counter(b for b in visible if b in known)
    if counts:
        top = max(counts.values())
        tied = [known[b] for b, n in counts.items() if n == top]
        best = max(tied, key=lambda o: (o.judgements.get("expected", 0.0), o.adherent))
        if top / len(visible) > threshold:
            return best.behaviour
    return frame.most_expected().behaviour


def choice_prompt(frame: NormFrame, order: list[str], seen: list[tuple[str, str]]) -> str:
    """The question put to an agent: the situation, lettered options, neighbours' choices if shown."""
    lines = [frame.describe(), "", "What do you do? Options:"]
    lines += [f"{LETTERS[k]}. {b}" for k, b in enumerate(order)]
    if seen:
        lines += ["", "What people you know did in this same situation last time:"]
        lines += [f"- {name} chose: {behaviour}" for name, behaviour in seen]
    lines += ["", "Answer with the letter of your choice and one short sentence explaining why."]
    return "\n".join(lines)


def judgement_prompt(frame: NormFrame, name: str, behaviour: str) -> str:
    """The question asking an agent to judge a neighbour's behaviour in a frame."""
    details = {**frame.roles, **frame.attributes, **frame.constraints}
    facts = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in details.items())
    return "\n".join(
        [
            f"Situation ({frame.setting}): {frame.situation}".strip(),
            f"Details: {facts}." if facts else "",
            f"{name}, the {frame.actor}, did this: {behaviour}",
            "How would most people in this situation see it? expected = what people normally do; "
            "okay = acceptable but not typical; unexpected = a violation people would notice.",
        ]
    )
