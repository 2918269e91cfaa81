"""Paraphrased wordings of a scenario's prompts, selected by the ``wording`` param.

A scenario family declares its paraphrases as a table: each fixed fragment of its prompts
(an instruction sentence, a system prompt's opening) maps to three rewordings that keep its
meaning and its slots. ``wording: 0`` asks the prompts as the family writes them; ``wording:
k`` (1..3) replaces every fragment found in a question's prompt, system prompt and earlier
turns by its k-th rewording, just before the question is asked (:meth:`SocialModel.ask`).
What the question is about (the situation, the options, the other side's words) is left
as it is, so a sweep over ``scenario.params.wording`` asks the same questions in four
wordings, and :mod:`socialsim.analysis.prompt_sensitivity` tests whether a result moves
with them (per-agent flip rates in :mod:`socialsim.analysis.wording_flips`).

>>> table = {"What do you do?": ("What would you do?", "Which do you pick?", "Your move?")}
>>> reword("Rain. What do you do?", 2, table)
'Rain. Which do you pick?'
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field

from socialsim.core.errors import ConfigError

if TYPE_CHECKING:
    from socialsim.simulation.queries import Question

#: Wordings a scenario offers: 0 (its own) and three paraphrases.
WORDINGS = 4
Paraphrases = Mapping[str, Sequence[str]]


def wording_field() -> Any:
    """The ``wording`` param every scenario family with paraphrases declares."""
    return Field(
        0,
        ge=0,
        le=WORDINGS - 1,
        description=(
            "which wording of the scenario's prompts to ask: 0 as written, 1-3 paraphrases "
            "(sweep scenario.params.wording to test whether results hinge on the wording)"
        ),
    )


def check_paraphrases(table: Paraphrases, family: str) -> Paraphrases:
    """Check a family's table: WORDINGS - 1 distinct non-empty rewordings per fragment."""
    for original, rewordings in table.items():
        texts = [original, *rewordings]
        if len(rewordings) != WORDINGS - 1 or not all(t.strip() for t in texts):
            raise ConfigError(
                f"{family} paraphrases: {original[:40]!r} needs {WORDINGS - 1} non-empty rewordings"
            )
        if len(set(texts)) != len(texts):
            raise ConfigError(f"{family} paraphrases: {original[:40]!r} repeats a wording")
    return table


def reword(text: str | None, wording: int, table: Paraphrases) -> str | None:
    """`text` with each fragment of `table` replaced by its `wording`-th rewording (0: as is).

    One pass, longer fragments first: a fragment inside another is not split, and a
    rewording is never reworded again.
    """
    if not text or not wording or not table:
        return text
    if not 0 < wording < WORDINGS:
        raise ConfigError(f"scenario.params.wording: {wording} is not 0-{WORDINGS - 1}")
    pattern = re.compile("|".join(re.escape(f) for f in sorted(table, key=len, reverse=True)))
    return pattern.sub(lambda found: table[found.group(0)][wording - 1], text)


def reworded_questions(
    questions: list[Question], wording: int, table: Paraphrases
) -> list[Question]:
    """Copies of `questions` whose prompt, system prompt and earlier turns are reworded."""
    if not wording or not table:
        return questions
    return [
        dataclasses.replace(
            q,
            prompt=reword(q.prompt, wording, table) or "",
            system=reword(q.system, wording, table),
            history=[
                {**turn, "content": reword(turn.get("content"), wording, table) or ""}
                for turn in q.history
            ],
        )
        for q in questions
    ]


def fragments_used(texts: Sequence[str | None], table: Paraphrases) -> set[str]:
    """The fragments of `table` that occur in any of `texts` (what a wording would change)."""
    return {original for original in table for text in texts if text and original in text}
