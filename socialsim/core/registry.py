"""Registries: the policies, networks, scenarios and measures a config may name.

Built-ins register exactly as a user's own code does, with the public decorators::

    import socialsim as ss

    @ss.register_policy("backfire")
    class Backfire(ss.Rule):
        class Params(ss.RuleParams):
            epsilon: float = 0.2
        def update(self, ctx): ...

    @ss.register_network("two_stars", params=TwoStarsParams)
    def two_stars(n, params, seed): ...          # a networkx graph or an (m, 2) edge array

Each entry carries a pydantic ``Params`` model; the config validates ``agents.params``,
``network.params``, ``scenario.params`` and ``analysis.measures`` against it when it is
loaded, so a registered thing is usable from YAML, ``--set`` and sweeps like a built-in
one. A config names modules or ``.py`` files to import first under ``plugins:``; installed
packages can also register through the ``socialsim.plugins`` entry-point group. A plugin is
Python code: the plugins a run directory's config names are imported only when the user
trusts them (``--plugins``; :func:`trust_plugins`).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import traceback
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from socialsim.core.errors import ConfigError, Notice, SocialsimError, require_file
from socialsim.core.validation import _scalar_sort, choices, clip, describe_error, shown


class NoParams(BaseModel):
    """The Params of something that takes none."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Entry:
    """One registered thing: its name, the object, its Params model and its sort."""

    name: str
    obj: Any
    params: type[BaseModel]
    sort: str = ""  # policies: "rule" or "deciding"
    module: str = ""

    @property
    def summary(self) -> str:
        """The first line of the object's docstring."""
        doc = (getattr(self.obj, "__doc__", None) or "").strip()
        return doc.splitlines()[0] if doc else ""


class Registry:
    """Names to entries for one sort of thing; built-ins load on first use."""

    def __init__(self, what: str, key: str, builtins: tuple[str, ...]) -> None:
        self.what = what  # "policy"
        self.key = key  # "agents.policy": where a config names it
        self._builtins = builtins
        self._loaded = False
        self._entries: dict[str, Entry] = {}

    def add(
        self, name: str, obj: Any, params: type[BaseModel] | None = None, sort: str = ""
    ) -> Entry:
        """Register `obj` under `name` (a later registration of the same name replaces it)."""
        if not isinstance(name, str) or not name or not name.replace("_", "").isalnum():
            raise ConfigError(
                f"register_{self.what}: name {name!r} must be letters, digits and underscores"
            )
        params = params or getattr(obj, "Params", None) or NoParams
        if not (isinstance(params, type) and issubclass(params, BaseModel)):
            raise ConfigError(
                f"register_{self.what}({name!r}): params must be a pydantic BaseModel class"
            )
        entry = Entry(name, obj, params, sort, getattr(obj, "__module__", ""))
        self._entries[name] = entry
        return entry

    def remove(self, name: str) -> None:
        """Forget `name` (tests that register temporary entries clean up with this)."""
        self._entries.pop(name, None)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtins:
            importlib.import_module(module)
        load_entry_points()

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._load()
        return sorted(self._entries)

    def entries(self) -> Iterator[Entry]:
        """Every entry, in registration order (built-ins first)."""
        self._load()
        return iter(list(self._entries.values()))

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def get(self, name: str) -> Entry:
        """The entry named `name`; ConfigError naming the registered ones otherwise."""
        self._load()
        if name not in self._entries:
            raise ConfigError(self.unknown(name))
        return self._entries[name]

    def unknown(self, name: Any) -> str:
        """The one-line error for a name that is not registered."""
        return (
            f"{self.key}: {shown(name)} is not one of {choices(self.names(), name)} "
            f"(register your own with socialsim.register_{self.what})"
        )

    def validate(self, name: str, params: dict[str, Any] | None, where: str) -> BaseModel:
        """`params` checked against the entry's Params; ConfigError naming the field."""
        entry = self.get(name)
        problem = wrong_numbers(entry.params, params or {}, where)
        if problem is not None:
            raise ConfigError(problem)
        try:
            return entry.params.model_validate(params or {})
        except ValidationError as exc:
            raise ConfigError(
                describe_error(exc, where, model=entry.params, owner=f"{self.what} {name}")
            ) from None


