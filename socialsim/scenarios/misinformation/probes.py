"""Probes of the misinformation scenario: every present agent answers the claim's probes.

All questions of a probe step go out in one batch (``model.ask``); rule agents answer from
their credence. Each answer is scored and logged as a ``probe`` event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ValidationError

from socialsim.core.claims import (
    PROBE_DECAY,
    Distance,
    LibraryClaim,
    answer_schema,
    probe_prompt,
    rule_answer,
    score_answer,
)
from socialsim.core.events import ABSENT, Probe
from socialsim.scenarios.misinformation.elicitation import (
    CredenceAnswer,
    credence_from,
    credence_prompt,
)
from socialsim.simulation.queries import Question

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel


def ask_probes(
    model: SocialModel,
    claim: LibraryClaim,
    distances: list[Distance],
    credence: bool = False,
    decay: float = PROBE_DECAY,
) -> None:
    """Ask the probe questions of every present agent (one batch) and log `probe` events.

    A failed or unusable answer is logged with ``status: failed`` and null ``answer``,
    ``correct`` and ``manipulated``: it is never scored as right or wrong. With `credence`
    (``elicitation: probe``), every present LLM agent is first asked its credence in the
    manipulated statement (:func:`ask_credences`). Rule agents answer by
    :func:`~socialsim.core.claims.rule_answer` with `decay`, from a uniform draw seeded by the
    run's seed, the step, the agent and the probe (the same seed gives the same answers).
    """
    if credence:
        ask_credences(model, claim)
    probes = claim.probes_at(distances)
    col = model.beliefs.index[claim.id]
    questions: list[Question] = []
    asked: list = []
    for agent in np.flatnonzero(model.present).tolist():
        credence = float(model.beliefs.credence[agent, col])
        for probe in probes:
            schema = answer_schema(probe)
            questions.append(
                Question(
                    agent_id=agent,
                    prompt=probe_prompt(probe),
                    schema=schema,
                    tag="misinfo_probe",
                    fallback=lambda s=schema, q=probe, c=credence, a=agent: s(
                        answer=rule_answer(q, c, decay=decay, draw=_draw(model, a, q.id))
                    ),
                )
            )
            asked.append(probe)
    answers = model.ask(questions)
    unknown = model.beliefs.unknown[:, col]
    for question, probe, answer in zip(questions, asked, answers, strict=True):
        letter = getattr(answer.value, "answer", None) if answer.ok else None
        agent = question.agent_id
        correct, manipulated = score_answer(probe, letter) if letter is not None else (None, None)
        fields = Probe(
            probe_id=probe.id,
            distance=probe.distance,
            question=probe.question,
            answer=letter,
            status="answered" if letter is not None else "failed",
            correct=correct,
            manipulated=manipulated,
            credence=None if unknown[agent] else float(model.beliefs.credence[agent, col]),
            source="llm" if model.is_llm(agent) else "rule",
            role=model.roles.get(agent),
            error=ABSENT if letter is not None else answer.error or "no answer",
        )
        model.emit("probe", agent=agent, claim=claim.id, payload=fields.as_payload())


def _draw(model: SocialModel, agent: int, probe_id: str) -> float:
    """A uniform number in [0, 1) for this agent, probe and step, from the run's seed."""
    return model.question_seed(agent, f"probe:{probe_id}") / 2**32


def ask_credences(model: SocialModel, claim: LibraryClaim) -> None:
    """Ask every present LLM agent how sure it is of the manipulated statement (one batch).

    Each usable answer sets the agent's credence (a ``belief_change`` with cause ``probe``);
    after a failed one the credence is unknown (``new: null``; NaN in the agents table, out of
    every belief measure) until a later answer sets it. Like every question, neither the
    question nor the answer is stored in the agent's memory or inbox.
    """
    agents = [a for a in np.flatnonzero(model.present).tolist() if model.is_llm(a)]
    # the order of the two statements, per agent and step, from a hash (no draw from model.rng)
    first = {a: model.question_seed(a, "misinfo_credence_order") % 2 == 0 for a in agents}
    questions = [
        Question(
            agent_id=a,
            prompt=credence_prompt(claim, first[a]),
            schema=CredenceAnswer,
            tag="misinfo_credence",
        )
        for a in agents
    ]
    for question, answer in zip(questions, model.ask(questions), strict=True):
        parsed = _credence_answer(answer.value) if answer.ok else None
        if parsed is not None:
            value = credence_from(parsed, first[question.agent_id])
            model.set_credence(question.agent_id, claim.id, value, cause="probe", ref="credence")
        else:
            model.forget_credence(
                question.agent_id, claim.id, cause="probe", ref="credence", reason="no answer"
            )


def _credence_answer(value: object) -> CredenceAnswer | None:
    """The answer as a CredenceAnswer (a client may hand back a dict), or None if it is not one."""
    if isinstance(value, CredenceAnswer):
        return value
    data = value.model_dump() if isinstance(value, BaseModel) else value
    try:
        return CredenceAnswer.model_validate(data)
    except ValidationError:
        return None
