"""Collaboration gap scenario: agents solve mazes alone and in pairs with split information.

Each step draws ``trials_per_step`` mazes and runs one trial per maze and condition:
``solo`` (one agent, full map), ``pair`` (two agents with the same model, each seeing part
of the walls), ``heterogeneous`` (two agents with different models) and ``relay`` (the
stronger agent writes the first ``relay_k`` turns for both seats, then each agent speaks for
itself). Pairs talk in free text; turn t of every running trial goes out as one
``model.ask`` batch. A trial ends when both agents state the same path in consecutive
messages, or after ``max_turns``; the last path-like statement of the dialogue is graded.
Agents without an LLM play the BFS baseline (:func:`socialsim.scenarios.collaboration.maze.baseline_message`).

Each trial is logged as a ``collab_trial`` action with a ``status``: ``answered`` (every turn
got a usable message; the path is graded) or ``failed`` (a turn's answer was unusable: the
trial stops there, its grade fields are null and ``error`` says why). The measures live in
:mod:`socialsim.scenarios.collaboration.measures`. The scenario has no manipulation: its control arm
runs unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socialsim.core.errors import ConfigError
from socialsim.scenarios.collaboration.events import CollabTrial
from socialsim.scenarios.collaboration.maze import (
    Maze,
    View,
    baseline_message,
    check_size,
    extract_path,
    generate_maze,
    grade,
    optimal_path,
    solo_view,
    split_views,
)
from socialsim.scenarios.collaboration.wordings import PARAPHRASES
from socialsim.simulation.queries import Question
from socialsim.simulation.wording import wording_field
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel

Condition = Literal["solo", "pair", "heterogeneous", "relay"]
SYSTEM = (
    "You are solving a maze puzzle. Moves are U (up), D (down), L (left), R (right); "
    "you cannot move through walls ('|' or '---'). Be brief and precise."
)


class MazeSpec(BaseModel):
    """Maze size, how the walls are split between partners, and extra openings."""

    model_config = ConfigDict(extra="forbid")

    width: int = Field(5, ge=1, le=50)
    height: int = Field(5, ge=1, le=50)
    split: Literal["region", "mask"] = "region"
    extra_openings: float = Field(
        0.0, ge=0.0, le=1.0, description="share of walls opened after carving"
    )
    start: tuple[int, int] | None = None
    goal: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _size(self) -> MazeSpec:
        try:
            check_size(self.width, self.height, self.start, self.goal)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self


class CollaborationParams(BaseModel):
    """Parameters of the collaboration scenario."""

    model_config = ConfigDict(extra="forbid")

    conditions: list[Condition] = Field(default_factory=lambda: ["solo", "pair"], min_length=1)
    trials_per_step: int = Field(2, ge=1, le=10_000, description="trials per condition and step")
    max_turns: int = Field(8, ge=2, le=100)
    maze: MazeSpec = Field(default_factory=MazeSpec)
    pairs: Literal["edges", "random"] = "edges"
    starter: Literal["random", "first", "stronger", "weaker"] = "random"
    relay_k: int = Field(2, ge=1)
    model_rank: list[str] = Field(
        default_factory=list, description="model strings, strongest first"
    )
    wording: int = wording_field()

    @model_validator(mode="after")
    def _relay(self) -> CollaborationParams:
        if "relay" in self.conditions and self.relay_k >= self.max_turns:
            raise ValueError(
                f"relay_k ({self.relay_k}) must be smaller than max_turns ({self.max_turns})"
            )
        return self


class TurnMessage(BaseModel):
    """One message in a maze dialogue."""

    message: str = Field(..., description="your message to your partner")


@dataclass
class Trial:
    """One maze attempt: who plays which seat, their views, and the dialogue so far."""

    id: int
    condition: str
    maze: Maze
    seats: list[int]
    views: list[View]
    models: list[str]
    leader: int | None = None
    starter_role: str = "equal"
    dialogue: list[tuple[int, str]] = field(default_factory=list)
    generated_by: list[int] = field(default_factory=list)
    done: bool = False
    error: str | None = None


def model_label(model: SocialModel, agent: int) -> str:
    """The model an agent speaks with: its persona's model, the group default, or 'baseline'."""
    if not model.is_llm(agent):
        return "baseline"
    own = model.agent(agent).model_string
    if own:
        return own
    groups = getattr(model, "groups", None)
    policy_of = getattr(model, "policy_of", None)
    if groups is not None and policy_of is not None:
        cfg = groups[int(policy_of[agent])].llm_config
        if cfg is not None:
            return cfg.model
    return model.cfg.agents.llm.model


#: the answer's form, as the request's schema (TurnMessage) asks it: said in the prompt too,
#: for servers that do not constrain their output to the schema
_REPLY = 'Reply in JSON as {"message": "..."}.'