def wrong_numbers(model: type[BaseModel], values: Any, where: str) -> str | None:
    """The one-line error for a true/false or NaN given where `model` takes a number.

    Pydantic reads ``true`` as 1 and takes NaN where a number field has no bounds; in a
    config either means something else. Nested models and lists of them are walked, so
    every registered entry's params (a user's too) are held to this.
    """
    if not isinstance(values, dict):
        return None
    for key, value in values.items():
        field = model.model_fields.get(key)
        if field is None:
            continue
        at = f"{where}.{key}"
        sort = _scalar_sort(field.annotation)
        if sort == "number" and isinstance(value, bool):
            return f"{at}: {str(value).lower()} is not a number; give a number"
        if sort == "number" and isinstance(value, float) and math.isnan(value):
            return f"{at}: NaN must be a finite number"
        if isinstance(value, dict):
            kinds = _dict_values_of(field.annotation)
            for name, item in value.items():
                if "number" in kinds and isinstance(item, bool):
                    return f"{at}.{name}: {str(item).lower()} is not a number; give a number"
                if "number" in kinds and isinstance(item, float) and math.isnan(item):
                    return f"{at}.{name}: NaN must be a finite number"
        for inner in _models_of(field.annotation):
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                place = f"{at}[{i}]" if isinstance(value, list) else at
                problem = wrong_numbers(inner, item, place)
                if problem is not None:
                    return problem
    return None


def _dict_values_of(annotation: Any) -> set[str]:
    """The sorts (``number``, ``bool``) of the values of the dicts an annotation holds."""
    if typing.get_origin(annotation) is dict:
        args = typing.get_args(annotation)
        return {_scalar_sort(args[1])} if len(args) == 2 else set()
    return {k for arg in typing.get_args(annotation) for k in _dict_values_of(arg)}


def _models_of(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (directly, optional, or as list items)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_of(arg)]


POLICIES = Registry(
    "policy",
    "agents.policy",
    (
        "socialsim.agents.policies.rules",
        "socialsim.agents.policies.contagion",
        "socialsim.agents.policies.llm_params",
    ),
)
NETWORKS = Registry(
    "network", "network.kind", ("socialsim.simulation.network", "socialsim.simulation.generators")
)
SCENARIOS = Registry("scenario", "scenario.kind", ("socialsim.scenarios.builtin",))
MEASURES = Registry(
    "measure",
    "analysis.measures",
    (
        "socialsim.analysis.measures",
        "socialsim.scenarios.builtin",  # each family registers its measures and report part
        "socialsim.analysis.consistency",
        "socialsim.analysis.self_report",
        "socialsim.scenarios.message_quality",
        "socialsim.analysis.toxicity",
    ),
)


def register_policy(
    name: str, *, params: type[BaseModel] | None = None, sort: str | None = None
) -> Callable[[type], type]:
    """Class decorator: a rule policy (a ``RulePolicy``) or a deciding policy (an ``LLMPolicy``).

    ``params`` defaults to the class's ``Params``; ``sort`` ("rule" or "deciding") to what
    the class derives from. The class's ``name`` becomes `name`.
    """

    def deco(cls: type) -> type:
        kind = sort or _policy_sort(cls)
        cls.name = name  # type: ignore[attr-defined]
        POLICIES.add(name, cls, params, kind)
        return cls

    return deco


def _policy_sort(cls: type) -> str:
    sort = getattr(cls, "policy_sort", None) if isinstance(cls, type) else None
    if sort in ("rule", "deciding"):
        return sort
    raise ConfigError(
        f"register_policy: {getattr(cls, '__name__', cls)!r} is neither a RulePolicy nor a "
        "DecidingPolicy subclass"
    )


def register_network(
    name: str, *, params: type[BaseModel] | None = None
) -> Callable[[Callable], Callable]:
    """Function decorator: ``fn(n, params, seed)`` returns a networkx graph or an (m, 2) edge array.

    Nodes are 0..n-1. Node attributes of a returned graph are kept: ``community`` as the
    personas table's column of that name, any other as ``graph.<name>``.
    """

    def deco(fn: Callable) -> Callable:
        NETWORKS.add(name, fn, params or NoParams)
        return fn

    return deco


