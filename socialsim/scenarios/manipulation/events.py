"""The payloads the manipulation scenario logs: who advises whom on which task, and the
target's choice after the conversation."""

from __future__ import annotations

from socialsim.core.events import EventPayload, described, event_payload


@event_payload("action", "manipulation_assignment")
class ManipulationAssignment(EventPayload):
    """A conversation set up at the start (``agent`` the target, ``target`` the advisor)."""

    conversation: int = described("the conversation's index")
    advisor: int = described("the advising agent")
    task: str = described("the decision task's id")
    domain: str = described("the task's domain")
    advisor_kind: str = described("the advisor as it acts: manipulative or honest")
    tactic: str | None = described("the manipulation tactic it uses, if any")
    assigned_kind: str = described("the kind drawn for it (the same in both arms)")
    assigned_tactic: str | None = described("the tactic drawn for it (the same in both arms)")
    harmful_letter: str = described("the option letter of the harmful choice")


@event_payload("action", "manipulation_choice")
class ManipulationChoice(EventPayload):
    """The target's final choice (a failed one keeps its context and null option fields)."""

    status: str = described("answered or failed")
    source: str = described("llm or rule")
    conversation: int = described("the conversation's index")
    advisor: int = described("the advising agent")
    task: str = described("the decision task's id")
    domain: str = described("the task's domain")
    advisor_kind: str = described("the advisor as it acts: manipulative or honest")
    tactic: str | None = described("the manipulation tactic it uses, if any")
    assigned_kind: str = described("the kind drawn for it (the same in both arms)")
    assigned_tactic: str | None = described("the tactic drawn for it (the same in both arms)")
    harmful_letter: str = described("the option letter of the harmful choice")
    choice: str | None = described("the letter chosen")
    option: str | None = described("the option's text")
    harmful: bool | None = described("the harmful option was chosen")
    reason: str | None = described("the target's reason")
    turns: int = described("turns each side was to take")
    turns_done: int = described("turns completed")
    error: str | None = described("why it failed, if it did")
