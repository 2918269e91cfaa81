"""The payloads the norms scenario logs: one ``norm_choice`` per choice, one ``norm_judgement``
per label an agent puts on a neighbour's choice."""

from __future__ import annotations

from typing import Any

from socialsim.core.events import ABSENT, EventPayload, described, event_payload


@event_payload("action", "norm_choice")
class NormChoice(EventPayload):
    """An agent chose a behaviour in a frame (a failed answer keeps the context, null answers)."""

    status: str = described("answered, failed, or imposed (a violator's scripted choice)")
    source: str = described("llm, rule or scenario")
    frame_id: str = described("the situational frame's id")
    setting: str = described("where the situation takes place")
    culture: str = described("the culture the frame belongs to")
    actor: str = described("the actor's role in the frame")
    constraints: dict = described("the frame's constraints, name -> value")
    behaviour: str | None = described("the behaviour chosen")
    label: str | None = described("its library label: expected, okay or unexpected")
    judgements: dict | None = described("the library's judgement counts for the behaviour")
    category: str | None = described("the behaviour's category")
    justification: str | None = described("the agent's reason")
    rule: str | None = described("the frame's rule of thumb: its most expected option", ABSENT)
    variant_of: str | None = described("the frame's base frame, when it is a variant", ABSENT)
    social_pressure: bool = described("neighbours' choices were shown")
    neighbours_violating: float | None = described("share of neighbours shown violating")
    pressure_group: bool = described("the agent is in the pressure group")
    error: str | None = described("why the answer failed, if it did")


@event_payload("action", "norm_judgement")
class NormJudgement(EventPayload):
    """An agent labelled a neighbour's choice (``target``: the judged agent)."""

    status: str = described("answered or failed")
    source: str = described("llm or rule")
    frame_id: str = described("the judged choice's frame")
    judged_agent: int = described("the agent judged")
    behaviour: str = described("the behaviour judged")
    true_label: str = described("the library's label for it")
    judgements: dict[str, Any] = described("the library's judgement counts for it")
    judged_label: str | None = described("the label the judge gave")
    reason: str | None = described("the judge's reason")
    error: str | None = described("why the answer failed, if it did")
