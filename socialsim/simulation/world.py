"""Scenario plug-ins: hooks called by the model's step loop, and a registry by name.

A scenario is configured under ``scenario:`` (``kind`` + ``params``). Subclasses declare a
pydantic ``Params`` model (bad params become one-line config errors), override the hooks
they need, and register with :func:`socialsim.register_scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from socialsim.core.errors import ConfigError
from socialsim.core.registry import SCENARIOS, NoParams, register_scenario
from socialsim.core.validation import describe_error

if TYPE_CHECKING:
    from socialsim.agents.agent import SocialAgent
    from socialsim.core.decisions import Decision, Observation
    from socialsim.core.model_view import ModelView
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.queries import Question


ARMS = ("treatment", "control", "instrument")


class Scenario:
    """Base class: every hook is optional and does nothing by default."""

    kind: ClassVar[str] = "none"
    Params: ClassVar[type[BaseModel]] = NoParams
    #: False for a scenario without a manipulation: its control arm runs unchanged, so the
    #: CLI does not suggest ``--control`` for it.
    has_manipulation: ClassVar[bool] = True
    #: True for a scenario that measures by asking (probes): it has an ``instrument`` arm, the
    #: control without any question before the final step (``control: instrument``).
    has_instrument: ClassVar[bool] = False
    #: Whether LLM agents make the step's own decision (post a message, update their
    #: credences in the claims in play) besides answering the scenario's questions. False:
    #: the scenario's own questions are all its agents do; True: always; None (the default):
    #: when any claim is in play or the scenario adds :meth:`decision_fields`, since without
    #: either that decision has nothing to be about (see :meth:`makes_step_decisions`).
    step_decisions: ClassVar[bool | None] = None
    #: Paraphrases of the scenario's prompt fragments (see :mod:`socialsim.simulation.wording`),
    #: applied to every question it asks when its params set ``wording`` to 1-3.
    paraphrases: ClassVar[Mapping[str, Sequence[str]]] = {}

    def __init__(self, params: dict[str, Any] | None = None, arm: str = "treatment") -> None:
        if arm not in ARMS:
            raise ConfigError(f"scenario arm {arm!r} is not one of {', '.join(ARMS)}")
        if arm == "instrument" and not self.has_instrument:
            raise ConfigError(
                f"control: instrument: the {self.kind} scenario asks no probe questions, so it "
                "has no instrument arm; use control: true"
            )
        self.arm = arm
        try:
            self.params = self.Params.model_validate(params or {})
        except ValidationError as exc:
            raise ConfigError(describe_error(exc, "scenario.params", self.Params)) from None

    @property
    def is_control(self) -> bool:
        """True in the control and instrument arms: the same draws, the manipulation removed."""
        return self.arm != "treatment"

    @property
    def is_instrument(self) -> bool:
        """True in the instrument arm: a control that asks nothing before the final step."""
        return self.arm == "instrument"

    # --- configuration -------------------------------------------------------------------
    def validate_config(self, cfg: ExperimentConfig) -> None:
        """Check params against the rest of the config (steps, size); raise ConfigError."""

    def decision_fields(self) -> dict[str, tuple[type, Any]]:
        """Extra fields for the LLM decision schema: name -> (type, pydantic Field)."""
        return {}

    def prompt_template(self) -> str | None:
        """The decision template for LLM agents whose config sets none (None: the config's)."""
        return None

    def reworded(self, questions: list[Question]) -> list[Question]:
        """`questions` in the wording the params select (``wording``; 0 or absent: as written)."""
        from socialsim.simulation.wording import reworded_questions

        wording = int(getattr(self.params, "wording", 0) or 0)
        return reworded_questions(questions, wording, self.paraphrases)

    def makes_step_decisions(self, model: ModelView) -> bool:
        """Whether this step's active LLM agents make the step decision (:attr:`step_decisions`)."""
        if self.step_decisions is not None:
            return self.step_decisions
        return bool(model.beliefs.claims) or bool(self.decision_fields())

    # --- hooks -----------------------------------------------------------------------------
    def setup(self, model: ModelView) -> None:
        """Once, after agents and network exist and before the first step."""

    def before_step(self, model: ModelView) -> None:
        """Injections, removals, campaign messages."""

    def observe(self, model: ModelView, agent: SocialAgent, observation: Observation) -> None:
        """Add instructions or a task to an agent's observation (in place).

        For LLM agents this runs on the model's thread just before the agent's request is
        built, in the step's seeded order, while earlier agents' requests are in flight and
        their decisions may already be applied: it must not depend on another agent's
        decision (or ``on_decision``) of the same step. Ask in ``before_step``.
        """

    def on_decision(self, model: ModelView, agent: SocialAgent, decision: Decision) -> None:
        """React to an applied decision (record scenario events), on the model's thread."""

    def after_step(self, model: ModelView) -> None:
        """Probes and measurements after the step's log flush."""

    def done(self, model: ModelView) -> bool:
        """True to end the run early."""
        return False

    def summary(self, model: ModelView) -> dict[str, Any]:
        """Descriptive facts for summary.json (ids, the claim or proposition): no measure."""
        return {}

    #: The measures this scenario's question is about, headline first: (dotted key under
    #: ``measures``, label, report figure). ``{claim}`` is filled in with :attr:`claim_id`.
    #: The analysis computes them; the scenario only names them.
    headline_measures: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    def declared_measures(self) -> list[dict[str, str]]:
        """:attr:`headline_measures` as dicts, placeholders filled in."""
        claim = getattr(self, "claim_id", None) or ""
        return [
            {"measure": key.format(claim=claim), "label": label.format(claim=claim),
             "figure": figure.format(claim=claim)}
            for key, label, figure in self.headline_measures
        ]  # fmt: skip


def register(cls: type[Scenario]) -> type[Scenario]:
    """Class decorator: register a scenario under its ``kind`` (see :func:`register_scenario`)."""
    return register_scenario(cls.kind)(cls)


register_scenario("none")(Scenario)


def scenario_kinds() -> list[str]:
    """Names of all registered scenarios."""
    return SCENARIOS.names()


def create_scenario(
    kind: str, params: dict[str, Any] | None = None, arm: str = "treatment"
) -> Scenario:
    """Instantiate a registered scenario in an arm; ConfigError naming the allowed kinds otherwise."""
    return SCENARIOS.get(kind).obj(params, arm=arm)
