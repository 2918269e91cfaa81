"""Network growth: agents join over time and choose whom to follow; the network is grown.

The run starts with ``initial`` agents present; ``joiners_per_step`` more join at every step
(in id order; an agent not yet joined is absent: ``model.present`` is False, it neither
decides nor receives). Each joining agent is shown ``candidates`` present agents (a uniform
sample; 0 shows every present agent, for rule baselines only) and follows up to
``follows_per_join`` of them. With ``revisit`` a share of earlier joiners comes back each
step, is shown new candidates and whom it follows, and may follow one and unfollow one.
Every choice of a step sees the follower counts as they stood at its start.

LLM agents answer a structured question (:mod:`~socialsim.scenarios.network_growth.questions`);
the others follow the ``attachment`` rule (:mod:`~socialsim.scenarios.network_growth.graph`):
``preferential`` (weight followers + 1), ``uniform`` or ``homophilous`` (weight
``homophily_weight`` for a candidate sharing ``homophily_attribute``, else 1); a rule agent
that revisits follows one candidate by the rule and, with probability ``unfollow``, drops the
followee of lowest weight. The follow graph (follower -> followee) replaces the model's
network after every round (``model.set_edges``), so messages, rule policies and
``edges.parquet`` follow it.

Logged ``action`` events: ``joined`` (agent), ``follow`` / ``unfollow`` (agent = follower,
target = followee; enough to rebuild the graph at any step) and one ``follow_choice`` per
choice with a ``status``: ``answered`` or ``failed`` (the model's answer was unusable:
nothing changes, ``error`` says why; nothing is imputed). ``snapshot_every: k`` also writes
the follow edges after every k-th step to ``snapshots/follows_step_<k>.parquet`` in the run
directory. The measures live in :mod:`socialsim.scenarios.network_growth.measures`.

Control arm: every choice is made by uniform attachment (no question is asked), on the same
join schedule, revisit draws and candidate draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from socialsim.core.errors import ConfigError
from socialsim.scenarios.network_growth.events import Follow, FollowChoice, Joined, Unfollow
from socialsim.scenarios.network_growth.graph import (
    Attachment,
    FollowGraph,
    attachment_weights,
    pick_from_all,
    pick_weighted,
    sample_ids,
    weakest_followee,
)
from socialsim.scenarios.network_growth.questions import (
    check_choice,
    join_prompt,
    join_schema,
    revisit_prompt,
    revisit_schema,
)
from socialsim.scenarios.network_growth.wordings import PARAPHRASES
from socialsim.simulation.queries import Question
from socialsim.simulation.wording import wording_field
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel

HomophilyAttribute = Literal[
    "political_leaning", "gender", "country", "occupation", "education", "communication_style"
]


class NetworkGrowthParams(BaseModel):
    """Parameters of the network_growth scenario."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    initial: int = Field(5, ge=1, strict=True, description="agents present at the start")
    joiners_per_step: int = Field(5, ge=0, strict=True, description="agents joining per step")
    follows_per_join: int = Field(3, ge=0, strict=True, description="follows a joiner makes")
    candidates: int = Field(
        10, ge=0, strict=True, description="candidates shown per choice (0: every present agent)"
    )
    attachment: Attachment = Field("preferential", description="the rule baseline")
    homophily_attribute: HomophilyAttribute = "political_leaning"
    homophily_weight: float = Field(5.0, ge=0.0, description="weight of a same-attribute candidate")
    revisit: float = Field(
        0.0, ge=0.0, le=1.0, description="share of earlier joiners back per step"
    )
    unfollow: float = Field(0.5, ge=0.0, le=1.0, description="rule: chance a revisit drops one")
    snapshot_every: int = Field(
        0, ge=0, strict=True, description="write follow edges every k steps"
    )
    wording: int = wording_field()


@dataclass
class Choice:
    """One agent's choice this round: what it is shown and what it decides."""

    agent: int
    on: Literal["join", "revisit"]
    shown: np.ndarray | None  # None: every present agent (rule baselines)
    followed: np.ndarray
    follow: list[int] = field(default_factory=list)
    unfollow: list[int] = field(default_factory=list)
    status: str = "answered"
    by: str = "rule"
    error: str | None = None


