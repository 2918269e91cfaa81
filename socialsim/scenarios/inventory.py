"""A self-report personality inventory (the 20-item Mini-IPIP) asked of agents, scored per trait.

Each agent rates how accurately each item describes it (1-5); a trait's score is the mean of
its four items, reversed items counted as 6 - rating, mapped onto 0..1 as (mean - 1) / 4 so
it compares with the persona's assigned Big Five. The inventory is one question per agent
through ``model.ask`` without the agent's memories, and nothing of it is stored in memory.
Agents without an LLM answer by the fallback: each item at the rating their assigned trait
implies (1 + 4 x trait, rounded; reversed items 6 - that), so a rule agent's self-report is
its assigned trait to within rounding (``source: rule``). Each agent's scores are logged as
one ``self_report`` action; :mod:`socialsim.analysis.self_report` correlates them with the
assigned traits and with behaviour.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, Field, create_model

from socialsim.core.events import EventPayload, described, event_payload
from socialsim.simulation.queries import Question

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
TAG = "self_report_v1"


@event_payload("action", "self_report")
class SelfReport(EventPayload):
    """An agent's self-reported Big Five, scored from the inventory (0..1 each)."""

    status: str = described("answered or failed")
    source: str = described("llm or rule")
    inventory: str = described("the inventory asked: mini_ipip")
    scores: dict | None = described("trait -> score 0..1 (mean item rating, mapped)")
    error: str | None = described("why the answer failed, if it did")


@cache
def inventory_items() -> tuple[dict[str, Any], ...]:
    """The Mini-IPIP items (``text, trait, key``), in the order asked."""
    data = yaml.safe_load(
        resources.files("socialsim.scenarios").joinpath("data/mini_ipip.yaml").read_text("utf-8")
    )
    return tuple(data["items"])


@cache
def inventory_scale() -> str:
    """The rating scale as the question states it."""
    data = yaml.safe_load(
        resources.files("socialsim.scenarios").joinpath("data/mini_ipip.yaml").read_text("utf-8")
    )
    return str(data["scale"])


@cache
def inventory_schema() -> type[BaseModel]:
    """The answer schema: ``item_1`` .. ``item_20``, each a rating 1-5."""
    rating = Literal[1, 2, 3, 4, 5]
    fields: dict[str, Any] = {
        f"item_{k}": (rating, Field(..., description=item["text"]))
        for k, item in enumerate(inventory_items(), 1)
    }
    return create_model("InventoryAnswer", **fields)


def inventory_prompt() -> str:
    """The question: every item, numbered, with the rating scale."""
    lines = [
        "Describe yourself as you generally are now, not as you wish to be. For each "
        "statement, say how accurately it describes you.",
        f"Scale: {inventory_scale()}.",
        "",
    ]
    lines += [f"item_{k}. I {item['text'][0].lower()}{item['text'][1:]}" for k, item in
              enumerate(inventory_items(), 1)]  # fmt: skip
    lines += ["", 'Reply in JSON as {"item_1": <1-5>, ..., "item_20": <1-5>}.']
    return "\n".join(lines)


def score_ratings(ratings: list[int]) -> dict[str, float]:
    """Trait scores 0..1 from the 20 ratings in item order (reversed items as 6 - rating).

    >>> score_ratings([5] * 20)["extraversion"]  # two items keyed +, two -: (5+5+1+1)/4
    0.5
    """
    items = inventory_items()
    if len(ratings) != len(items):
        raise ValueError(f"{len(ratings)} ratings for {len(items)} items")
    sums = dict.fromkeys(TRAITS, 0.0)
    counts = dict.fromkeys(TRAITS, 0)
    for item, rating in zip(items, ratings, strict=True):
        value = rating if item["key"] > 0 else 6 - rating
        sums[item["trait"]] += value
        counts[item["trait"]] += 1
    return {t: (sums[t] / counts[t] - 1) / 4 for t in TRAITS}


def assigned_ratings(traits: dict[str, float]) -> list[int]:
    """The ratings an agent answering exactly as its assigned traits (0..1) would give."""
    out = []
    for item in inventory_items():
        level = int(min(5, max(1, round(1 + 4 * float(traits[item["trait"]])))))
        out.append(level if item["key"] > 0 else 6 - level)
    return out


def ask_inventory(model: SocialModel, agents: list[int]) -> dict[int, dict[str, float]]:
    """Ask the inventory of `agents` (one batch), log a ``self_report`` each; return the scores."""
    schema = inventory_schema()
    prompt = inventory_prompt()
    questions = []
    for a in agents:
        traits = model.agent(a).persona.big_five.model_dump()
        ratings = assigned_ratings(traits)
        values = {f"item_{k}": r for k, r in enumerate(ratings, 1)}
        questions.append(
            Question(
                agent_id=a,
                prompt=prompt,
                schema=schema,
                tag=TAG,
                fallback=lambda v=values: schema(**v),
                use_memory=False,
            )
        )
    found: dict[int, dict[str, float]] = {}
    for q, answer in zip(questions, model.ask(questions), strict=True):
        source = "llm" if model.is_llm(q.agent_id) else "rule"
        if answer.ok:
            ratings = [int(getattr(answer.value, f"item_{k}")) for k in range(1, 21)]
            found[q.agent_id] = score_ratings(ratings)
            report = SelfReport(
                status="answered", source=source, inventory="mini_ipip",
                scores=found[q.agent_id], error=None,
            )  # fmt: skip
        else:
            report = SelfReport(
                status="failed", source=source, inventory="mini_ipip", scores=None,
                error=answer.error or "no usable answer",
            )  # fmt: skip
        model.emit("action", agent=q.agent_id, payload=report.as_payload())
    return found


def inventory_field() -> Any:
    """The ``self_report`` param of a scenario that can ask the inventory."""
    return Field(
        None,
        ge=0,
        description=(
            "ask every agent the Mini-IPIP self-report inventory before this step (0: at "
            "set-up; null: never); rule agents report their assigned traits"
        ),
    )
