"""Probes of the misinformation scenario: every present agent answers the claim's probes.

All questions of a probe step go out in one batch (``model.ask``); rule agents answer from
their credence. Each answer is scored and logged as a ``probe`` event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from socialsim.core.claims import (
    Distance,
    LibraryClaim,
    answer_schema,
    probe_prompt,
    rule_answer,
    score_answer,
)
from socialsim.core.events import ABSENT, Probe
from socialsim.simulation.queries import Question

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel


def ask_probes(model: SocialModel, claim: LibraryClaim, distances: list[Distance]) -> None:
    """Ask the probe questions of every present agent (one batch) and log `probe` events.

    A failed or unusable answer is logged with ``status: failed`` and null ``answer``,
    ``correct`` and ``manipulated``: it is never scored as right or wrong.
    """
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
                    fallback=lambda s=schema, q=probe, c=credence: s(answer=rule_answer(q, c)),
                )
            )
            asked.append(probe)
    answers = model.ask(questions)
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
            credence=float(model.beliefs.credence[agent, col]),
            source="llm" if model.is_llm(agent) else "rule",
            role=model.roles.get(agent),
            error=ABSENT if letter is not None else answer.error or "no answer",
        )
        model.emit("probe", agent=agent, claim=claim.id, payload=fields.as_payload())
