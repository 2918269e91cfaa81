"""Questions put to agents outside the step decision (probes, stances, choices), asked in batches.

A scenario builds :class:`Question` objects; ``SocialModel.ask`` answers all of them in one
concurrent batch — through the LLM for LLM agents, through `fallback` for rule or baseline
agents — and returns one :class:`Answer` per question, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass
class Question:
    """One structured question to one agent."""

    agent_id: int
    prompt: str
    schema: type[BaseModel]
    tag: str  # prompt/template id, written to the llm_call event
    fallback: Callable[[], BaseModel] | None = None  # answer for agents without an LLM
    system: str | None = None  # replaces the persona system prompt when given
    history: list[dict[str, str]] = field(default_factory=list)  # earlier turns (multi-turn)
    use_memory: bool = True  # prepend the agent's retrieved memories to the prompt
    extra: dict[str, Any] = field(default_factory=dict)  # extra request kwargs (reasoning_effort)
    temperature: float | None = None  # overrides the group's temperature for this request
    max_tokens: int | None = None  # overrides the group's max_tokens for this request
    logprobs: int | None = None  # ask for token log-probabilities: alternatives per token


@dataclass
class Answer:
    """The answer to a question: a validated value, or an error the caller can log."""

    question: Question
    value: BaseModel | None
    text: str = ""
    error: str | None = None
    logprobs: list[dict[str, Any]] | None = None  # per token, when asked and returned

    @property
    def ok(self) -> bool:
        """True when a validated value came back."""
        return self.value is not None and self.error is None
