"""How agents answer an exposure: the rule baseline's probability, and the LLM question.

Rule agents accept the claim of an item they see with probability

    p0 = clip(credulity * framing_weight(framing, source_style, f, s) * (1 - d * manipulated), 0, 1)
    p_n = 1 - (1 - p0) ** (1 + repetition * (n - 1))

where ``f`` / ``s`` are the persona's framing and source susceptibilities
(:func:`socialsim.core.claims.framing_weight`; a neutral framing or a plain source counts 1),
``d`` is ``discernment`` (how much less a manipulated version is accepted) and ``n`` is the
exposure's index for this agent and claim. The second line is the illusory-truth term: each
earlier exposure counts as ``repetition`` further independent chances to accept, so
``repetition: 0`` makes every exposure alike. The draw is the model's seeded generator; the
answer's confidence is the probability of the answer given (``p_n`` when it accepts,
``1 - p_n`` when not). LLM agents get one question per exposure (:func:`exposure_question`),
never stored in their memory.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from socialsim.core.claims import framing_weight
from socialsim.scenarios.feed.params import NEUTRAL, PLAIN
from socialsim.simulation.queries import Question

TAG = "feed_exposure_v1"


class ExposureAnswer(BaseModel):
    """An agent's answer to a post: does it accept the claim, and how sure it is (0-100)."""

    accept: bool = Field(..., description="true if you accept the post's claim as true")
    confidence: int = Field(..., ge=0, le=100, description="how sure you are of your answer")


def weight_table(
    framings: list[str],
    sources: list[str],
    framing_susceptibility: np.ndarray,
    source_susceptibility: np.ndarray,
) -> np.ndarray:
    """``framing_weight`` for every agent, framing and source style: (agents, framings, sources)."""
    f = np.asarray(framing_susceptibility, dtype=np.float64)
    s = np.asarray(source_susceptibility, dtype=np.float64)
    table = np.empty((len(f), len(framings), len(sources)))
    for a, framing in enumerate(framings):
        for b, source in enumerate(sources):
            table[:, a, b] = framing_weight(
                None if framing == NEUTRAL else framing, None if source == PLAIN else source, f, s
            )
    return table


def acceptance_probability(base: np.ndarray, exposure: np.ndarray, repetition: float) -> np.ndarray:
    """``p_n = 1 - (1 - p0) ** (1 + repetition * (n - 1))`` for first-exposure chances `base`."""
    p0 = np.clip(np.asarray(base, dtype=np.float64), 0.0, 1.0)
    return 1.0 - (1.0 - p0) ** (1.0 + repetition * (np.asarray(exposure) - 1.0))


def rule_answers(p: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(accepted, confidence) for chances `p` and uniform `draws`: accept when draw < p."""
    accepted = draws < p
    return accepted, np.where(accepted, p, 1.0 - p)


def exposure_prompt(text: str) -> str:
    """The question an LLM agent answers about one post in its feed."""
    return (
        "You are scrolling through your social media feed and see this post:\n\n"
        f'"{text}"\n\n'
        "Do you accept what the post claims as true? Answer in JSON as "
        '{"accept": true or false, "confidence": <0-100, how sure you are of your answer>}.'
    )


def exposure_question(agent: int, text: str) -> Question:
    """One structured question about one exposure (not added to or read from memory)."""
    return Question(
        agent_id=agent,
        prompt=exposure_prompt(text),
        schema=ExposureAnswer,
        tag=TAG,
        use_memory=False,
    )