def turn_prompt(trial: Trial, seat: int, names: list[str]) -> str:
    """What the agent in `seat` is asked at its turn: task, its map, the conversation so far."""
    maze, view = trial.maze, trial.views[seat]
    where = (
        f"S is the start at (row {maze.start[0]}, col {maze.start[1]}); G is the goal at "
        f"(row {maze.goal[0]}, col {maze.goal[1]}); rows count from the top, columns from the left."
    )
    if len(trial.seats) == 1:
        return "\n".join(
            [
                f"Find a path through this {maze.width}x{maze.height} maze from S to G.",
                where,
                view.render(),
                "State the full path as a list of moves, e.g. PATH: R R D L.",
                _REPLY,
            ]
        )
    partner = names[1 - seat]
    lines = [
        f"You and your partner {partner} must agree on one path through a {maze.width}x{maze.height} "
        f"maze from S to G. Each of you sees only some walls; '?' marks walls you cannot see, "
        f"and {partner} sees those.",
        where,
        "Your map:",
        view.render(),
        "",
    ]
    if trial.dialogue:
        lines.append("Conversation so far:")
        lines += [f"{'You' if s == trial.seats[seat] else partner}: {t}" for s, t in trial.dialogue]
    else:
        lines.append("You speak first.")
    lines.append(
        "Write your next message to your partner. Share what you see; when you are sure, "
        "state the full path from S to G as moves."
    )
    lines.append(_REPLY)
    return "\n".join(lines)


def final_path(dialogue: list[tuple[int, str]]) -> list | None:
    """The last path-like statement of a dialogue."""
    for _, text in reversed(dialogue):
        path = extract_path(text)
        if path is not None:
            return path
    return None


