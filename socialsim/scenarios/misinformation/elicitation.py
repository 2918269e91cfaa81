"""How the misinformation scenario reads beliefs without (or with) showing the claim.

``elicitation: probe`` (the default): an LLM agent's step prompt names a topic, never the
claim; its credence is read at probe steps by a separate question (:func:`credence_question`)
beside the multiple-choice probes. Questions go through ``model.ask``, which neither stores
them nor their answers in the agent's memory or inbox, so nothing of a probe reaches a later
prompt. ``elicitation: stated`` shows the claim and the agent's credence in every decision
prompt and reads the credence from the decision (the instrument is then part of the
treatment of every arm). The ``instrument`` arm removes the manipulation and asks nothing until
the final step, whatever the elicitation, so comparing it with the control arm measures what
the measuring does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, field_validator

from socialsim.core.claims import LibraryClaim
from socialsim.core.errors import ConfigError
from socialsim.llm.prompts import fields as template_fields

if TYPE_CHECKING:
    from socialsim.core.decisions import Observation
    from socialsim.simulation.config import ExperimentConfig

#: template fields that show a claim or a credence in it
CLAIM_FIELDS = frozenset({"beliefs", "credences", "claims", "statements", "sure"})
#: the template used for LLM agents under ``elicitation: probe`` unless one is set
CHAT_TEMPLATE = "chat_v1"


class CredenceAnswer(BaseModel):
    """An agent's answer to the credence question: which statement, and how sure."""

    choice: Literal["A", "B"] = Field(..., description="the statement you think is true")
    sure: float = Field(..., ge=0.0, le=1.0, description="0.5: a guess, 1: certain")

    @field_validator("sure", mode="before")
    @classmethod
    def _percent(cls, value: object) -> object:
        """A number from 2 to 100 is a percentage (models often answer 90 for 0.9)."""
        if isinstance(value, int | float) and not isinstance(value, bool) and 2 <= value <= 100:
            return value / 100
        return value


def credence_prompt(claim: LibraryClaim, manipulated_first: bool) -> str:
    """The credence question: the true and the manipulated statement side by side, in the
    given order (drawn per agent, so that a preference for A or B is noise, not a bias toward
    the claim), asking which is true and how sure. Under ``probe`` this and the probes are the
    only places an agent is shown the claim."""
    pair = [claim.manipulated_statement, claim.true_statement]
    first, second = pair if manipulated_first else pair[::-1]
    return (
        "Which of these two statements is true?\n"
        f"A) {first}\n"
        f"B) {second}\n"
        'Reply in JSON as {"choice": "A" or "B", "sure": <from 0.5 (a guess) to 1 (certain)>}.'
    )


def credence_from(answer: CredenceAnswer, manipulated_first: bool) -> float:
    """The credence in the manipulated statement an answer gives: `sure` if it chose the
    manipulated statement, else ``1 - sure`` (a `sure` below 0.5 leans the other way)."""
    chose_manipulated = (answer.choice == "A") == manipulated_first
    return float(answer.sure) if chose_manipulated else 1.0 - float(answer.sure)


def topic_of(claim: LibraryClaim, topic: str | None) -> str:
    """What agents talk about: the configured topic, else the direct probe's question."""
    return topic or claim.direct_probe().question


def hide_claim(observation: Observation, topic: str) -> None:
    """Take the claims and credences out of an observation and give it the topic instead."""
    observation.claims = []
    observation.beliefs = {}
    observation.topic = topic


def check_templates(cfg: ExperimentConfig) -> None:
    """ConfigError when a template set for LLM agents shows the claim (probe elicitation)."""
    prompts = [("agents.prompt", cfg.agents.policy, cfg.agents.prompt)]
    prompts += [
        (f"agents.mix[{i}].prompt", m.policy, m.prompt) for i, m in enumerate(cfg.agents.mix)
    ]
    for where, _policy, prompt in prompts:
        if prompt is None or prompt.template is None:
            continue
        shown = sorted(template_fields(prompt.template) & CLAIM_FIELDS)
        if shown:
            raise ConfigError(
                f"{where}.template: {prompt.template} shows the claim ({{{shown[0]}}}) in every "
                f"prompt, which scenario.params.elicitation: probe avoids; use {CHAT_TEMPLATE} "
                "(or leave the template unset), or set scenario.params.elicitation: stated"
            )


def design_sentence(elicitation: str, arm: str) -> str:
    """One sentence for the report: how this run's beliefs were read."""
    if arm == "instrument":
        return (
            "Beliefs: instrument arm (no manipulation, and no claim shown to any agent and no "
            "probe asked before the last probe step)."
        )
    if elicitation == "stated":
        return (
            "Beliefs: stated (every LLM agent's prompt shows the claim and asks its credence "
            "each step, in every arm; this instrument can itself spread the claim)."
        )
    return (
        "Beliefs: probed (agents talk about the topic without being shown the claim; "
        "credences and answers come from separate probe questions that never enter their "
        "memory, inbox or later prompts)."
    )


__all__ = [
    "CHAT_TEMPLATE",
    "CLAIM_FIELDS",
    "CredenceAnswer",
    "check_templates",
    "credence_from",
    "credence_prompt",
    "design_sentence",
    "hide_claim",
    "topic_of",
]
