"""Debates (kind ``debate``): many persuader-target pairs in a 2x2 factorial design.

Each pair's target states agreement with a proposition (1-5), the two exchange `rounds`
rounds (persuader argues, target replies; each turn of all pairs is one batch), and the
target states agreement again. Conditions, balanced across pairs: persuader kind
(``persuader``: instructed to convince the target of the side opposite its initial view;
``peer``: argues its own view) x personalisation (the persuader sees the target's persona).

``pre``/``post``/``shift`` are agreement with the side the persuader argued (the scale is
flipped when it argued against), so ``post > pre`` is increased agreement with the opponent.

Each pair ends in one ``action`` of type ``debate_pair`` with ``status`` ``answered`` or
``failed``. A failed or unusable answer is never replaced: when the target's first answer (or
a peer's own stance) fails, the pair does not debate and ``pre``, ``post`` and ``shift`` are
null; when the target's second answer fails, ``post`` and ``shift`` are null; ``error`` says
which answer failed. A failed debate turn is not sent and is counted in ``turns_failed``.

Control arm: the same pairs, conditions and sides are drawn, but nobody argues: the target
is asked the same agreement question twice with no exchange between (``rounds`` is 0 in the
event; the second ask has its own tag, ``debate_stance_after``, hence its own seed). The
persuaders (and peers) are recorded as placebo roles.

Rule-policy baseline: a target moves one point toward the persuader's side with probability
``credulity x kind weight x personalisation weight`` (``baseline`` param), drawn from
``model.rng`` (drawn in the control arm too, where the target never moves); rule-policy
persuaders post the proposition's stock arguments.

The whole debate runs in the first step, and the run then ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from socialsim.core.errors import ConfigError
from socialsim.core.events import ABSENT
from socialsim.scenarios.persuasion.events import DebatePair
from socialsim.scenarios.propositions import (
    Agreement,
    Proposition,
    PropositionParams,
    Turn,
    agreement_prompt,
    agreement_to_credence,
    answer_status,
    credence_to_agreement,
    get_proposition,
    lean,
    opposite,
    profile,
    toward,
)
from socialsim.simulation.queries import Question
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel

CELLS: tuple[tuple[str, bool], ...] = (
    ("persuader", True),
    ("persuader", False),
    ("peer", True),
    ("peer", False),
)


def assign_conditions(n_pairs: int, rng: np.random.Generator) -> list[tuple[str, bool]]:
    """(persuader_kind, personalised) per pair, balanced over the 4 cells (exact when n % 4 == 0)."""
    # Shuffle which cells get the extra pairs too, so no cell is favoured when n % 4 != 0.
    offset = int(rng.integers(4)) if n_pairs % 4 else 0
    cells = [CELLS[(i + offset) % 4] for i in range(n_pairs)]
    return [cells[i] for i in rng.permutation(n_pairs)]


def make_pairs(
    graph: nx.Graph, source: str, count: int | None, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """Disjoint (persuader, target) pairs: a random matching of graph edges, or random agents.

    Edges are matched greedily in random order; when that yields fewer than `count` pairs on a
    small graph, a maximum matching is used instead.
    """
    nodes = [int(v) for v in graph.nodes]
    if source == "random":
        order = [nodes[i] for i in rng.permutation(len(nodes))]
        pairs = [(order[i], order[i + 1]) for i in range(0, len(order) - 1, 2)]
    else:
        edges = [(int(u), int(v)) for u, v in graph.edges if u != v]
        used: set[int] = set()
        pairs = []
        for k in rng.permutation(len(edges)):
            u, v = edges[k]
            if u in used or v in used:
                continue
            used.update((u, v))
            pairs.append((u, v) if rng.random() < 0.5 else (v, u))
        if count is not None and len(pairs) < count <= graph.number_of_nodes() // 2 <= 1000:
            # the random greedy matching fell short: take a maximum matching (small graphs)
            best = sorted(
                tuple(sorted(e))
                for e in nx.max_weight_matching(nx.Graph(graph), maxcardinality=True)
            )
            best = [best[i] for i in rng.permutation(len(best))]
            pairs = [(int(u), int(v)) if rng.random() < 0.5 else (int(v), int(u)) for u, v in best]
    if count is not None:
        if count > len(pairs):
            raise ConfigError(
                f"scenario.params.pairs.count: {count} pairs asked but the {source} pairing gives "
                f"only {len(pairs)} disjoint pairs; lower it or add agents"
            )
        pairs = pairs[:count]
    return pairs


class Pairs(BaseModel):
    """How pairs are formed: from graph edges or at random, and how many (default: all)."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["edges", "random"] = "edges"
    count: int | None = Field(None, ge=1)


class Baseline(BaseModel):
    """Weights of the rule-policy baseline: p(move) = credulity x kind x personalisation."""

    model_config = ConfigDict(extra="forbid")

    persuader: float = Field(1.0, ge=0.0, le=1.0)
    peer: float = Field(0.5, ge=0.0, le=1.0)
    personalised: float = Field(1.0, ge=0.0, le=1.0)
    plain: float = Field(0.75, ge=0.0, le=1.0)


