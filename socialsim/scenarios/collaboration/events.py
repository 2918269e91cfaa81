"""The payload the collaboration scenario logs: one ``collab_trial`` per maze trial."""

from __future__ import annotations

from socialsim.core.events import EventPayload, described, event_payload


@event_payload("action", "collab_trial")
class CollabTrial(EventPayload):
    """A maze trial, graded (a failed one keeps null grade fields)."""

    status: str = described("answered or failed")
    trial: str = described("the trial's id")
    condition: str = described("solo, pair or relay")
    models: list[str] = described("each seat's model")
    agents: list[int] = described("the agents seated, starter first")
    starter: int = described("the agent who speaks first")
    starter_role: str | None = described("the starter's role in the pair")
    success: bool | None = described("the final path solves the maze")
    valid: bool | None = described("the final path is a valid walk")
    reaches_goal: bool | None = described("the final path ends at the goal")
    path_error: str | None = described("what is wrong with the path, if anything")
    error: str | None = described("why the trial failed, if it did")
    turns: int = described("dialogue turns taken")
    messages: int = described("turns that said something")
    path_length: int | None = described("the final path's length")
    optimal_length: int = described("the shortest path's length")
    maze_size: list[int] = described("width and height")
    split: str = described("how the maze is shown to the seats")
    path: list | None = described("the final path, as [x, y] cells")
    relay_k: int | None = described("turns per seat in relay")
    generated_by: str | None = described("what generated the maze")
