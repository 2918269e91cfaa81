"""The LLM policy's entry in the policy registry: its parameters and how prompts are shaped.

``agents.params`` of the ``llm`` policy hold what every policy has (``initial``); how the
prompt is written (template, persona style) lives under ``agents.prompt``, so switching the
policy to a rule never breaks on a prompt setting.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from socialsim.agents.policies.llm import LLMPolicy
from socialsim.core.registry import register_policy


class LLMParams(BaseModel):
    """Parameters of the ``llm`` policy."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    initial: float | Literal["uniform"] = Field(
        0.5, description="starting credence in every claim: a number in [0, 1] or uniform"
    )

    @field_validator("initial", mode="before")
    @classmethod
    def _initial(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
            return float(value)
        if value == "uniform":
            return value
        raise ValueError(f"{value!r} must be 'uniform' or a number in [0, 1]")


register_policy("llm", params=LLMParams, sort="deciding")(LLMPolicy)
