"""The bad-input corpus, part one: the case record and mutations of every example config.

Each example in ``examples/*.yaml`` is made tiny (10 agents, 2 steps, a rule policy where it
names ``llm``) and then broken one leaf at a time: a value of the wrong type, out of range,
or of the wrong shape. A mutation that is wrong for every field it touches (``lots`` where a
number is meant) expects a refusal; one whose wrongness depends on the field (zero, a huge
number, an unknown string, a list where one value may do) is a ``probe``, reported apart.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: the command line of a config case: run the config into ./out, no report, no progress bar
RUN = ("run", "c.yaml", "--out", "out", "--no-report", "-q")
#: the command line of a config with a `sweep:` section
SWEEP = ("sweep", "c.yaml", "--out", "out", "-q")
#: section names too general to count as naming the key at fault
GENERAL = {
    "params",
    "llm",
    "prompt",
    "agents",
    "network",
    "population",
    "scenario",
    "output",
    "sweep",
    "analysis",
    "measures",
    "event",
}
#: what a mutated example is made into before it is broken: small enough to run in seconds
TINY = {"population.size": 10, "steps": 2}
#: fields whose values name a registry entry or a fixed choice: an unknown name is wrong
CHOICES = {
    "agents.policy", "network.kind", "scenario.kind", "population.assign", "agents.activation",
    "agents.prompt.template", "agents.prompt.persona", "mode",
}  # fmt: skip
#: leaf names that hold whole numbers (a count, a size, a step): 2.5 there is wrong
WHOLE = re.compile(
    r"(count|size|steps|seed|turns|rounds|advisors|candidates|joiners|follows|trials|depth"
    r"|strategies|per_step|every|^k$|^m$|blocks|bins|tokens|memory_k|limit|_at$|texts"
    r"|replicates|generation|width|height)"
)
#: probability-like leaves: a number in [0, 1] named like one (a huge value there is wrong)
SHARE = re.compile(r"(^p$|^p_|fraction|share|rate|^epsilon$|^mu$|threshold|revisit|credence)")


@dataclass
class Case:
    """One malformed (or, for controls, valid) input and what a good CLI does with it."""

    name: str
    group: str
    files: dict[str, bytes | str] = field(default_factory=dict)
    args: tuple[str, ...] = RUN
    expect: str = "refuse"  # refuse | accept | probe
    mentions: tuple[str, ...] = ()  # the error line names one of these (a key, a file)
    fixture: str | None = None  # a shared directory copied into the case folder first
    links: dict[str, str] = field(default_factory=dict)  # symlink name -> target
    fifos: tuple[str, ...] = ()  # named pipes made in the case folder
    note: str = ""


def dump(config: dict[str, Any]) -> str:
    """A config as YAML text (NaN and infinity written as YAML's .nan and .inf)."""
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=1 << 20)


