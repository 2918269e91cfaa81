"""Every config field, given a value of the wrong type, range or shape: exit 2, one line, no output.

The fields come from the config models themselves, so a field added later is covered too.
"""

from __future__ import annotations

import math
import string
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types as at
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from socialsim.simulation.config import ExperimentConfig
from tests.cli_in_process import run_cli

RULE = (
    "steps: 1\npopulation: {size: 6}\nnetwork: {kind: ring}\nagents: {policy: degroot}\n"
    "claims: [{id: c1, text: The river is poisoned.}]\n"
)


@dataclass(frozen=True)
class Leaf:
    """One config field that holds a value (not a section): its dotted path and what it takes."""

    path: str
    kinds: frozenset[Any]  # int, float, bool, str, list, dict, "literal"
    choices: tuple[Any, ...]
    lower: tuple[float, bool] | None  # (bound, inclusive)
    upper: tuple[float, bool] | None


def _types(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _types(arg)]
    return [annotation]


def _section(annotation: Any) -> type[BaseModel] | None:
    found = [t for t in _types(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    return found[0] if found else None


def leaves(model: type[BaseModel] = ExperimentConfig, prefix: str = "") -> list[Leaf]:
    """Every value-holding field of `model` and its sections, with its types and bounds."""
    found = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        section = _section(field.annotation)
        if section is not None:
            found += leaves(section, f"{path}.")
            continue
        kinds, choices = set(), ()
        for t in _types(field.annotation):
            origin = typing.get_origin(t) or t
            if origin is Literal:
                kinds.add("literal")
                choices = typing.get_args(t)
            elif origin in (list, tuple):
                kinds.add(list)
            elif origin is type(None):
                kinds.add(None)
            else:
                kinds.add(origin)
        lower = upper = None
        for m in field.metadata:
            if isinstance(m, at.Ge | at.Gt):
                lower = (m.ge, True) if isinstance(m, at.Ge) else (m.gt, False)
            if isinstance(m, at.Le | at.Lt):
                upper = (m.le, True) if isinstance(m, at.Le) else (m.lt, False)
        found.append(Leaf(path, frozenset(kinds), choices, lower, upper))
    return found


LEAVES = leaves()
WORDS = st.text(string.ascii_letters, min_size=1, max_size=10)
FLOATS = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)
LISTS = st.lists(st.integers(-5, 5), max_size=3)
DICTS = st.dictionaries(WORDS, st.integers(-5, 5), min_size=1, max_size=2)


def wrong_values(leaf: Leaf) -> st.SearchStrategy[Any]:
    """Values of a type, range or shape that `leaf` must refuse."""
    kinds = leaf.kinds
    options: list[st.SearchStrategy[Any]] = []
    if kinds & {int, float}:
        options += [st.booleans(), WORDS, LISTS, DICTS]
        if float not in kinds:
            options.append(FLOATS.filter(lambda x: not float(x).is_integer()))
        else:
            options.append(st.sampled_from([math.nan, math.inf, -math.inf]))
        if leaf.lower is not None:
            bound, inclusive = leaf.lower
            top = bound - 1 if inclusive and float not in kinds else bound
            floats = st.floats(max_value=bound, exclude_max=inclusive, min_value=bound - 1e6)
            options.append(
                st.integers(int(top) - 10**6, int(top)) if float not in kinds else floats
            )
        if leaf.upper is not None:
            bound, inclusive = leaf.upper
            bottom = bound + 1 if inclusive and float not in kinds else bound
            floats = st.floats(min_value=bound, exclude_min=inclusive, max_value=bound + 1e6)
            options.append(
                st.integers(int(bottom), int(bottom) + 10**6) if float not in kinds else floats
            )
    elif bool in kinds:
        options += [st.integers(-3, 3), FLOATS, WORDS, LISTS, DICTS]
    elif "literal" in kinds:
        options += [WORDS.filter(lambda w: w not in leaf.choices), st.integers(), LISTS]
    else:
        options += [st.integers(-5, 5), FLOATS]
        if str not in kinds:
            options.append(WORDS)
        if list not in kinds:
            options.append(LISTS)
        if dict not in kinds:
            options.append(DICTS)
    return st.one_of(options)


CASES = st.sampled_from(LEAVES).flatmap(
    lambda leaf: wrong_values(leaf).map(lambda value: (leaf.path, value))
)


def as_set(path: str, value: Any) -> str:
    """`--set path=value`, the value written as YAML reads it back."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
    return f"{path}={text.removesuffix('...').strip()}"


def test_the_field_list_covers_every_section():
    paths = {leaf.path for leaf in LEAVES}
    assert {
        "seed",
        "steps",
        "population.size",
        "agents.llm.max_tokens",
        "agents.llm.timeout",
    } <= paths
    assert {"output.report", "event.window", "agents.prompt.persona", "sweep", "plugins"} <= paths
    assert len(paths) > 50


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("property")
    (folder / "c.yaml").write_text(RULE)
    return folder


@settings(
    max_examples=160,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=CASES)
@pytest.mark.slow
def test_a_wrong_value_in_any_field_is_one_line_exit_2_and_writes_nothing(folder, case):
    path, value = case
    setting = as_set(path, value)
    done = run_cli(
        "run", str(folder / "c.yaml"), "--set", setting, "--out", str(folder / "out"), "-q"
    )
    assert done.code == 2, (setting, done.err)
    assert len(done.err_lines) == 1 and done.err.startswith("error: "), (setting, done.err)
    assert "Traceback" not in done.err and len(done.err) < 1200
    assert path.split(".")[0] in done.err, (setting, done.err)
    assert sorted(p.name for p in folder.iterdir()) == ["c.yaml"], setting