@register_scenario("collaboration")
class CollaborationScenario(Scenario):
    """Solo vs paired maze solving with split information; relay and who-starts conditions."""

    Params = CollaborationParams
    paraphrases = PARAPHRASES
    has_manipulation = False  # the control arm runs unchanged

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.models: list[str] = []
        self.mazes = 0
        self._solo: dict[str, list[bool]] = {}
        self._next_id = 0

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Pairs need at least two agents."""
        pairs = [c for c in self.params.conditions if c != "solo"]
        if pairs and cfg.population.size < 2:
            raise ConfigError(f"scenario.params.conditions: {pairs[0]} needs population.size >= 2")

    def setup(self, model: SocialModel) -> None:
        """Check that a heterogeneous condition has agents with different models."""
        labels = {model_label(model, i) for i in range(model.n_agents)}
        self.models = sorted(labels)
        if "heterogeneous" in self.params.conditions and len(labels) < 2:
            raise ConfigError(
                "scenario.params.conditions: heterogeneous needs agents with different models; "
                "set per-persona `model` strings or an agents.mix entry with another llm"
            )

    # --- drawing trials ----------------------------------------------------------------------
    def strength(self, label: str) -> tuple[float, float]:
        """Rank from `model_rank` (higher is stronger), then solo success so far in this run."""
        rank = self.params.model_rank
        ranked = float(len(rank) - rank.index(label)) if label in rank else 0.0
        solo = self._solo.get(label, [])
        return ranked, (sum(solo) / len(solo) if solo else 0.0)

    def draw_pair(
        self, model: SocialModel, want: Literal["same", "different", "any"]
    ) -> tuple[int, int] | None:
        """Two present agents (a graph edge, or a random pair) whose models match `want`."""

        def ok(a: int, b: int) -> bool:
            same = model_label(model, a) == model_label(model, b)
            return want == "any" or (same if want == "same" else not same)

        present = [i for i in range(model.n_agents) if model.is_present(i)]
        if self.params.pairs == "edges":
            edges = [
                (int(a), int(b))
                for a, b in model.graph.edges()
                if a != b and model.is_present(a) and model.is_present(b) and ok(a, b)
            ]
            if edges:
                return edges[int(model.rng.integers(len(edges)))]
        candidates = [(a, b) for k, a in enumerate(present) for b in present[k + 1 :] if ok(a, b)]
        if not candidates:
            return None
        return candidates[int(model.rng.integers(len(candidates)))]

    def make_trial(self, model: SocialModel, condition: str, maze: Maze) -> Trial | None:
        """Seat the agents of one trial and give them their views."""
        self._next_id += 1
        if condition == "solo":
            present = [i for i in range(model.n_agents) if model.is_present(i)]
            if not present:
                return None
            a = present[int(model.rng.integers(len(present)))]
            return Trial(
                self._next_id, condition, maze, [a], [solo_view(maze)], [model_label(model, a)]
            )
        want = {"pair": "same", "heterogeneous": "different"}.get(condition, "different")
        pair = self.draw_pair(model, want) or (
            self.draw_pair(model, "any") if condition == "relay" else None
        )
        if pair is None:
            return None
        a, b = pair
        sa, sb = self.strength(model_label(model, a)), self.strength(model_label(model, b))
        stronger = a if sa > sb else b if sb > sa else None
        starter = self.params.starter
        if starter == "random":
            seats = [a, b] if model.rng.random() < 0.5 else [b, a]
        elif starter in ("stronger", "weaker") and stronger is not None:
            weaker = b if stronger == a else a
            seats = [stronger, weaker] if starter == "stronger" else [weaker, stronger]
        else:
            seats = [a, b]
        role = "equal" if stronger is None else "stronger" if seats[0] == stronger else "weaker"
        views = list(split_views(maze, self.params.maze.split, model.rng))
        leader = (stronger if stronger is not None else seats[0]) if condition == "relay" else None
        return Trial(
            self._next_id,
            condition,
            maze,
            seats,
            views,
            [model_label(model, s) for s in seats],
            leader=leader,
            starter_role=role,
        )

    # --- running -----------------------------------------------------------------------------
    def before_step(self, model: SocialModel) -> None:
        """Draw this step's mazes and trials, run every dialogue turn by turn, grade, log."""
        spec = self.params.maze
        mazes = [
            generate_maze(
                spec.width, spec.height, model.rng, spec.extra_openings, spec.start, spec.goal
            )
            for _ in range(self.params.trials_per_step)
        ]
        self.mazes += len(mazes)
        trials = [
            t for c in self.params.conditions for m in mazes if (t := self.make_trial(model, c, m))
        ]
        self.run_trials(model, trials)

    def run_trials(self, model: SocialModel, trials: list[Trial]) -> None:
        """Play all trials turn by turn (one ask batch per turn), then grade and log them."""
        for turn in range(self.params.max_turns):
            live = [t for t in trials if not t.done]
            if not live:
                break
            questions = [self._question(model, t, turn) for t in live]
            for trial, answer in zip(live, model.ask(questions), strict=True):
                seat = turn % len(trial.seats)
                speaker = trial.seats[seat]
                if not answer.ok:
                    trial.error = f"turn {turn + 1}: {answer.error or 'no usable answer'}"
                    trial.done = True
                    continue
                text = str(answer.value.message).strip()
                trial.dialogue.append((speaker, text))
                trial.generated_by.append(answer.question.agent_id)
                if len(trial.seats) == 1:
                    trial.done = True
                    continue
                if text:
                    model.send(speaker, text, to=trial.seats[1 - seat], channel="direct")
                if len(trial.dialogue) >= 2:
                    last, before = (
                        extract_path(trial.dialogue[-1][1]),
                        extract_path(trial.dialogue[-2][1]),
                    )
                    trial.done = last is not None and last == before
        for trial in trials:
            self._finish(model, trial)

    def _question(self, model: SocialModel, trial: Trial, turn: int) -> Question:
        seat = turn % len(trial.seats)
        speaker = trial.seats[seat]
        writer = (
            trial.leader if trial.leader is not None and turn < self.params.relay_k else speaker
        )
        names = [model.agent(s).persona.name for s in trial.seats]
        view = trial.views[seat]
        mine = [t for s, t in trial.dialogue if s == speaker]
        theirs = [t for s, t in trial.dialogue if s != speaker]

        def fallback() -> TurnMessage:
            return TurnMessage(message=baseline_message(view, theirs, mine))

        return Question(
            agent_id=writer,
            prompt=turn_prompt(trial, seat, names),
            schema=TurnMessage,
            tag="collab_turn_v1",
            fallback=fallback,
            system=SYSTEM,
            use_memory=False,
        )

    def _finish(self, model: SocialModel, trial: Trial) -> None:
        """Grade an answered trial (a failed one keeps null grade fields) and log it."""
        failed = trial.error is not None
        path = None if failed else final_path(trial.dialogue)
        verdict = None if failed else grade(trial.maze, path)
        payload = CollabTrial(
            status="failed" if failed else "answered",
            trial=trial.id,
            condition=trial.condition,
            models=trial.models,
            agents=trial.seats,
            starter=trial.seats[0],
            starter_role=trial.starter_role,
            success=None if verdict is None else verdict.success,
            valid=None if verdict is None else verdict.valid,
            reaches_goal=None if verdict is None else verdict.reaches_goal,
            path_error=None if verdict is None else verdict.error,
            error=trial.error,
            turns=len(trial.dialogue),
            messages=sum(1 for _, t in trial.dialogue if t),
            path_length=None if verdict is None else verdict.length,
            optimal_length=len(optimal_path(trial.maze)),
            maze_size=[trial.maze.width, trial.maze.height],
            split=self.params.maze.split,
            path=None if path is None else [list(p) if isinstance(p, tuple) else p for p in path],
            relay_k=self.params.relay_k if trial.condition == "relay" else None,
            generated_by=trial.generated_by,
        ).as_payload()
        partner = trial.seats[1] if len(trial.seats) > 1 else None
        model.emit("action", agent=trial.seats[0], target=partner, payload=payload)
        if verdict is not None and trial.condition == "solo":
            self._solo.setdefault(trial.models[0], []).append(verdict.success)

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: conditions, models, mazes drawn and their settings."""
        p = self.params
        return {
            "conditions": list(p.conditions),
            "models": self.models,
            "mazes": self.mazes,
            "trials_per_step": p.trials_per_step,
            "maze": p.maze.model_dump(),
            "max_turns": p.max_turns,
            "pairs": p.pairs,
            "starter": p.starter,
            "relay_k": p.relay_k if "relay" in p.conditions else None,
            "model_rank": list(p.model_rank),
        }
