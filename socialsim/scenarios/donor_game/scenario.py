"""Donor game: cooperation across generations (after Vallinder & Hughes 2024).

A step is a round. Each round every agent is a donor once: paired with a recipient (a
seeded random cycle through all agents, or a random graph neighbour), it gives a share of
its resources, which the recipient receives times ``multiplier``; with ``punishment`` it may
instead pay that share to remove ``punishment_multiplier`` times as much from the recipient
(never below 0). Before deciding the donor sees the recipient's last ``reputation_depth``
actions as a donor (its reputation). Every ``rounds_per_generation`` rounds a generation
ends: the agents with the most resources (``survivor_share``) survive, the others are
replaced in the same slots (agent ids stay 0..N-1) by newcomers who learn from the
survivors, and every agent's resources reset to ``endowment``.

LLM agents write a strategy when they join, after reading the survivors' strategies, and
answer a donation question every round (:mod:`socialsim.scenarios.donor_game.prompts`).
Agents without an LLM play rule strategies (:mod:`socialsim.scenarios.donor_game.rules`):
always give, never give, image-scoring discriminators and punishers, inherited from a
uniformly drawn surviving rule agent with mutation.

Events (``action``): ``donor_strategy`` (a newcomer's strategy), ``donor_round`` (one per
donor and round: action, amounts, resources before and after, ``status``), ``donor_standing``
(every agent at the end of a generation: resources, rank, survival) and ``donor_replaced``
(a slot taken by a newcomer). A failed LLM answer moves nothing and is logged with
``status: failed``, null answer fields and an ``error``. The measures live in
:mod:`socialsim.scenarios.donor_game.measures`.

Control arm: no reputation. LLM donors are told nothing of the recipient's past and the
rules do not mention it; discriminators and punishers judge every recipient by
``initial_reputation``. Pairings, ranking ties, parents and mutations use the same draws.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from socialsim.core.errors import ConfigError
from socialsim.scenarios.donor_game.events import DonorStrategy
from socialsim.scenarios.donor_game.ledger import (
    log_replaced,
    log_round,
    log_rule_strategies,
    log_standings,
    pair_agents,
    settle,
)
from socialsim.scenarios.donor_game.prompts import (
    ask_donations,
    rules_text,
    strategy_of,
    strategy_prompt,
    strategy_question,
)
from socialsim.scenarios.donor_game.rules import (
    KEEP,
    KINDS,
    NO_ACTION,
    NO_RULE,
    PUNISHER,
    Traces,
    describe,
    inherit,
    initial_kinds,
    rule_actions,
)
from socialsim.scenarios.donor_game.wordings import PARAPHRASES
from socialsim.simulation.wording import wording_field
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel

Kind = Literal["always_give", "never_give", "discriminator", "punisher"]


class DonorGameParams(BaseModel):
    """Parameters of the donor game."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    rounds_per_generation: StrictInt = Field(4, ge=1, le=100_000)
    pairing: Literal["random", "edges"] = "random"
    endowment: float = Field(10.0, gt=0.0, le=1e9, description="resources at each generation start")
    multiplier: float = Field(2.0, ge=0.0, le=100.0, description="recipient gets this x the gift")
    reputation_depth: StrictInt = Field(3, ge=0, le=100, description="recipient actions shown")
    initial_reputation: float = Field(
        1.0, ge=0.0, le=1.0, description="image score of an agent with no recorded action"
    )
    punishment: bool = False
    punishment_multiplier: float = Field(2.0, ge=0.0, le=100.0)
    survivor_share: float = Field(0.5, gt=0.0, le=1.0, description="share surviving a generation")
    mutation_rate: float = Field(0.05, ge=0.0, le=1.0)
    strategies: dict[Kind, float] = Field(
        default_factory=lambda: {"always_give": 1.0, "never_give": 1.0, "discriminator": 1.0},
        description="weights of the rule kinds in the first generation",
    )
    give_share: float = Field(0.5, ge=0.0, le=1.0, description="first-generation rule share")
    threshold: float = Field(0.5, ge=0.0, le=1.0, description="first-generation image threshold")
    shown_strategies: StrictInt = Field(5, ge=0, le=50, description="survivor strategies shown")
    wording: int = wording_field()

    @model_validator(mode="before")
    @classmethod
    def _self_report_moved(cls, data: Any) -> Any:
        """The inventory is a run setting now: ``self_report`` here is refused, naming it."""
        if isinstance(data, dict) and "self_report" in data:
            if data["self_report"] is not None:
                raise ValueError(
                    "self_report: the Mini-IPIP is asked in any run now; remove it here and "
                    "set agents.self_report: {when: before} (or after / both)"
                )
            data = {k: v for k, v in data.items() if k != "self_report"}
        return data

    @model_validator(mode="after")
    def _mix(self) -> DonorGameParams:
        if any(not 0.0 <= w <= 1e6 for w in self.strategies.values()):
            raise ValueError("strategies: every weight must be between 0 and 1e6")
        if not sum(self.strategies.values()) > 0:
            raise ValueError("strategies: at least one weight must be positive")
        if self.strategies.get("punisher", 0.0) > 0 and not self.punishment:
            raise ValueError("strategies: punisher needs punishment: true")
        return self


