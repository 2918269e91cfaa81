"""Reflection settings of negotiating agents: none, reflect-then-act, or native reasoning.

The setting belongs to a policy group (``reflection_by_group``, keyed ``agents`` or
``agents.mix[i]``; else ``reflection``). ``reflect``: before each of its moves an LLM agent
is asked, in a separate call, to reflect privately on the same turn prompt; the answer is
logged as a ``negotiation_reflection`` action and added to that agent's own move prompt
only: no other party's prompt ever shows it. A failed reflection call fails the
negotiation at that turn. ``native``: each move request carries ``reasoning_effort``
(litellm's reasoning parameter); only the litellm route passes it on, so a group on the
embedded model (``local/...``) or on the direct HTTP route (``fast_path`` with an
``api_base``) is refused at set-up. Agents without an LLM play the concession rule
unchanged under every setting: for them reflection is a no-op, and the outcome records
their setting as ``none``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from socialsim.core.errors import ConfigError
from socialsim.core.registry import POLICIES
from socialsim.llm.routes import route_of
from socialsim.scenarios.negotiation.events import NegotiationReflection
from socialsim.simulation.queries import Question

if TYPE_CHECKING:
    from socialsim.scenarios.negotiation.params import NegotiationParams
    from socialsim.simulation.config import ExperimentConfig
    from socialsim.simulation.model import SocialModel

REFLECTION_TAG = "negotiation_reflection_v1"
REFLECTION_SYSTEM = (
    "You are negotiating on your own behalf. Before you move, think it over privately; "
    "answer with the JSON object asked for and nothing else."
)


class Reflection(BaseModel):
    """A private reflection before a move."""

    reflection: str = Field(..., description="your private thoughts; nobody else sees them")


def group_keys(cfg: ExperimentConfig) -> list[str]:
    """The keys of the policy groups: ``agents``, then ``agents.mix[i]``."""
    return ["agents", *(f"agents.mix[{i}]" for i in range(len(cfg.agents.mix)))]


def check_reflection(params: NegotiationParams, cfg: ExperimentConfig) -> None:
    """Refuse unknown group keys and native reasoning on a route that cannot pass it on."""
    keys = group_keys(cfg)
    for key in params.reflection_by_group:
        if key not in keys:
            raise ConfigError(
                f"scenario.params.reflection_by_group: unknown group {key!r}; "
                f"use one of {', '.join(keys)}"
            )
    agents = cfg.agents
    specs = [(agents.policy, agents.llm)] + [(m.policy, m.llm or agents.llm) for m in agents.mix]
    for key, (policy, llm) in zip(keys, specs, strict=True):
        setting = params.reflection_by_group.get(key, params.reflection)
        if setting != "native" or POLICIES.get(policy).sort != "deciding":
            continue
        route = route_of(llm.model, llm.api_base, llm.fast_path)
        if route == "local":
            raise ConfigError(
                f"scenario.params.reflection: native reasoning for {key} needs a model with a "
                f"reasoning setting; the embedded model {llm.model} has none: use reflect"
            )
        if route == "http":
            raise ConfigError(
                f"scenario.params.reflection: native reasoning for {key} is passed on by the "
                "litellm route only: set agents.llm.fast_path: false, or use reflect"
            )


def setting_of(model: SocialModel, params: NegotiationParams, agent: int) -> str:
    """The reflection setting in effect for `agent` (``none`` for agents without an LLM)."""
    if not model.is_llm(agent):
        return "none"
    g = int(model.policy_of[agent])
    key = "agents" if g == 0 else f"agents.mix[{g - 1}]"
    return params.reflection_by_group.get(key, params.reflection)


def native_extra(setting: str, effort: str) -> dict[str, Any]:
    """The request arguments of a move under `setting`: reasoning_effort for native."""
    return {"reasoning_effort": effort} if setting == "native" else {}


def reflect_prompt(turn_prompt: str) -> str:
    """The reflection question: the turn as the agent sees it, then the private request."""
    return (
        f"{turn_prompt}\n\nDo not move yet. Think privately about your position, what the "
        "others may accept and what you will do. Nobody else will see this. "
        'Answer {"reflection": "<your thoughts>"}.'
    )


def with_reflection(turn_prompt: str, text: str) -> str:
    """The move prompt of an agent that reflected: its own reflection, then the turn."""
    return f"Your private reflection (nobody else saw it): {text}\n\n{turn_prompt}"


def reflect(
    model: SocialModel, asks: list[tuple[int, int, int, str]]
) -> dict[int, tuple[str | None, str | None]]:
    """Ask each (negotiation, agent, turn, turn prompt) to reflect, in one batch; log each.

    Returns negotiation -> (reflection text, error), one of them None.
    """
    if not asks:
        return {}
    questions = [
        Question(
            agent_id=agent,
            prompt=reflect_prompt(prompt),
            schema=Reflection,
            tag=REFLECTION_TAG,
            system=REFLECTION_SYSTEM,
            use_memory=False,
        )
        for _, agent, _, prompt in asks
    ]
    out: dict[int, tuple[str | None, str | None]] = {}
    for (nid, agent, turn, _), answer in zip(asks, model.ask(questions), strict=True):
        text = answer.value.reflection if answer.ok else None
        error = None if answer.ok else f"reflection: {answer.error or 'no usable answer'}"
        model.emit(
            "action",
            agent=agent,
            payload=NegotiationReflection(
                status="answered" if answer.ok else "failed",
                negotiation=nid,
                turn=turn,
                text=text,
                error=error,
            ).as_payload(),
        )
        out[nid] = (text, error)
    return out
