"""Negotiation scenario: pairs (or tables of 3-6) bargain over a split or a price, turn by turn.

At set-up every agent draws a private reservation value, uniform on
``[reservation.low, reservation.high]`` times ``pie`` (``split``: the least part of the pie
it accepts; ``price``: as seller the least price, as buyer the most), logged as an
``action`` of type ``negotiation_reservation``. Each step pairs agents along network edges
(a random maximal matching) or at random; a coin decides who opens (the proposer) and, in
``price`` mode, who sells. Turns alternate, proposer first: each turn the mover offers,
accepts the standing offer or walks away; the last turn (``max_turns``) allows only accept
or walk away. Turn t of every running negotiation goes out as one ``model.ask`` batch.

Agents without an LLM play the concession rule of
:mod:`~socialsim.scenarios.negotiation.rules`: open at the ideal, concede ``concession`` of
the remaining gap to the own reservation value per offer, accept an offer at least as good
as the own next one. LLM agents see the history of offers and their own reservation value;
an unusable answer (no valid JSON, an offer outside ``0..pie``, accepting when there is
nothing to accept, offering on the last turn) fails the negotiation at that turn.

Every offer is an ``action`` of type ``negotiation_offer``; every negotiation ends in one
``negotiation_outcome`` with ``status`` ``answered`` (deal or no deal, the split, turns) or
``failed`` (the outcome fields are null and ``error`` says why). Control arm: reservation
values are public: each side is told the other's, and the rule opens at the best the other
side can accept instead of its ideal; every draw (values, pairs, roles) is the same.

``parties`` of 3-6 plays multi-party tables instead (split mode, unanimity; see
:mod:`~socialsim.scenarios.negotiation.multiparty` and
:mod:`~socialsim.scenarios.negotiation.tables`), and each agent's reservation value is its
draw times ``2 / parties``. The ``reflection`` setting of each policy group (none, reflect,
native) is applied as :mod:`~socialsim.scenarios.negotiation.reflection` describes; every
outcome carries its class (authority, compromise, no_deal) and the parties' settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from socialsim.core.errors import ConfigError
from socialsim.scenarios.collaboration.scenario import model_label
from socialsim.scenarios.negotiation.events import (
    NegotiationOffer,
    NegotiationOutcome,
    NegotiationReservation,
)
from socialsim.scenarios.negotiation.multiparty import draw_tables, run_tables
from socialsim.scenarios.negotiation.params import NegotiationParams
from socialsim.scenarios.negotiation.prompts import (
    SYSTEM,
    TAG,
    Move,
    RuleMove,
    Seat,
    check_move,
    turn_prompt,
)
from socialsim.scenarios.negotiation.reflection import (
    check_reflection,
    native_extra,
    reflect,
    setting_of,
    with_reflection,
)
from socialsim.scenarios.negotiation.rules import Negotiation, accepts, concession_offer, ideals
from socialsim.scenarios.negotiation.tables import outcome_class
from socialsim.scenarios.negotiation.wordings import PARAPHRASES
from socialsim.simulation.queries import Answer, Question
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel


@register_scenario("negotiation")
class NegotiationScenario(Scenario):
    """Pairs bargain in alternating offers with private reservation values (public in control)."""

    Params = NegotiationParams
    paraphrases = PARAPHRASES
    step_decisions = False  # the negotiation is all the agents do
    headline_measures = (
        (
            "negotiation.outcome_class.overall.authority.rate",
            "Authority decisions (one party's opening proposal adopted unchanged)",
            "negotiation_outcome_classes",
        ),
        (
            "negotiation.outcome_class.overall.compromise.rate",
            "Compromises (a deal on a revised proposal)",
            "negotiation_outcome_classes",
        ),
        (
            "negotiation.outcome_class.overall.no_deal.rate",
            "No deal (walked away)",
            "negotiation_outcome_classes",
        ),
        (
            "negotiation.diversity.overall.entropy_bits",
            "Diversity of deals (Shannon entropy of the binned split, bits)",
            "negotiation_deals",
        ),
        (
            "negotiation.agreement.overall.rate",
            "Agreement rate (answered negotiations)",
            "negotiation_agreement",
        ),
        (
            "negotiation.surplus.overall.proposer_share_mean",
            "Proposer's share of the surplus (deals)",
            "negotiation_surplus",
        ),
    )

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.reservation = np.zeros(0)
        self.edges: list[tuple[int, int]] = []
        self.negotiations = 0
        self._next_id = 0

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Tables need at least `parties` agents; reflection settings must fit the groups."""
        parties = self.params.parties
        if cfg.population.size < parties:
            raise ConfigError(
                f"scenario.params: negotiation needs population.size >= {parties} (parties)"
            )
        check_reflection(self.params, cfg)

    def setup(self, model: SocialModel) -> None:
        """Draw and log every agent's reservation value; list the edges pairs are drawn from."""
        p = self.params
        n = model.n_agents
        scale = p.pie * 2.0 / p.parties  # a table's reservation values fit its size
        self.reservation = model.rng.uniform(p.reservation.low, p.reservation.high, n) * scale
        for i, value in enumerate(self.reservation.tolist()):
            model.emit(
                "action",
                agent=i,
                payload=NegotiationReservation(mode=p.mode, reservation=value).as_payload(),
            )
        if p.pairs == "edges":
            src = np.asarray(model.network.rows, dtype=np.int64)
            dst = np.asarray(model.network.indices, dtype=np.int64)
            keep = src != dst
            both = np.stack([np.minimum(src, dst)[keep], np.maximum(src, dst)[keep]], axis=1)
            self.edges = [(int(i), int(j)) for i, j in np.unique(both, axis=0)] if len(both) else []
            if not self.edges:
                raise ConfigError(
                    "scenario.params.pairs: edges, but the network has no edges; use pairs: random"
                )

    # --- drawing pairs -----------------------------------------------------------------------
    def draw_pairs(self, model: SocialModel) -> list[tuple[int, int]]:
        """Disjoint pairs of present agents: a random maximal matching of edges, or random pairs."""
        present = model.present
        if self.params.pairs == "random":
            ids = model.rng.permutation(np.flatnonzero(present)).tolist()
            pairs = list(zip(ids[0::2], ids[1::2], strict=False))
        else:
            used = ~present.copy()
            pairs = []
            for e in model.rng.permutation(len(self.edges)).tolist():
                i, j = self.edges[e]
                if not (used[i] or used[j]):
                    used[i] = used[j] = True
                    pairs.append((i, j))
        limit = self.params.pairs_per_step
        return pairs if limit is None else pairs[:limit]

    def make_negotiations(self, model: SocialModel) -> list[Negotiation]:
        """This step's pairs, who opens, and (price mode) who sells."""
        p = self.params
        pairs = self.draw_pairs(model)
        opens_first = model.rng.random(len(pairs)) < 0.5
        sells_first = model.rng.random(len(pairs)) < 0.5 if p.mode == "price" else None
        out = []
        for k, (i, j) in enumerate(pairs):
            proposer, responder = (i, j) if opens_first[k] else (j, i)
            seller = None
            if sells_first is not None:
                seller = i if sells_first[k] else j
            self._next_id += 1
            res = (float(self.reservation[proposer]), float(self.reservation[responder]))
            out.append(
                Negotiation(
                    self._next_id, p.mode, p.pie, proposer, responder, seller, res, self.is_control
                )
            )
        return out

    # --- running -----------------------------------------------------------------------------
    def before_step(self, model: SocialModel) -> None:
        """Run this step's negotiations turn by turn (one ask batch per turn) and log them."""
        p = self.params
        if p.parties > 2:
            tables = draw_tables(model, p.parties, p.pairs, p.pairs_per_step)
            self.negotiations += run_tables(self, model, tables)
            return
        negotiations = self.make_negotiations(model)
        self.negotiations += len(negotiations)
        for turn in range(1, self.params.max_turns + 1):
            live = [g for g in negotiations if not g.done]
            if not live:
                break
            questions = [self._question(model, g, turn) for g in live]
            asks = [
                (g.id, q.agent_id, turn, q.prompt)
                for g, q in zip(live, questions, strict=True)
                if setting_of(model, p, q.agent_id) == "reflect"
            ]
            reflections = reflect(model, asks)
            keep = []
            for g, q in zip(live, questions, strict=True):
                text, error = reflections.get(g.id, (None, None))
                if error is not None:
                    g.fail(turn, error)
                    continue
                if text is not None:
                    q.prompt = with_reflection(q.prompt, text)
                keep.append((g, q))
            live = [g for g, _ in keep]
            answers = model.ask([q for _, q in keep])
            for g, answer in zip(live, answers, strict=True):
                self._play(model, g, turn, answer)
        for g in negotiations:
            self._finish(model, g)

    def _question(self, model: SocialModel, g: Negotiation, turn: int) -> Question:
        p = self.params
        mover = g.mover(turn)
        is_proposer = mover == g.proposer
        reservation_y = g.a if is_proposer else g.c
        high, low = ideals(g.a, g.c, p.pie, g.public)
        ideal = high if is_proposer else low
        made = sum(1 for who, _ in g.offers if who == mover)
        standing = g.offers[-1][1] if g.offers else None

        def fallback() -> Move:
            nxt = concession_offer(reservation_y, ideal, p.concession, made)
            if standing is not None and accepts(is_proposer, standing, nxt, p.pie):
                return RuleMove(action="accept", amount=0.0)
            if turn >= p.max_turns:
                return RuleMove(action="walk_away", amount=0.0)
            return RuleMove(action="offer", amount=g.amount(mover, nxt), y=nxt)

        prompt = ""
        if model.is_llm(mover):
            other = g.responder if is_proposer else g.proposer
            seat = Seat(
                name=model.persona_of(mover).name,
                other=model.persona_of(other).name,
                is_proposer=is_proposer,
                role=self._role(g, mover),
                reservation=float(self.reservation[mover]),
                other_reservation=float(self.reservation[other]) if g.public else None,
            )
            history = [(who == mover, g.amount(who, y)) for who, y in g.offers]
            prompt = turn_prompt(p.mode, seat, p.pie, history, turn, p.max_turns)
        return Question(
            agent_id=mover,
            prompt=prompt,
            schema=Move,
            tag=TAG,
            fallback=fallback,
            system=SYSTEM,
            use_memory=False,
            extra=native_extra(setting_of(model, p, mover), p.reasoning_effort),
        )

    @staticmethod
    def _role(g: Negotiation, agent: int) -> str:
        if g.mode == "price":
            return "seller" if agent == g.seller else "buyer"
        return "proposer" if agent == g.proposer else "responder"

    def _play(self, model: SocialModel, g: Negotiation, turn: int, answer: Answer) -> None:
        """Apply one answer: an offer (logged), an acceptance or a walk-away; or fail."""
        if not answer.ok:
            g.fail(turn, answer.error or "no usable answer")
            return
        move = answer.value
        problem = check_move(move, bool(g.offers), turn >= self.params.max_turns, g.pie)
        if problem is not None:
            g.fail(turn, problem)
            return
        mover = g.mover(turn)
        g.turns = turn
        if move.action == "offer":
            y = move.y if isinstance(move, RuleMove) else g.to_y(mover, move.amount)
            g.offers.append((mover, y))
            model.emit(
                "action",
                agent=mover,
                target=g.responder if mover == g.proposer else g.proposer,
                payload=NegotiationOffer(
                    status="answered",
                    negotiation=g.id,
                    mode=g.mode,
                    turn=turn,
                    role=self._role(g, mover),
                    amount=g.amount(mover, y),
                    y=y,
                    position=g.position(y),
                    source="llm" if model.is_llm(mover) else "rule",
                ).as_payload(),
            )
            return
        g.ended_by, g.ender, g.done = move.action, mover, True

    def _finish(self, model: SocialModel, g: Negotiation) -> None:
        """Log the outcome: deal or not, the split, the surplus of each side; null if failed."""
        failed = g.error is not None
        deal = None if failed else g.ended_by == "accept"
        y = g.offers[-1][1] if deal else None
        a, c = g.a, g.c
        labels = [model_label(model, g.proposer), model_label(model, g.responder)]
        maker = g.offers[-1][0] if deal else None
        opening = next((y0 for who, y0 in g.offers if who == maker), None)
        split = g.mode == "split"
        payload: dict[str, Any] = NegotiationOutcome(
            status="failed" if failed else "answered",
            negotiation=g.id,
            mode=g.mode,
            public=g.public,
            proposer=g.proposer,
            responder=g.responder,
            seller=g.seller,
            proposer_role=self._role(g, g.proposer) if g.mode == "price" else None,
            models=labels,
            reservation_proposer=g.reservations[0],
            reservation_responder=g.reservations[1],
            surplus=c - a,
            deal=deal,
            ended_by=g.ended_by,
            ender=g.ender,
            turns=g.turns,
            offers=len(g.offers),
            y=y,
            position=None if y is None else g.position(y),
            price=None if y is None or g.mode != "price" else g.amount(g.seller, y),
            proposer_amount=None if y is None or g.mode != "split" else y,
            responder_amount=None if y is None or g.mode != "split" else g.pie - y,
            surplus_proposer=None if y is None else y - a,
            surplus_responder=None if y is None else c - y,
            below_reservation=None if y is None else bool(y < a or y > c),
            error=g.error,
            failed_turn=g.failed_turn,
            members=[g.proposer, g.responder],
            reservations=list(g.reservations),
            allocation=[y, g.pie - y] if split and y is not None else None,
            outcome_class=outcome_class(
                deal, None if y is None else [y], None if opening is None else [opening], g.pie
            ),
            adopted_from=maker,
            reflection=[setting_of(model, self.params, i) for i in (g.proposer, g.responder)],
        ).as_payload()
        model.emit("action", agent=g.proposer, target=g.responder, payload=payload)

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: the settings, how many negotiations ran, public or private values."""
        p = self.params
        return {
            "mode": p.mode,
            "pairs": p.pairs,
            "parties": p.parties,
            "reflection": p.reflection,
            "reflection_by_group": dict(p.reflection_by_group),
            "pairs_per_step": p.pairs_per_step,
            "max_turns": p.max_turns,
            "pie": p.pie,
            "reservation": p.reservation.model_dump(),
            "concession": p.concession,
            "reservations_public": self.is_control,
            "negotiations": self.negotiations,
        }
