"""Feed (kind ``feed``): many claims flow through a ranked feed; agents see them repeatedly.

Items (:mod:`~socialsim.scenarios.feed.items`: a claim of the library in a framing and a
source style, its true or manipulated version) are posted over the steps into a share of
the agents' feeds (``audience``; an agent's post also reaches its listeners). Each step a
ranking policy (:mod:`~socialsim.scenarios.feed.rankings`) picks the ``k`` items each present
agent sees among those in its feed it has not seen; the agent answers whether it accepts the
item's claim and how sure it is (:mod:`~socialsim.scenarios.feed.answers`: a seeded rule for
rule agents, one question per exposure for LLM agents). An agent that accepts reshares the
item to its listeners with chance ``reshare``. Every post is a ``feed_post`` and every
exposure a ``feed_exposure`` action, with its index for the agent and claim (1st, 2nd, ...).

Control arm: every item is shown as its plain statement (no framing, no source style:
framing weight 1), with the same items, versions, schedule, ranking and draws; the framing
each item would have had stays in the log (``framing``, with ``neutral: true``).

The scenario keeps its state in agents x items arrays (:mod:`~socialsim.scenarios.feed.state`)
and puts no claim in the belief store: acceptance lives in the exposure events, which the
``feed`` measure reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel

from socialsim.core.claims import LibraryClaim, builtin_claims, claim_library, get_claim
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.scenarios.feed.answers import (
    acceptance_probability,
    exposure_question,
    rule_answers,
    weight_table,
)
from socialsim.scenarios.feed.events import FeedExposure, FeedPost
from socialsim.scenarios.feed.items import FeedItems, make_items
from socialsim.scenarios.feed.params import FeedParams
from socialsim.scenarios.feed.rankings import RANKINGS
from socialsim.scenarios.feed.state import MAX_CELLS, Exposures, FeedState, listeners_of
from socialsim.simulation.world import Scenario, register_scenario

if TYPE_CHECKING:
    from socialsim.core.model_view import ModelView
    from socialsim.simulation.config import ExperimentConfig


def persona_values(model: ModelView, field: str) -> np.ndarray:
    """One persona field of every agent as floats (a sampled column when there is one)."""
    column = getattr(model.personas, "column", None)
    if column is not None:
        try:
            return np.asarray(column(field), dtype=np.float64)
        except KeyError:
            pass
    return np.array([getattr(model.persona_of(i), field) for i in range(model.n_agents)], float)


@register_scenario("feed")
class FeedScenario(Scenario):
    """Claims in framings flow through a ranked feed; acceptance is tracked per exposure."""

    Params: ClassVar[type[BaseModel]] = FeedParams
    step_decisions: ClassVar[bool] = False
    headline_measures: ClassVar[tuple[tuple[str, str, str], ...]] = (
        (
            "feed.repetition.effect",
            "Change in acceptance from an agent's first to its second exposure to a claim",
            "feed_acceptance",
        ),
        ("feed.acceptance.rate", "Share of exposures that end in accepting the claim", "feed_acceptance"),
        (
            "feed.by_version.manipulated.rate",
            "Share of exposures to a manipulated claim that end in accepting it",
            "feed_framing",
        ),
    )  # fmt: skip

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        super().__init__(params, arm=arm)
        self.claims: list[LibraryClaim] = []
        self.items: FeedItems | None = None
        self.state: FeedState | None = None
        self.ranking_params: BaseModel | None = None

    # --- configuration -----------------------------------------------------------------------
    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Load the claims, check the ranking and its params, and the size of the state."""
        p = self.params
        path = str(cfg.resolve_path(p.claims_file)) if p.claims_file else None
        try:
            library = claim_library(path, p.custom_claims)
        except DataFileError as exc:
            raise ConfigError(f"scenario.params.claims_file: {exc}") from None
        if p.claims:
            self.claims = [get_claim(library, c, "scenario.params.claims") for c in p.claims]
        elif p.builtin:
            self.claims = list(library.values())
        else:
            builtin = {c.id: c for c in builtin_claims()}
            self.claims = [c for c in library.values() if builtin.get(c.id) is not c]
            if not self.claims:
                raise ConfigError(
                    "scenario.params.builtin: false leaves no claims; give a claims_file or "
                    "custom_claims, or set builtin: true"
                )
        if p.ranking not in RANKINGS:
            raise ConfigError(RANKINGS.unknown(p.ranking))
        self.ranking_params = RANKINGS.validate(
            p.ranking, p.ranking_params, "scenario.params.ranking_params"
        )
        cells = cfg.population.size * p.n_items
        if cells > MAX_CELLS:
            raise ConfigError(
                f"scenario.params.n_items: {p.n_items:,} items x {cfg.population.size:,} agents "
                f"is {cells:,} feed cells, over the {MAX_CELLS:,} a run may hold; lower n_items "
                "or population.size"
            )

    # --- hooks -------------------------------------------------------------------------------
    def setup(self, model: ModelView) -> None:
        """Make the items, read the personas' susceptibilities, build the feed state."""
        if self.ranking_params is None:
            self.validate_config(model.cfg)
        p, n = self.params, model.n_agents
        self.items = make_items(self.claims, p, model.cfg.step_count(), n, model.rng)
        self.weights = weight_table(
            self.items.framings,
            self.items.sources,
            persona_values(model, "framing_susceptibility"),
            persona_values(model, "source_susceptibility"),
        )
        self.credulity = persona_values(model, "credulity")
        self.llm = np.array([model.is_llm(i) for i in range(n)], dtype=bool)
        listeners = listeners_of(model.network.indptr, model.network.indices, n)
        self.state = FeedState(n, self.items.posted, len(self.claims), listeners)

    def before_step(self, model: ModelView) -> None:
        """Post this step's items, show each agent its ranked items, ask, count, reshare."""
        assert self.items is not None and self.state is not None
        step, items, state = model.step_index, self.items, self.state
        new = np.flatnonzero(items.posted == step)
        reached = state.post(new, items.poster[new], step, self.params.audience, model.rng)
        self._log_posts(model, new, reached)
        present = np.asarray(model.present, dtype=bool)
        ranking = RANKINGS.get(self.params.ranking).obj
        shown = state.select(ranking, self.ranking_params, self.params.k, step, present, model.rng)
        state.count(shown, items.claim)
        draws = model.rng.random((2, len(shown)))
        accepted, confidence = rule_answers(self.rule_chance(shown), draws[0])
        failed = np.zeros(len(shown), dtype=bool)
        errors: list[str | None] = [None] * len(shown)
        asked = np.flatnonzero(self.llm[shown.agent])
        if len(asked):
            self._ask(model, shown, asked, accepted, confidence, failed, errors)
        reshared = accepted & ~failed & (draws[1] < self.params.reshare)
        state.answered(shown, accepted & ~failed, reshared, step)
        self._log_exposures(model, shown, accepted, confidence, failed, reshared, errors)

    def rule_chance(self, shown: Exposures) -> np.ndarray:
        """The rule baseline's chance of accepting each exposure (see ``answers``)."""
        assert self.items is not None
        items, j = self.items, shown.item
        if self.is_control:
            weight = np.ones(len(j))
        else:
            weight = self.weights[shown.agent, items.framing[j], items.source[j]]
        base = self.credulity[shown.agent] * weight
        base = base * np.where(items.manipulated[j], 1.0 - self.params.discernment, 1.0)
        return acceptance_probability(base, shown.exposure, self.params.repetition)

    def _ask(
        self, model: ModelView, shown: Exposures, asked: np.ndarray, accepted: np.ndarray,
        confidence: np.ndarray, failed: np.ndarray, errors: list[str | None],
    ) -> None:  # fmt: skip
        """One question per LLM agent's exposure, in one batch; answers written in place."""
        assert self.items is not None
        questions = [
            exposure_question(int(shown.agent[e]), self.items.text(int(shown.item[e]), self.is_control))
            for e in asked.tolist()
        ]  # fmt: skip
        for e, answer in zip(asked.tolist(), model.ask(questions), strict=True):
            if answer.ok:
                accepted[e] = bool(answer.value.accept)
                confidence[e] = answer.value.confidence / 100.0
            else:
                failed[e] = True
                errors[e] = answer.error or "no usable answer"

    # --- the log -----------------------------------------------------------------------------
    def _labels(self, j: np.ndarray) -> dict[str, Any]:
        """The item columns both payloads share, for items `j`."""
        items = self.items
        assert items is not None
        return {
            "item": j,
            "framing": np.array(items.framings, dtype=object)[items.framing[j]].tolist(),
            "source_style": np.array(items.sources, dtype=object)[items.source[j]].tolist(),
            "version": np.where(items.manipulated[j], "manipulated", "true").tolist(),
            "neutral": self.is_control,
        }

    def _claim_ids(self, j: np.ndarray) -> list[str]:
        assert self.items is not None
        ids = np.array([c.id for c in self.items.claims], dtype=object)
        return ids[self.items.claim[j]].tolist()

    def _log_posts(self, model: ModelView, new: np.ndarray, reached: np.ndarray) -> None:
        if not len(new):
            return
        assert self.items is not None
        texts = [self.items.text(int(j), self.is_control) for j in new.tolist()]
        payload = FeedPost(**self._labels(new), text=texts, audience=reached).as_payload()
        model.log.emit_many(
            "action", step=model.step_index, time=model.time, agent=self.items.poster[new],
            claim=self._claim_ids(new), payload=payload,
        )  # fmt: skip
        model.recorder.count("action", len(new))

    def _log_exposures(
        self, model: ModelView, shown: Exposures, accepted: np.ndarray, confidence: np.ndarray,
        failed: np.ndarray, reshared: np.ndarray, errors: list[str | None],
    ) -> None:  # fmt: skip
        if not len(shown):
            return
        assert self.items is not None
        j = shown.item
        sources = np.where(self.llm[shown.agent], "llm", "rule")
        payload = FeedExposure(
            **self._labels(j),
            poster=self.items.poster[j],
            posted=self.items.posted[j],
            exposure=shown.exposure,
            rank=shown.rank,
            status=np.where(failed, "failed", "answered").tolist(),
            source=sources[0] if (sources == sources[0]).all() else sources.tolist(),
            accepted=np.ma.masked_array(accepted, mask=failed),
            confidence=np.ma.masked_array(np.round(confidence, 6), mask=failed),
            reshared=reshared,
            error=errors if any(e is not None for e in errors) else None,
        ).as_payload()
        model.log.emit_many(
            "action", step=model.step_index, time=model.time, agent=shown.agent,
            claim=self._claim_ids(j), payload=payload,
        )  # fmt: skip
        model.recorder.count("action", len(shown))

    def summary(self, model: ModelView) -> dict[str, Any]:
        """Descriptive facts: the items, claims, framings, ranking and exposures."""
        p, items, state = self.params, self.items, self.state
        if items is None or state is None:
            return {}
        return {
            "items": len(items),
            "items_posted": int((items.posted <= model.step_index).sum()),
            "claims": len(items.claims),
            "manipulated_claims": int(np.unique(items.claim[items.manipulated]).size),
            "framings": items.framings,
            "source_styles": items.sources,
            "ranking": p.ranking,
            "k": p.k,
            "neutral": self.is_control,
            "exposures": int(state.exposures.sum()),
        }
