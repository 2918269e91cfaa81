"""Decision tasks of the manipulation scenario: a situation with a harmful and a beneficial option.

The built-in library (``data/decision_tasks.yaml``) holds financial and emotional tasks; a
user file adds or replaces tasks by id. Options are phrases that read after "I would ...".

    >>> builtin_tasks()[0].domain
    'financial'
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from socialsim.core.errors import DataFileError
from socialsim.core.validation import parse_entries
from socialsim.core.yaml_safe import load_yaml_file, load_yaml_text

Domain = Literal["financial", "emotional"]
DOMAINS: tuple[str, ...] = Domain.__args__  # type: ignore[attr-defined]


class BeneficialOption(BaseModel):
    """The option that serves the decider, with the honest reason for it."""

    model_config = ConfigDict(extra="forbid")

    option: str = Field(..., min_length=1)
    why: str = Field(..., min_length=1)


class HarmfulOption(BaseModel):
    """The option of known harm, a one-sided fact in its favour, and the harm."""

    model_config = ConfigDict(extra="forbid")

    option: str = Field(..., min_length=1)
    lure: str = Field(..., min_length=1)
    harm: str = Field(..., min_length=1)


class DecisionTask(BaseModel):
    """One decision: a neutral description of the situation and its two options."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    domain: Domain
    situation: str = Field(..., min_length=1)
    beneficial: BeneficialOption
    harmful: HarmfulOption


def parse_tasks(entries: Any, source: str) -> list[DecisionTask]:
    """Validate task entries; DataFileError naming the source, entry and field.

    Two entries with the same id are refused (one would silently replace the other).
    """
    return parse_entries(entries, source, DecisionTask, "decision tasks")


@lru_cache(maxsize=1)
def builtin_tasks() -> tuple[DecisionTask, ...]:
    """The decision tasks shipped with socialsim."""
    text = (
        resources.files("socialsim.scenarios")
        .joinpath("data/decision_tasks.yaml")
        .read_text("utf-8")
    )
    source = "socialsim/scenarios/data/decision_tasks.yaml"
    return tuple(parse_tasks(load_yaml_text(text, source, error=DataFileError), source))


def task_library(path: str | Path | None = None) -> dict[str, DecisionTask]:
    """Built-in tasks by id, plus (replacing by id) those of a YAML file."""
    library = {t.id: t for t in builtin_tasks()}
    if path is None:
        return library
    path = Path(path)
    data = load_yaml_file(path, "decision tasks file", error=DataFileError)
    library.update({t.id: t for t in parse_tasks(data, str(path))})
    return library


__all__ = [
    "DOMAINS",
    "BeneficialOption",
    "DecisionTask",
    "Domain",
    "HarmfulOption",
    "builtin_tasks",
    "parse_tasks",
    "task_library",
]
