"""A self-report personality inventory (the 20-item Mini-IPIP) asked of agents, scored per trait.

Any run can ask it: ``agents.self_report: {when: before | after | both}`` (default ``none``)
asks every agent present before the first step (at set-up) and/or after the last step
(:func:`ask_at_start`, :func:`ask_at_end`, called by the model). Each agent rates how
accurately each item describes it (1-5); a trait's score is the mean of its four items,
reversed items counted as 6 - rating, mapped onto 0..1 as (mean - 1) / 4 so it compares with
the persona's assigned Big Five. The inventory is one question per agent through
``model.ask`` without the agent's memories; nothing of it enters memory or inbox, and it
draws nothing from the run's random generators, so the run's other prompts are unchanged.
Agents without an LLM answer by the fallback: each item at the rating their assigned trait
implies (1 + 4 x trait, rounded; reversed items 6 - that), so a rule agent's self-report is
its assigned trait to within rounding (``source: rule``). Each agent's scores are logged as
one ``self_report`` action; :mod:`socialsim.analysis.self_report` correlates them with the
assigned traits (and, in the donor game, with behaviour).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from socialsim.core.events import ABSENT, EventPayload, described, event_payload
from socialsim.simulation.queries import Question

if TYPE_CHECKING:
    from socialsim.core.model_view import ModelView

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
TAG = "self_report_v1"
WHEN = ("none", "before", "after", "both")


class SelfReportConfig(BaseModel):
    """``agents.self_report``: when every agent is asked the Mini-IPIP self-report inventory."""

    model_config = ConfigDict(extra="forbid")

    when: Literal["none", "before", "after", "both"] = Field(
        "none",
        description="ask every agent the Mini-IPIP before the first step (before), after the "
        "last (after), both, or never (none); rule agents report their assigned traits",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """``self_report: after`` is ``self_report: {when: after}``; null is ``none``."""
        if data is None:
            return {"when": "none"}
        if isinstance(data, str):
            return {"when": data}
        if not isinstance(data, dict):
            raise ValueError(
                f"{data!r} is not a setting; give {{when: none | before | after | both}}"
            )
        return data

    @property
    def before(self) -> bool:
        """True when the inventory is asked before the first step."""
        return self.when in ("before", "both")

    @property
    def after(self) -> bool:
        """True when the inventory is asked after the last step."""
        return self.when in ("after", "both")


@event_payload("action", "self_report")
class SelfReport(EventPayload):
    """An agent's self-reported Big Five, scored from the inventory (0..1 each)."""

    status: str = described("answered or failed")
    source: str = described("llm or rule")
    inventory: str = described("the inventory asked: mini_ipip")
    scores: dict | None = described("trait -> score 0..1 (mean item rating, mapped)")
    error: str | None = described("why the answer failed, if it did")
    when: str = described("before (the first step) or after (the last step)", ABSENT)


@cache
def _inventory() -> dict[str, Any]:
    """The inventory file: its rating scale and items."""
    text = resources.files("socialsim.simulation").joinpath("data/mini_ipip.yaml")
    return yaml.safe_load(text.read_text("utf-8"))


def inventory_items() -> tuple[dict[str, Any], ...]:
    """The Mini-IPIP items (``text, trait, key``), in the order asked."""
    return tuple(_inventory()["items"])


def inventory_scale() -> str:
    """The rating scale as the question states it."""
    return str(_inventory()["scale"])


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


def ask_inventory(
    model: ModelView, agents: list[int], when: str | None = None
) -> dict[int, dict[str, float]]:
    """Ask the inventory of `agents` (one batch), log a ``self_report`` each; return the scores.

    `when` (``before`` / ``after``) is written into each event when given.
    """
    schema = inventory_schema()
    prompt = inventory_prompt()
    questions = []
    for a in agents:
        traits = model.persona_of(a).big_five.model_dump()
        values = {f"item_{k}": r for k, r in enumerate(assigned_ratings(traits), 1)}
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
    stamp = ABSENT if when is None else when
    for q, answer in zip(questions, model.ask(questions), strict=True):
        source = "llm" if model.is_llm(q.agent_id) else "rule"
        if answer.ok:
            ratings = [int(getattr(answer.value, f"item_{k}")) for k in range(1, 21)]
            found[q.agent_id] = score_ratings(ratings)
            report = SelfReport(
                status="answered", source=source, inventory="mini_ipip",
                scores=found[q.agent_id], error=None, when=stamp,
            )  # fmt: skip
        else:
            report = SelfReport(
                status="failed", source=source, inventory="mini_ipip", scores=None,
                error=answer.error or "no usable answer", when=stamp,
            )  # fmt: skip
        model.emit("action", agent=q.agent_id, payload=report.as_payload())
    return found


def _present(model: ModelView) -> list[int]:
    """The agents that have not left the run, in id order."""
    return np.flatnonzero(model.present).tolist()


def ask_at_start(model: ModelView, steps_ahead: int) -> None:
    """At the end of set-up: ask every agent before the first step (``before`` / ``both``);
    a run with no step ahead (`steps_ahead` 0) is also asked its ``after`` inventory now."""
    setting = model.cfg.agents.self_report
    if setting.before:
        ask_inventory(model, _present(model), "before")
    if setting.after and steps_ahead <= 0:
        ask_inventory(model, _present(model), "after")


def ask_at_end(model: ModelView) -> None:
    """After the last step (the step limit, or the scenario's end): ask every agent present
    (``after`` / ``both``)."""
    if model.cfg.agents.self_report.after:
        ask_inventory(model, _present(model), "after")