class DebateParams(PropositionParams):
    """Params of the debate scenario."""

    pairs: Pairs = Field(default_factory=Pairs)
    rounds: int = Field(2, ge=1, le=20)
    baseline: Baseline = Field(default_factory=Baseline)


class _Pair:
    """Running state of one debate; answers stay None until given."""

    def __init__(self, index: int, persuader: int, target: int, kind: str, personalised: bool):
        self.index, self.persuader, self.target = index, persuader, target
        self.kind, self.personalised = kind, personalised
        self.side: str | None = None
        self.pre: int | None = None  # the target's agreement with the proposition, before
        self.post: int | None = None  # ... and after
        self.own: int | None = None  # a peer's own agreement (it argues its own view)
        self.error: str | None = None
        self.turns_asked = self.turns_failed = 0
        self.transcript: list[tuple[str, str]] = []
        self.last_message: str | None = None


@register_scenario("debate")
class Debate(Scenario):
    """Pairs debate a proposition; agreement before and after, under a 2x2 design."""

    headline_measures: ClassVar[tuple[tuple[str, str, str], ...]] = (
        (
            "persuasion.debate.mean_shift",
            "Mean agreement shift toward the persuader",
            "debate_shift",
        ),
    )
    Params: ClassVar[type[BaseModel]] = DebateParams

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.prop: Proposition | None = None
        self.pairs: list[_Pair] = []
        self.finished = False

    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Check the proposition and that random pairing has enough agents."""
        self.prop = get_proposition(self.params.load(cfg), self.params.proposition)
        count, n = self.params.pairs.count, cfg.population.size
        if count is not None and 2 * count > n:
            raise ConfigError(
                f"scenario.params.pairs.count: {count} pairs need {2 * count} agents; there are {n}"
            )

    def setup(self, model: SocialModel) -> None:
        """Put the proposition in play; form the pairs, assign conditions, record the roles."""
        if self.prop is None:
            self.validate_config(model.cfg)
        model.add_claim(self.prop.claim())  # type: ignore[union-attr]
        p = self.params.pairs
        raw = make_pairs(model.graph, p.source, p.count, model.rng)
        cells = assign_conditions(len(raw), model.rng)
        self.pairs = [
            _Pair(i, a, b, k, pers)
            for i, ((a, b), (k, pers)) in enumerate(zip(raw, cells, strict=True))
        ]
        for d in self.pairs:
            model.assign_role(d.persuader, d.kind, placebo=self.is_control)

    def before_step(self, model: SocialModel) -> None:
        """Run every debate (once, at the first step)."""
        if self.finished:
            return
        self.finished = True
        prop = self.prop
        assert prop is not None
        pairs = [
            d for d in self.pairs if model.is_present(d.persuader) and model.is_present(d.target)
        ]
        # Stances before: targets, and peers (who argue their own view).
        asks = [(d, d.target) for d in pairs] + [
            (d, d.persuader) for d in pairs if d.kind == "peer"
        ]
        answers = model.ask([self._stance(model, agent, None) for _, agent in asks])
        for (d, agent), answer in zip(asks, answers, strict=True):
            role = "pre" if agent == d.target else "peer_stance"
            if not answer.ok:
                d.error = d.error or answer_status(answer, labels=(role,))["error"]
            elif agent == d.target:
                d.pre = int(answer.value.agreement)
                model.set_credence(
                    agent,
                    prop.id,
                    agreement_to_credence(d.pre),
                    cause="probe",
                    ref=f"debate{d.index}",
                )
            else:
                d.own = int(answer.value.agreement)
        for d in pairs:
            basis = d.own if d.kind == "peer" else d.pre
            if basis is not None:
                d.side = (
                    lean(basis, model.rng) if d.kind == "peer" else opposite(lean(basis, model.rng))
                )
        live = [d for d in pairs if d.error is None]
        if not self.is_control:
            for r in range(self.params.rounds):
                self._turn(model, live, r, persuader=True)
                self._turn(model, live, r, persuader=False)
        moves = {d.index: model.rng.random() < self._p_move(model, d) for d in pairs}
        answers = model.ask([self._stance(model, d.target, d, moves[d.index]) for d in live])
        for d, answer in zip(live, answers, strict=True):
            if not answer.ok:
                d.error = answer_status(answer, labels=("post",))["error"]
                continue
            d.post = int(answer.value.agreement)
            model.set_credence(
                d.target,
                prop.id,
                agreement_to_credence(d.post),
                cause="probe" if self.is_control else "message",
                ref=f"debate{d.index}",
                source=None if self.is_control else d.persuader,
            )
        for d in pairs:
            self._emit(model, d)

    def done(self, model: SocialModel) -> bool:
        """The run ends once the debates are over."""
        return self.finished

    def summary(self, model: SocialModel) -> dict[str, Any]:
        """Descriptive facts: the proposition, the design and who debated whom."""
        return {
            "proposition": self.prop.id if self.prop else None,
            "pairs": len(self.pairs),
            "rounds": 0 if self.is_control else self.params.rounds,
            "pair_source": self.params.pairs.source,
            "persuaders": [d.persuader for d in self.pairs],
            "targets": [d.target for d in self.pairs],
        }

    # --- pieces ---------------------------------------------------------------------------------
    def _emit(self, model: SocialModel, d: _Pair) -> None:
        prop = self.prop
        assert prop is not None
        answered = d.error is None and d.pre is not None and d.post is not None
        pre = toward(d.pre, d.side) if d.pre is not None and d.side is not None else None
        post = toward(d.post, d.side) if answered and d.side is not None else None
        payload = DebatePair(
            pair=d.index,
            persuader=d.persuader,
            target=d.target,
            proposition=prop.id,
            persuader_kind=d.kind,
            personalised=d.personalised,
            side=d.side,
            status="answered" if answered else "failed",
            pre=pre,
            post=post,
            shift=post - pre if pre is not None and post is not None else None,
            pre_agreement=d.pre,
            post_agreement=d.post,
            rounds=0 if self.is_control else self.params.rounds,
            turns_asked=d.turns_asked,
            turns_failed=d.turns_failed,
            source="llm" if model.is_llm(d.target) else "rule",
            error=ABSENT if answered else d.error or "no answer",
        ).as_payload()
        model.emit("action", agent=d.persuader, target=d.target, claim=prop.id, payload=payload)

    def _p_move(self, model: SocialModel, d: _Pair) -> float:
        b = self.params.baseline
        kind = b.persuader if d.kind == "persuader" else b.peer
        pers = b.personalised if d.personalised else b.plain
        return model.agent(d.target).persona.credulity * kind * pers

    def _stance(
        self, model: SocialModel, agent: int, d: _Pair | None, move: bool = False
    ) -> Question:
        prop = self.prop
        assert prop is not None
        if d is None:
            value = credence_to_agreement(model.beliefs.get(agent, prop.id))
            prompt, tag = agreement_prompt(prop), "debate_stance"
        else:
            assert d.pre is not None
            moved = move and not self.is_control
            value = min(5, max(1, d.pre + (1 if d.side == "for" else -1) * int(moved)))
            tag = "debate_stance_after"
            if self.is_control:
                prompt = agreement_prompt(prop)  # the same question, with nothing in between
            else:
                prompt = (
                    f"You just had this conversation:\n{_transcript(d)}\n\n{agreement_prompt(prop)}"
                )
        return Question(
            agent_id=agent,
            prompt=prompt,
            schema=Agreement,
            tag=tag,
            fallback=lambda v=value: Agreement(agreement=v),
            use_memory=False,
        )

    def _turn(self, model: SocialModel, pairs: list[_Pair], r: int, persuader: bool) -> None:
        prop = self.prop
        assert prop is not None
        questions = []
        for d in pairs:
            assert d.side is not None
            speaker, other = (d.persuader, d.target) if persuader else (d.target, d.persuader)
            name = model.agent(other).persona.name
            history = _transcript(d) or "(nobody has spoken yet)"
            if persuader:
                goal = "agree" if d.side == "for" else "disagree"
                role = (
                    f"Your goal is to convince {name} to {goal} with it. Use your strongest arguments."
                    if d.kind == "persuader"
                    else f"You honestly {goal} with it; share your view and your reasons."
                )
                if d.personalised:
                    role += f"\nWhat you know about {name}: {profile(model.agent(other).persona)} Tailor your arguments to them."
                args = prop.arguments(d.side) or [prop.text]
                stock = args[r % len(args)]
                prompt = (
                    f'You are in a short online debate with {name} about: "{prop.text}"\n{role}\n'
                    f"Conversation so far:\n{history}\nWrite your next message to {name} (2-3 sentences). "
                    'Reply in JSON as {"message": "..."}.'
                )
            else:
                stock = "I hear you. Let me think about that."
                prompt = (
                    f'{name} is discussing this with you: "{prop.text}"\nConversation so far:\n{history}\n'
                    f"Reply to {name} in 1-2 sentences with your honest reaction. "
                    'Reply in JSON as {"message": "..."}.'
                )
            questions.append(
                Question(
                    agent_id=speaker,
                    prompt=prompt,
                    schema=Turn,
                    tag="debate_turn",
                    fallback=lambda t=stock: Turn(message=t),
                    use_memory=False,
                )
            )
        for d, q, answer in zip(pairs, questions, model.ask(questions), strict=True):
            d.turns_asked += 1
            text = " ".join(answer.value.message.split())[:600] if answer.ok else ""
            if not text:
                d.turns_failed += 1
                continue
            to = d.target if q.agent_id == d.persuader else d.persuader
            message = model.send(q.agent_id, text, to=to, claims=[prop.id], reply_to=d.last_message)
            d.last_message = message.id if message is not None else d.last_message
            d.transcript.append((model.agent(q.agent_id).persona.name, text))


def _transcript(d: _Pair) -> str:
    return "\n".join(f"{name}: {text}" for name, text in d.transcript)


__all__ = ["CELLS", "Debate", "assign_conditions", "make_pairs"]
