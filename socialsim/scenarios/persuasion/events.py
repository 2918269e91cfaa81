"""The payloads the persuasion scenarios log: campaign stances and persuader seeds, debate
pairs, authority outcomes, and the stance probes of repeated exposure."""

from __future__ import annotations

from socialsim.core.events import ABSENT, EventPayload, described, event_payload


@event_payload("injection", "persuader")
class PersuaderInjection(EventPayload):
    """A campaign persuader seeded with its stance."""

    stance: str = described("for or against the proposition")
    strategy: str = described("the persuasion strategy it follows")


@event_payload("action", "stance")
class Stance(EventPayload):
    """The population's stance on the proposition after a step (no ``agent``)."""

    proposition: str = described("the proposition's id")
    measure: str = described("what the stance is read from: credence")
    asked: int = described("agents measured")
    answered: int = described("agents whose stance is known")
    failed: int = described("agents whose stance is unknown (a failed answer)")
    stance: float | None = described("mean credence of those known")
    agree: int = described("agents with credence >= 0.5")
    histogram: list[int] = described("agents at each of the five agreement levels")
    target_stance: str = described("the stance the campaign pushes: for or against")


@event_payload("action", "debate_pair")
class DebatePair(EventPayload):
    """One persuader-target debate: agreement before and after (``target`` the target)."""

    pair: int = described("the pair's index")
    persuader: int = described("the persuading agent")
    target: int = described("the agent persuaded")
    proposition: str = described("the proposition's id")
    persuader_kind: str = described("what the persuader is: llm, human-like, ...")
    personalised: bool = described("the persuader saw the target's persona")
    side: str | None = described("the side the persuader argues: opposite the target's stance")
    side_drawn: bool = described("the target was neutral (3): the side was drawn at random", ABSENT)
    opponent_model: str | None = described(
        "model string on the opponent's turns (null: the population's, or no LLM turns)", ABSENT
    )
    status: str = described("answered or failed")
    pre: int | None = described("agreement toward the persuader's side before")
    post: int | None = described("agreement toward the persuader's side after")
    shift: int | None = described("post - pre")
    pre_agreement: int | None = described("the raw agreement level before (1-5)")
    post_agreement: int | None = described("the raw agreement level after (1-5)")
    rounds: int = described("debate rounds (0 in the control arm)")
    turns_asked: int = described("turns asked of the model")
    turns_failed: int = described("turns whose answer failed")
    source: str = described("llm or rule: the target's policy")
    error: str = described("why the pair failed", ABSENT)


@event_payload("action", "authority_outcome")
class AuthorityOutcome(EventPayload):
    """An agent's answer to a question before and after an authority's wrong answer."""

    question_id: str = described("the question's id")
    status: str = described("answered or failed")
    error: str = described("which answer failed and why", ABSENT)
    before_answer: str | None = described("the letter before")
    after_answer: str | None = described("the letter after")
    correct_answer: str = described("the true letter")
    authority_answer: str = described("the letter the authority pushes")
    before_confidence: float | None = described("confidence before")
    after_confidence: float | None = described("confidence after")
    outcome: str | None = described("the outcome state (``authority_states.OUTCOMES``)")
    source: str = described("llm or rule")
    mode: str = described("paired (independent requests) or conversation", ABSENT)
    domain: str = described("the question's domain", ABSENT)
    authority_role: str | None = described("who asserted the false answer (null: control)", ABSENT)
    confidence_source: str = described(
        "where before/after_confidence come from: logprob (the chosen letter's probability "
        "x 100) or verbal (the stated 0-100 scale)",
        ABSENT,
    )
    before_verbal_confidence: float | None = described("the stated confidence before", ABSENT)
    after_verbal_confidence: float | None = described("the stated confidence after", ABSENT)


@event_payload("action", "stance_probe")
class StanceProbe(EventPayload):
    """An agent's agreement with the proposition after some number of exposures."""

    exposure: int = described("exposures so far")
    status: str = described("answered or failed")
    stance: int | None = described("agreement toward its side")
    agreement: int | None = described("the raw agreement level (1-5)")
    side: str | None = described("the side it was shown")
    topic: str = described("the proposition's topic")
    proposition: str = described("the proposition's id")
    mode: str = described("how exposure accumulates (none in the control arm)")
    source: str = described("llm or rule")
    error: str = described("why the probe failed", ABSENT)