def register_scenario(name: str) -> Callable[[type], type]:
    """Class decorator: a ``Scenario`` subclass available as ``scenario.kind: name``."""

    def deco(cls: type) -> type:
        _check_scenario(cls)
        cls.kind = name  # type: ignore[attr-defined]
        SCENARIOS.add(name, cls, getattr(cls, "Params", None))
        return cls

    return deco


#: the hooks every Scenario has (the model calls them); a class without them is no Scenario
_SCENARIO_HOOKS = ("setup", "before_step", "after_step", "validate_config", "decision_fields")


def _check_scenario(cls: Any) -> None:
    if not (
        isinstance(cls, type) and all(callable(getattr(cls, h, None)) for h in _SCENARIO_HOOKS)
    ):
        raise ConfigError(
            f"register_scenario: {getattr(cls, '__name__', cls)!r} is not a Scenario; "
            "subclass socialsim.Scenario"
        )


def register_measure(
    name: str, *, params: type[BaseModel] | None = None
) -> Callable[[Callable], Callable]:
    """Function decorator: ``fn(run, params)`` returns a JSON-ready value for ``measures.<name>``.

    `run` is a :class:`~socialsim.core.rundata.RunData`; return None (or an empty dict) when
    the measure does not apply to the run.
    """

    def deco(fn: Callable) -> Callable:
        MEASURES.add(name, fn, params or NoParams)
        return fn

    return deco


class PluginsNotTrusted(ConfigError):
    """A config names plugins, and the caller did not ask to import (trust) them."""

    def __init__(self, source: str, plugins: list[str], command: str = "the command") -> None:
        self.plugins = list(plugins)
        super().__init__(
            f"{source} names plugins {', '.join(map(str, plugins))}; a plugin is Python code "
            f"that runs when imported, so they are imported only on request: if you trust "
            f"them, pass --plugins to {command}"
        )


def plugins_named(run_dir: Path) -> list[str]:
    """The ``plugins:`` of a run directory's config.yaml, read as data within the YAML limits
    (nothing imported); none when there is no such file or it cannot be read (the command
    that reads the config then says why)."""
    from socialsim.core.yaml_safe import load_yaml_file

    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        return []
    try:
        data = load_yaml_file(path, "config file")
    except SocialsimError:
        return []
    plugins = data.get("plugins") if isinstance(data, dict) else None
    return [str(p) for p in plugins] if isinstance(plugins, list) else []


#: what socialsim writes into a run, arms or sweep directory (finished, stopped or killed)
_WRITTEN_FILES = (
    "events.jsonl", "events.parquet", "summary.json", "sweep.json", "checkpoint.npz",
    "checkpoint.snapshots", "agents.parquet", "agents.csv", "steps.csv", "results.csv",
)  # fmt: skip
_WRITTEN_DIRS = ("treatment", "control", "instrument", "cells")


def written_by_socialsim(folder: Path) -> bool:
    """True for a folder socialsim wrote a run, arms or sweep into (or one of an arms or
    sweep directory's runs): its config.yaml may come from someone else, so its plugins are
    imported only on request (``--plugins``)."""
    folder = Path(folder)
    if any((folder / name).exists() for name in _WRITTEN_FILES):
        return True
    if any((folder / name).is_dir() for name in _WRITTEN_DIRS):  # an arms or sweep directory
        return True
    return folder.parent != folder and folder.parent.name in _WRITTEN_DIRS


def trust_plugins(run_dir: Path, trusted: bool, needed: bool, command: str) -> list[str]:
    """The plugins of a run directory's config, imported when `trusted`.

    Untrusted, a `needed` import raises :class:`PluginsNotTrusted` (one line naming them
    and ``--plugins``); otherwise a one-line warning says they were not imported and the
    caller goes on without them.
    """
    import warnings

    names = plugins_named(run_dir)
    if not names:
        return []
    if trusted:
        return load_plugins(names, Path(run_dir))
    source = str(Path(run_dir) / "config.yaml")
    if needed:
        raise PluginsNotTrusted(source, names, command)
    warnings.warn(
        f"{source} names plugins {', '.join(names)}; they were not imported (nothing here "
        f"needs them); pass --plugins to {command} to trust them",
        Notice,
        stacklevel=2,
    )
    return []