@register_scenario("network_growth")
class NetworkGrowthScenario(Scenario):
    """Agents join over time and choose whom to follow (LLM or attachment rule)."""

    Params = NetworkGrowthParams
    paraphrases = PARAPHRASES
    headline_measures = (
        (
            "network_growth.friendship_paradox.share",
            "Share of agents whose followees have more followers than they do",
            "growth_paradox",
        ),
        (
            "network_growth.friendship_paradox.gap",
            "Followees' mean followers minus agents' own mean followers",
            "growth_paradox",
        ),
    )

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.graph: FollowGraph | None = None
        self.joined = 0
        self.codes: np.ndarray | None = None
        self._draws: np.random.Generator | None = None
        self._choices: np.random.Generator | None = None

    @property
    def rule(self) -> Attachment:
        """The rule that makes rule choices: the `attachment` param, uniform in the control arm."""
        return "uniform" if self.is_control else self.params.attachment

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """The follow graph is directed; the initial cohort fits the population."""
        if not cfg.network.directed:
            raise ConfigError(
                "network.directed: network_growth grows a directed follow graph; "
                "set network.directed: true"
            )
        if self.params.initial > cfg.population.size:
            raise ConfigError(
                f"scenario.params.initial: {self.params.initial} is more than "
                f"population.size ({cfg.population.size})"
            )

    def setup(self, model: SocialModel) -> None:
        """Empty the network, mark every agent absent, let the initial cohort join and choose."""
        n = model.n_agents
        if self.params.candidates == 0 and not self.is_control:
            if any(model.is_llm(i) for i in range(n)):
                raise ConfigError(
                    "scenario.params.candidates: 0 (every present agent) is for rule "
                    "baselines; LLM agents need a list size, e.g. 10"
                )
        self.graph = FollowGraph(n)
        seeds = model.rng.integers(2**63, size=2)
        self._draws = np.random.default_rng(int(seeds[0]))
        self._choices = np.random.default_rng(int(seeds[1]))
        if self.params.attachment == "homophilous":
            self.codes = attribute_codes(model, self.params.homophily_attribute)
        model.present[:] = False
        model.set_edges(np.zeros((0, 2), dtype=np.int64))
        self._round(model, np.arange(self.params.initial), np.zeros(0, dtype=np.int64))

    def before_step(self, model: SocialModel) -> None:
        """This step's joiners join; earlier joiners revisit; everyone chooses; edges replaced."""
        earlier = self.joined
        joiners = np.arange(earlier, min(earlier + self.params.joiners_per_step, model.n_agents))
        revisitors = np.zeros(0, dtype=np.int64)
        if self.params.revisit > 0 and earlier:
            revisitors = np.flatnonzero(self._draws.random(earlier) < self.params.revisit)
        self._round(model, joiners, revisitors)

    def after_step(self, model: SocialModel) -> None:
        """Write the follow edges when a snapshot is due (run directory only)."""
        every = self.params.snapshot_every
        if every and model.run_dir is not None and model.steps % every == 0:
            folder = model.run_dir / "snapshots"
            folder.mkdir(exist_ok=True)
            edges = self.graph.edges()
            pd.DataFrame({"source": edges[:, 0], "target": edges[:, 1]}).to_parquet(
                folder / f"follows_step_{model.steps:05d}.parquet", index=False
            )

    # --- one round of choices ------------------------------------------------------------
    def _round(self, model: SocialModel, joiners: np.ndarray, revisitors: np.ndarray) -> None:
        for agent in joiners.tolist():
            model.present[agent] = True
            model.emit("action", agent=agent, payload=Joined().as_payload())
        self.joined += len(joiners)
        followers = self.graph.followers.copy()  # every choice sees the counts at the start
        choices = [self._shown(a, "join") for a in joiners.tolist()]
        choices += [self._shown(a, "revisit") for a in revisitors.tolist()]
        asked = [c for c in choices if not self.is_control and model.is_llm(c.agent)]
        if asked:
            self._ask(model, asked, followers)
        cumulative: dict[Any, np.ndarray] = {}
        for choice in choices:
            if choice.by == "rule":
                self._rule_choice(choice, followers, cumulative)
            self._apply(model, choice)
        model.set_edges(self.graph.edges())

    def _shown(self, agent: int, on: Literal["join", "revisit"]) -> Choice:
        """The choice with its candidate list drawn (the same draws in either arm)."""
        followed = np.asarray(sorted(self.graph.followees[agent]), dtype=np.int64)
        c = self.params.candidates
        if c == 0:
            return Choice(agent, on, None, followed)
        pool = [a for a in sample_ids(self._draws, self.joined, c + 1).tolist() if a != agent]
        mine = self.graph.followees[agent]
        shown = sorted(a for a in pool[:c] if a not in mine)
        return Choice(agent, on, np.asarray(shown, dtype=np.int64), followed)

    def _most(self, choice: Choice) -> int:
        return self.params.follows_per_join if choice.on == "join" else 1

    def _rule_choice(
        self, choice: Choice, followers: np.ndarray, cumulative: dict[Any, np.ndarray]
    ) -> None:
        """Follow (and on a revisit maybe unfollow) by the rule."""
        p, rng, rule, agent = self.params, self._choices, self.rule, choice.agent
        most = self._most(choice)
        if choice.shown is not None:
            w = attachment_weights(
                rule, followers, choice.shown, self.codes, agent, p.homophily_weight
            )
            choice.follow = pick_weighted(rng, choice.shown, w, most).tolist()
        else:
            code = int(self.codes[agent]) if rule == "homophilous" else None
            if code not in cumulative:
                everyone = np.arange(self.joined)
                w = attachment_weights(
                    rule, followers, everyone, self.codes, agent, p.homophily_weight
                )
                cumulative[code] = np.cumsum(w)
            exclude = {agent, *self.graph.followees[agent]}
            choice.follow = pick_from_all(rng, cumulative[code], most, exclude).tolist()
        if choice.on == "revisit" and len(choice.followed) and rng.random() < p.unfollow:
            drop = weakest_followee(
                rng, rule, followers, choice.followed, self.codes, agent, p.homophily_weight
            )
            choice.unfollow = [] if drop is None else [drop]

    def _ask(self, model: SocialModel, asked: list[Choice], followers: np.ndarray) -> None:
        """One batch of questions to the LLM agents; unusable answers are marked failed."""
        questions = []
        for choice in asked:
            choice.by = "llm"
            _shuffle_lists(model, choice)
            if choice.on == "join":
                prompt = join_prompt(model, choice.shown, followers, self._most(choice))
                schema: type[BaseModel] = join_schema(self._most(choice))
            else:
                prompt = revisit_prompt(model, choice.shown, choice.followed, followers)
                schema = revisit_schema()
            questions.append(
                Question(
                    agent_id=choice.agent,
                    prompt=prompt,
                    schema=schema,
                    tag=f"growth_{choice.on}_v1",
                    use_memory=False,
                )
            )
        for choice, answer in zip(asked, model.ask(questions), strict=True):
            if not answer.ok:
                choice.status, choice.error = "failed", answer.error or "no usable answer"
                continue
            checked = check_choice(
                answer.value, len(choice.shown), len(choice.followed), self._most(choice), 1
            )
            if isinstance(checked, str):
                choice.status, choice.error = "failed", checked
                continue
            choice.follow = [int(choice.shown[k]) for k in checked[0]]
            choice.unfollow = [int(choice.followed[k]) for k in checked[1]]

    def _apply(self, model: SocialModel, choice: Choice) -> None:
        """Log the choice, then its follows and unfollows.

        The lists shown and chosen are logged for questions put to an LLM; a rule choice
        logs none (its ``follow`` / ``unfollow`` events say what it chose).
        """
        agent = choice.agent
        asked = choice.by == "llm"
        model.emit(
            "action",
            agent=agent,
            payload=FollowChoice(
                on=choice.on,
                status=choice.status,
                by=choice.by,
                rule=self.rule if choice.by == "rule" else None,
                shown=None if not asked else choice.shown.tolist(),
                follow=choice.follow if asked and choice.status == "answered" else None,
                unfollow=choice.unfollow if asked and choice.status == "answered" else None,
                error=choice.error,
            ).as_payload(),
        )
        for target in choice.follow:
            if self.graph.follow(agent, int(target)):
                model.emit("action", agent=agent, target=int(target), payload=Follow().as_payload())
        for target in choice.unfollow:
            if self.graph.unfollow(agent, int(target)):
                model.emit(
                    "action", agent=agent, target=int(target), payload=Unfollow().as_payload()
                )

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: the schedule, the rule in effect, agents joined, edges at the end."""
        p = self.params
        return {
            "attachment": self.rule,
            "initial": p.initial,
            "joiners_per_step": p.joiners_per_step,
            "follows_per_join": p.follows_per_join,
            "candidates": p.candidates,
            "revisit": p.revisit,
            "joined": self.joined,
            "follow_edges": 0 if self.graph is None else self.graph.n_edges,
        }


def attribute_codes(model: SocialModel, attribute: str) -> np.ndarray:
    """Integer codes of one persona field for every agent (equal codes: equal values)."""
    store = model.personas
    if hasattr(store, "coded"):
        codes, _ = store.coded(attribute)
        return np.asarray(codes, dtype=np.int64)
    values = [getattr(model.persona_of(i), attribute, None) for i in range(model.n_agents)]
    return pd.factorize(pd.Series(values, dtype=object))[0].astype(np.int64)


def _shuffle_lists(model: SocialModel, choice: Choice) -> None:
    """Put the candidates and followees in an order of their own for each agent and step
    (seeded by :meth:`~socialsim.simulation.model.SocialModel.question_seed`): in id order,
    which is join order, a model that picks the first listed would follow seniority."""
    rng = np.random.default_rng(model.question_seed(choice.agent, f"growth_{choice.on}_order"))
    if choice.shown is not None:
        choice.shown = choice.shown[rng.permutation(len(choice.shown))]
    choice.followed = choice.followed[rng.permutation(len(choice.followed))]