@register_scenario("donor_game")
class DonorGameScenario(Scenario):
    """Iterated donor game with reputations, selection of the richest and cultural inheritance."""

    Params = DonorGameParams
    paraphrases = PARAPHRASES
    step_decisions = False  # a strategy when joining and a donation each round is all they do
    headline_measures = (
        (
            "donor_game.overall.donation_share",
            "Mean donation share (answered donor decisions)",
            "donor_donation",
        ),
        (
            "donor_game.final.total_resources",
            "Total resources at the end of the last generation",
            "donor_resources",
        ),
    )

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.n = 0
        self.rules = ""
        self.replaced: dict[int, int] = {}
        self.survives: np.ndarray | None = None
        self.generations = 0

    @property
    def shows_reputation(self) -> bool:
        """True when donors see the recipient's recent actions (treatment arm, depth > 0)."""
        return not self.is_control and self.params.reputation_depth > 0

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """A donor needs a recipient: at least two agents."""
        if cfg.population.size < 2:
            raise ConfigError("scenario.params: the donor game needs population.size >= 2")

    # --- set-up ------------------------------------------------------------------------------
    def setup(self, model: SocialModel) -> None:
        """Strategies of the first generation, endowments, empty reputations."""
        p = self.params
        n = self.n = model.n_agents
        self.rng = np.random.default_rng(int(model.rng.integers(2**32)))
        self.llm = np.array([model.is_llm(i) for i in range(n)], dtype=bool)
        rule = ~self.llm
        self.kind = np.full(n, NO_RULE, dtype=np.int8)
        self.kind[rule] = initial_kinds(p.strategies, int(rule.sum()), self.rng)
        self.share = np.where(rule, p.give_share, np.nan)
        self.threshold = np.where(rule, p.threshold, np.nan)
        self.text: list[str | None] = [None] * n
        self.born = np.ones(n, dtype=np.int64)
        self.rank = np.zeros(n, dtype=np.int64)
        self.resources = np.full(n, p.endowment)
        self.traces = Traces(n, p.reputation_depth)
        depth = p.reputation_depth if self.shows_reputation else 0
        self.rules = rules_text(
            p.multiplier, p.rounds_per_generation, depth, p.punishment, p.punishment_multiplier
        )

    def position(self, step: int) -> tuple[int, int]:
        """(generation, round within it) of a step, both from 1."""
        r = self.params.rounds_per_generation
        return (step - 1) // r + 1, (step - 1) % r + 1

    # --- the step loop -----------------------------------------------------------------------
    def before_step(self, model: SocialModel) -> None:
        """Start a generation when due (replace, reset, strategies), then play one round."""
        generation, round_ = self.position(model.step_index)
        if round_ == 1:
            if self.survives is None:
                newcomers = np.arange(self.n)
            else:
                newcomers = self._replace(model, generation)
            self.resources[:] = self.params.endowment
            self.generations = generation
            self._strategies(model, generation, newcomers)
        self._round(model, generation, round_)

    def after_step(self, model: SocialModel) -> None:
        """At a generation's last round (or the run's): rank, mark survivors, log standings."""
        generation, round_ = self.position(model.step_index)
        last = model.step_index >= getattr(model, "step_limit", math.inf)
        if round_ == self.params.rounds_per_generation or last:
            self._close(model, generation)

    # --- generations -------------------------------------------------------------------------
    def _close(self, model: SocialModel, generation: int) -> None:
        """Rank by resources (ties by a seeded draw), mark the survivors, log the standings."""
        n = self.n
        keep = min(n, max(1, math.floor(self.params.survivor_share * n + 1e-9)))
        ties = self.rng.random(n)
        order = np.lexsort((ties, -self.resources))
        self.rank[order] = np.arange(1, n + 1)
        self.survives = self.rank <= keep
        log_standings(model, generation, self)

    def _replace(self, model: SocialModel, generation: int) -> np.ndarray:
        """Newcomers take the dropped slots: rule ones inherit a survivor's strategy (mutated)."""
        p = self.params
        assert self.survives is not None
        dropped = np.flatnonzero(~self.survives)
        draws = self.rng.random((len(dropped), 5))
        draws[:, 3:] = np.round(draws[:, 3:], 2)
        rule = ~self.llm[dropped]
        allowed = tuple(k for k in range(len(KINDS)) if p.punishment or k != PUNISHER)
        kids = inherit(
            np.flatnonzero(self.survives & ~self.llm),
            self.kind,
            self.share,
            self.threshold,
            draws[rule],
            p.mutation_rate,
            allowed,
        )
        parent = np.full(len(dropped), -1, dtype=np.int64)
        parent[rule] = kids.parent
        mutated: list[bool | None] = [None] * len(dropped)
        for j, flag in zip(np.flatnonzero(rule).tolist(), kids.mutated.tolist(), strict=True):
            mutated[j] = flag
        log_replaced(model, generation, self, dropped, parent, mutated)
        slots = dropped[rule]
        self.kind[slots] = kids.kind
        self.share[slots] = kids.share
        self.threshold[slots] = kids.threshold
        for i in dropped[~rule].tolist():
            self.text[i] = None
        self.traces.reset(dropped)
        self.born[dropped] = generation
        self.replaced[generation] = len(dropped)
        return dropped

    def _strategies(self, model: SocialModel, generation: int, newcomers: np.ndarray) -> None:
        """Log the newcomers' strategies; LLM newcomers write theirs after reading the survivors'."""
        rule = newcomers[~self.llm[newcomers]]
        if len(rule):
            log_rule_strategies(model, generation, self, rule)
        llm = newcomers[self.llm[newcomers]].tolist()
        if not llm:
            return
        shown = self.survivor_strategies()
        prompt = strategy_prompt(self.rules, generation, shown)
        questions = [strategy_question(i, prompt) for i in llm]
        for i, answer in zip(llm, model.ask(questions), strict=True):
            text, error = strategy_of(answer, self.rules)
            self.text[i] = text
            model.emit(
                "action",
                agent=i,
                payload=DonorStrategy(
                    generation=generation,
                    source="llm",
                    status="answered" if text is not None else "failed",
                    kind=None,
                    share=None,
                    threshold=None,
                    strategy=text,
                    shown=len(shown),
                    error=error,
                ).as_payload(),
            )

    def survivor_strategies(self) -> list[str]:
        """The survivors' strategies, richest first (rule ones in words), at most `shown_strategies`."""
        if self.survives is None:
            return []
        out: list[str] = []
        for i in np.argsort(self.rank).tolist():
            if len(out) >= self.params.shown_strategies or not self.survives[i]:
                break
            if self.llm[i]:
                if self.text[i]:
                    out.append(self.text[i])
            else:
                out.append(describe(int(self.kind[i]), self.share[i], self.threshold[i]))
        return out

    # --- rounds ------------------------------------------------------------------------------
    def _round(self, model: SocialModel, generation: int, round_: int) -> None:
        """Pair, decide (rules at once, LLM donors in one batch), settle, record, log."""
        p = self.params
        network = model.network
        recipient = pair_agents(self.rng, self.n, p.pairing, network.indptr, network.indices)
        donors = np.flatnonzero(recipient >= 0)
        target = recipient[donors]
        if self.shows_reputation:
            score = self.traces.score(target, p.initial_reputation)
        else:
            score = np.full(len(donors), p.initial_reputation)
        action = np.full(len(donors), NO_ACTION, dtype=np.int8)
        share = np.full(len(donors), np.nan)
        errors: list[str | None] = [None] * len(donors)
        rule = ~self.llm[donors]
        by_rule = donors[rule]
        action[rule] = rule_actions(
            self.kind[by_rule], self.share[by_rule], self.threshold[by_rule], score[rule],
            p.punishment,
        )  # fmt: skip
        share[rule] = np.where(action[rule] == KEEP, 0.0, self.share[by_rule])
        ask_donations(model, self, (generation, round_), donors, target, action, share, errors)
        paid = settle(
            self.resources, donors, target, action, share, p.multiplier, p.punishment_multiplier
        )
        self.resources = paid.after
        answered = action != NO_ACTION
        self.traces.record(
            donors[answered], action[answered], share[answered], target[answered], model.step_index
        )
        shown = score if self.shows_reputation else None
        log_round(model, (generation, round_), donors, target, action, share, paid, shown, errors)

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: the game's settings, generations played, newcomers per generation."""
        p = self.params
        return {
            "generations": self.generations,
            "rounds_per_generation": p.rounds_per_generation,
            "pairing": p.pairing,
            "endowment": p.endowment,
            "multiplier": p.multiplier,
            "reputation_shown": self.shows_reputation,
            "reputation_depth": p.reputation_depth,
            "punishment": p.punishment,
            "survivor_share": p.survivor_share,
            "mutation_rate": p.mutation_rate,
            "replaced": {str(g): k for g, k in sorted(self.replaced.items())},
            "llm_agents": int(self.llm.sum()) if self.n else 0,
            "rule_agents": int((~self.llm).sum()) if self.n else 0,
        }