_plugins_loaded: set[str] = set()
_entry_points_loaded = False


def load_plugins(
    names: list[str], base_dir: Path | None = None, trusted: bool = True, source: str = "config"
) -> list[str]:
    """Import plugin modules (``pkg.module``) or files (``my_policies.py``, relative to `base_dir`).

    Returns the names with files as absolute paths (so a copied config finds them again).
    Each is imported once per process. With `trusted` False nothing is imported: any name
    raises :class:`PluginsNotTrusted` (the config of `source` came from someone else).
    """
    if names and not trusted:
        raise PluginsNotTrusted(source, names)
    resolved: list[str] = []
    for name in names:
        if name.endswith(".py") or "/" in name or "\\" in name:
            path = Path(name)
            if not path.is_absolute() and base_dir is not None and not path.exists():
                path = base_dir / path
            path = path.resolve()
            key = str(path)
            resolved.append(key)
            if key in _plugins_loaded:
                continue
            require_file(path, "plugins:", ConfigError, given=name)
            module_name = f"socialsim_plugin_{path.stem}_{abs(hash(key)) % 10**8}"
            spec = importlib.util.spec_from_file_location(module_name, path)
            if path.suffix != ".py" or spec is None or spec.loader is None:
                raise ConfigError(
                    f"plugins: {shown(name)} is not a .py file; give a Python file or a module name"
                )
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            _plugins_loaded.add(key)
            try:
                spec.loader.exec_module(module)
            except BaseException as exc:
                _plugins_loaded.discard(key)
                del sys.modules[module_name]
                if isinstance(exc, KeyboardInterrupt | SocialsimError):
                    raise
                raise ConfigError(_import_failure(name, exc)) from None
        else:
            resolved.append(name)
            if name in _plugins_loaded:
                continue
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name and name.startswith(exc.name):
                    raise ConfigError(
                        f"plugins: module {name!r} is not importable; install it or give a .py path"
                    ) from None
                raise ConfigError(_import_failure(name, exc)) from None
            except (KeyboardInterrupt, SocialsimError):
                raise
            except BaseException as exc:
                raise ConfigError(_import_failure(name, exc)) from None
            _plugins_loaded.add(name)
    return resolved


def _import_failure(name: str, exc: BaseException) -> str:
    """One line for a plugin whose import raised `exc` (a syntax error, an exit, any error)."""
    if isinstance(exc, SyntaxError):
        where = f"{Path(exc.filename or name).name} line {exc.lineno}"
        return f"plugins: {shown(name)} has a syntax error ({where}: {exc.msg}); fix the file"
    if isinstance(exc, SystemExit):
        return (
            f"plugins: {shown(name)} called exit({shown(exc.code)}) while being imported; a "
            "plugin only defines and registers things"
        )
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    where = f" ({Path(last.filename).name} line {last.lineno})" if last else ""
    return (
        f"plugins: importing {shown(name)} raised {type(exc).__name__}: {clip(str(exc), 120)}"
        f"{where}; fix the plugin"
    )


def load_entry_points() -> None:
    """Import every installed ``socialsim.plugins`` entry point (once)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="socialsim.plugins"):
        ep.load()


def listing() -> dict[str, list[dict[str, Any]]]:
    """Every registry's entries with their one-line description and parameters."""
    out: dict[str, list[dict[str, Any]]] = {}
    for title, registry in (
        ("policies", POLICIES),
        ("networks", NETWORKS),
        ("scenarios", SCENARIOS),
        ("measures", MEASURES),
    ):
        out[title] = [
            {
                "name": e.name,
                "sort": e.sort,
                "summary": e.summary,
                "params": {
                    k: {"default": _default(f), "description": f.description or ""}
                    for k, f in e.params.model_fields.items()
                },
                "module": e.module,
            }
            for e in registry.entries()
        ]
    return out


def _default(field: Any) -> Any:
    if field.default_factory is not None:
        try:
            return field.default_factory()
        except TypeError:
            return None
    return None if field.is_required() else field.default