def tiny_example(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """An example config made small and rule-driven; the plugin files it needs beside it."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["steps"] = TINY["steps"]
    config.setdefault("population", {})["size"] = TINY["population.size"]
    agents = config.setdefault("agents", {})
    if agents.get("policy", "llm") == "llm":
        misinformation = config.get("scenario", {}).get("kind") == "misinformation"
        agents["policy"] = "independent_cascade" if misinformation else "degroot"
    scenario = config.get("scenario", {}).get("params", {})
    for key, value in scenario.items():  # steps named by the example: within the tiny run
        if key.endswith("_steps") and isinstance(value, list):
            scenario[key] = sorted({min(v, TINY["steps"]) for v in value})
        elif key.endswith("_at") and isinstance(value, int):
            scenario[key] = min(value, TINY["steps"])
        elif isinstance(value, dict) and isinstance(value.get("step"), int):  # memory_poison
            value["step"] = min(value["step"], TINY["steps"])
    if isinstance(scenario.get("texts"), int):  # accumulation: one text a step
        scenario["texts"] = min(scenario["texts"], TINY["steps"])
    if isinstance(scenario.get("pairs"), dict):  # debate: at most size / 2 disjoint pairs
        scenario["pairs"]["count"] = min(scenario["pairs"].get("count", 1), 4)
    if config.get("sweep"):  # every value of the first key, one of the rest: a few cells
        first = next(iter(config["sweep"]))
        config["sweep"] = {
            k: list(v) if k == first else list(v)[:1] for k, v in config["sweep"].items()
        }
    config.setdefault("output", {})["report"] = False
    extra = {}
    for plugin in config.get("plugins", []):
        extra[plugin] = (path.parent / plugin).read_text(encoding="utf-8")
    return config, extra


def leaves(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every (key path, value) of a config: scalars, lists of scalars, and sections."""
    found: list[tuple[tuple[str, ...], Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            path = (*prefix, str(key))
            found.append((path, value))
            if isinstance(value, dict):
                found.extend(leaves(value, path))
    return found


def mutations(path: str, value: Any) -> list[tuple[str, Any, str]]:
    """The (kind, new value, expectation) mutations of one leaf, by the leaf's type."""
    name = path.rsplit(".", 1)[-1]
    if isinstance(value, bool):
        return [("str", "maybe", "refuse"), ("int", 2, "refuse"), ("list", [True], "refuse"),
                ("null", None, "probe")]  # fmt: skip
    if isinstance(value, (int, float)):
        share = isinstance(value, float) and 0 <= value <= 1 and bool(SHARE.search(name))
        whole = isinstance(value, int) and bool(WHOLE.search(name))
        negative, huge = (-1, 10**12) if isinstance(value, int) else (-0.5, 1e12)
        return [
            ("str", "lots", "refuse"), ("list", [1, 2], "refuse"), ("dict", {"a": 1}, "refuse"),
            ("bool", True, "refuse"), ("negative", negative, "refuse"),
            ("zero", 0, "probe"), ("huge", huge, "refuse" if share else "probe"),
            ("nan", float("nan"), "refuse"), ("inf", float("inf"), "refuse"),
            ("fraction", 2.5, "refuse" if whole else "probe"), ("null", None, "probe"),
        ]  # fmt: skip
    if isinstance(value, str):
        unknown = "refuse" if path in CHOICES else "probe"
        named = "refuse" if path in CHOICES or path == "name" else "probe"  # name: a folder name
        return [
            ("int", 42, "refuse"), ("bool", True, "refuse"), ("float", 0.5, "refuse"),
            ("unknown", "no_such_value_zz", unknown), ("empty", "", named),
            ("list", [value], "probe"), ("dict", {value: 1}, "probe"), ("null", None, "probe"),
            ("traversal", "../../outside", named), ("long", "x" * 100_000, named),
        ]  # fmt: skip
    if isinstance(value, list):
        numeric = bool(value) and all(isinstance(v, (int, float)) for v in value)
        return [
            ("scalar-str", "lots", "refuse" if numeric else "probe"),
            ("element-dict", [{"a": 1}], "refuse"), ("nested", [value], "refuse"),
            ("empty", [], "probe"),
            ("element-nan", [float("nan")], "refuse" if numeric else "probe"),
            ("element-negative", [-3], "refuse" if numeric else "probe"),
            ("duplicated", value + value, "probe"), ("element-null", [None], "refuse"),
        ]  # fmt: skip
    if isinstance(value, dict):
        section = "." not in path or name in ("params", "llm", "prompt", "sweep")
        shape = "refuse" if section else "probe"
        return [("scalar", 42, shape), ("list", [1, 2], shape), ("string", "lots", shape),
                ("unknown-key", {**value, "bogus_key_zz": 1}, "refuse"),
                ("null", None, "probe")]  # fmt: skip
    return []


def set_path(config: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of `config` with the key `path` set to `value`."""
    out = yaml.safe_load(dump(config))
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def _scope(config: dict[str, Any], path: str) -> str:
    """What the meaning of `path` depends on (the scenario, network kind or policy)."""
    if path.startswith("scenario.params"):
        return config.get("scenario", {}).get("kind", "")
    if path.startswith("network.params"):
        return config.get("network", {}).get("kind", "")
    if path.startswith("agents.params"):
        return config.get("agents", {}).get("policy", "")
    return ""


def example_cases(examples: Path, seed: int, per_leaf: int) -> list[Case]:
    """A baseline (valid) case per example and up to `per_leaf` mutations of each leaf.

    A leaf shared by several examples (``seed``, ``network.params.k`` of the same kind) gets
    `per_leaf` mutations in all, not per example. Which mutations a leaf gets is drawn from
    `seed`; the first one expects a refusal whenever the leaf has such a mutation.
    """
    rng = random.Random(seed)
    cases: list[Case] = []
    done: dict[tuple[str, str], int] = {}  # (scope, leaf) -> mutations made so far
    for path in sorted(examples.glob("*.yaml")):
        config, extra = tiny_example(path)
        group = f"example:{path.stem}"
        args = SWEEP if config.get("sweep") else RUN
        cases.append(
            Case(
                f"{path.stem}:baseline",
                "valid",
                {"c.yaml": dump(config), **extra},
                args=args,
                expect="accept",
                note=f"{path.name}, tiny, rule policy",
            )
        )
        for keys, value in leaves(config):
            leaf = ".".join(keys)
            scope = (_scope(config, leaf), leaf)
            left = per_leaf - done.get(scope, 0)
            options = mutations(leaf, value) if left > 0 else []
            wrong = [m for m in options if m[2] == "refuse"]
            rest = [m for m in options if m[2] != "refuse"]
            rng.shuffle(wrong)
            rng.shuffle(rest)
            chosen = (wrong[:1] + sorted(wrong[1:] + rest, key=lambda m: rng.random()))[:left]
            done[scope] = done.get(scope, 0) + len(chosen)
            named = keys[-1:] + tuple(k for k in keys[-2:-1] if k not in GENERAL)
            for kind, new, expect in chosen:
                cases.append(
                    Case(
                        f"{path.stem}:{leaf}={kind}",
                        group,
                        {"c.yaml": dump(set_path(config, keys, new)), **extra},
                        args=args,
                        expect=expect,
                        mentions=("bogus_key_zz",) if kind == "unknown-key" else named,
                        note=f"{leaf}: {str(value)[:40]} -> {kind}",
                    )
                )
    return cases
