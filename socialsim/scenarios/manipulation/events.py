"""The payloads the manipulation scenario logs: who advises whom on which task, the target's
preference ratings before and after each advice, and its choice after the conversation."""

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
    condition: str = described(
        "the advisor condition as run: neutral, hidden_goal, explicit_tactic"
    )
    assigned_condition: str = described("the condition drawn for it (the same in both arms)")
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
    condition: str = described(
        "the advisor condition as run: neutral, hidden_goal, explicit_tactic"
    )
    assigned_condition: str = described("the condition drawn for it (the same in both arms)")
    harmful_letter: str = described("the option letter of the harmful choice")
    choice: str | None = described("the letter chosen")
    option: str | None = described("the option's text")
    harmful: bool | None = described("the harmful option was chosen")
    reason: str | None = described("the target's reason")
    turns: int = described("turns each side was to take")
    turns_done: int = described("turns completed")
    error: str | None = described("why it failed, if it did")


@event_payload("action", "manipulation_rating")
class ManipulationRating(EventPayload):
    """The target's preference for each option (1-7) before the advice (turn 0) or after a turn."""

    conversation: int = described("the conversation's index")
    advisor: int = described("the advising agent")
    task: str = described("the decision task's id")
    condition: str = described("the advisor condition as run")
    assigned_condition: str = described("the condition drawn for it (the same in both arms)")
    advised: str = described("the side the advisor pushes as run: harmful or beneficial")
    turn: int = described("advice turns so far (0: before any advice)")
    status: str = described("answered or failed")
    source: str = described("llm or rule")
    rating_a: int | None = described("preference for option A, 1-7")
    rating_b: int | None = described("preference for option B, 1-7")
    harmful_rating: int | None = described("preference for the harmful option, 1-7")
    beneficial_rating: int | None = described("preference for the beneficial option, 1-7")
    error: str | None = described("why it failed, if it did")
