"""A run's state as data: a JSON tree plus numpy arrays, and back, never running code.

:func:`encode` turns the objects a model holds (built-in containers, numpy arrays and
scalars, random generators, pydantic models and the plain classes of socialsim's agents,
scenarios and simulation parts) into a tree of JSON values; every numpy array goes to a
list of arrays (saved as ``.npz`` and read with ``allow_pickle=False``). Each node that is
not a JSON value is a small object tagged ``"$"``. Objects referenced twice are written once
and referred to after (in walk order, as a pickle memo would be), so shared and cyclic
references come back as they were; the objects the set-up makes again are written as tokens.

:func:`decode` reads such a tree back. It imports nothing and calls no constructor: a class
named in the tree must be one that is already loaded and belongs to the state of a run
(:data:`STATE_PACKAGES`, or a module that registered a trusted plugin); the object is
created empty and its attributes set. Anything else (an unknown tag, class or dtype) raises
:class:`StateError`.
"""

from __future__ import annotations

import base64
import math
import random
import sys
import time
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

import numpy as np
from pydantic import BaseModel

from socialsim.core.moved import current_class

#: packages whose classes a run's state may hold
STATE_PACKAGES = (
    "socialsim.agents.",
    "socialsim.scenarios.",
    "socialsim.analysis.",
    "socialsim.simulation.actions",
    "socialsim.core.messages",
    "socialsim.core.claims",
    "socialsim.core.decisions",
    "socialsim.core.network",
    "socialsim.core.persona",
    "socialsim.simulation.placement",
    "socialsim.simulation.policies",
    "socialsim.simulation.queries",
    "socialsim.simulation.recorder",
    "socialsim.simulation.rule_driver",
    "socialsim.llm.types",
)
#: classes outside those packages that a run's state may hold
STATE_CLASSES = {"socialsim.core.registry:NoParams"}
#: numpy dtype kinds an array or scalar may have (no objects, no void records)
_KINDS = set("biufcUSMm")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
# attributes saved as None: caches rebuilt on use, and mesa's wiring of agents to cells
_SKIPPED = {"_mesa_cell", "_graph"}
# the default factories a defaultdict may have
_FACTORIES: dict[str, Any] = {"list": list, "dict": dict, "set": set, "int": int, "float": float}
_MAPPINGS: dict[str, type] = {"od": OrderedDict, "ct": Counter}


class StateError(Exception):
    """A state that cannot be written as data, or a tree that is not one this code wrote."""


class OverBudget(Exception):  # noqa: N818 (not an error: the caller gave a deadline)
    """Encoding a state took longer than the deadline the encoder was given."""


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _plugin_modules() -> set[str]:
    """Modules that registered a scenario, policy, network kind or measure (loaded ones)."""
    from socialsim.core.registry import MEASURES, NETWORKS, POLICIES, SCENARIOS

    found = set()
    for registry in (POLICIES, NETWORKS, SCENARIOS, MEASURES):
        for entry in registry.entries():
            found.add(getattr(entry.obj, "__module__", None) or entry.module)
    return found


def _allowed(module: str, qualname: str, plugins: set[str]) -> bool:
    if f"{module}:{qualname}" in STATE_CLASSES:
        return True
    # a class at module level, or nested in one (a policy's ``Params``); never a class made
    # inside a function (``<locals>``), which no name reaches
    return (module.startswith(STATE_PACKAGES) or module in plugins) and "<" not in qualname


class Encoder:
    """Walks a state once; `arrays` collects the numpy arrays it refers to by index.

    With a `deadline` (a ``time.perf_counter()`` time) the walk raises :class:`OverBudget`
    once it runs past it (the clock is read every 1,024 containers and objects).
    """

    def __init__(self, shared: dict[int, str], deadline: float | None = None) -> None:
        self.shared = shared
        self.arrays: list[np.ndarray] = []
        self._memo: dict[int, int] = {}
        self._alive: list[Any] = []  # keeps ids unique while walking
        self._plugins: set[str] | None = None
        self._deadline = deadline

    def _remember(self, obj: Any) -> None:
        count = len(self._memo)
        self._memo[id(obj)] = count
        self._alive.append(obj)
        if not count & 1023 and self._deadline is not None and time.perf_counter() > self._deadline:
            raise OverBudget(f"past the deadline after {count:,} objects")

    def encode(self, obj: Any) -> Any:
        """The JSON tree of `obj`."""
        kind = type(obj)
        if obj is None or kind is bool or kind is int or kind is str:
            return obj
        if kind is float:
            return obj if math.isfinite(obj) else {"$": "f", "v": repr(obj)}
        key = id(obj)
        if key in self.shared:
            return {"$": "x", "n": self.shared[key]}
        if key in self._memo:
            return {"$": "ref", "i": self._memo[key]}
        if kind is list:
            self._remember(obj)
            return [self.encode(v) for v in obj]
        if kind is dict:
            self._remember(obj)
            if all(type(k) is str for k in obj) and "$" not in obj:
                return {k: self.encode(v) for k, v in obj.items()}
            return {"$": "d", "i": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if kind is tuple:
            return {"$": "t", "i": [self.encode(v) for v in obj]}
        if kind is defaultdict or kind is OrderedDict or kind is Counter:
            factory = getattr(obj, "default_factory", None)
            name = next((n for n, f in _FACTORIES.items() if f is factory), None)
            if kind is defaultdict and name is None:
                raise StateError(f"a defaultdict of {factory!r} cannot be saved")
            self._remember(obj)
            items = [[self.encode(k), self.encode(v)] for k, v in obj.items()]
            if kind is defaultdict:
                return {"$": "dd", "f": name, "i": items}
            return {"$": "od" if kind is OrderedDict else "ct", "i": items}
        if kind is deque:
            self._remember(obj)
            return {"$": "dq", "m": obj.maxlen, "i": [self.encode(v) for v in obj]}
        if kind is set or kind is frozenset:
            if kind is set:
                self._remember(obj)
            return {"$": "s" if kind is set else "fs", "i": [self.encode(v) for v in obj]}
        if kind is bytes:
            return {"$": "b", "v": base64.b64encode(obj).decode("ascii")}
        if kind is np.ndarray:
            if obj.dtype.kind not in _KINDS:
                raise StateError(f"an array of {obj.dtype} cannot be saved")
            self._remember(obj)
            self.arrays.append(obj)
            return {"$": "a", "k": len(self.arrays) - 1}
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in _KINDS:
                raise StateError(f"a numpy {obj.dtype} cannot be saved")
            return {"$": "n", "t": obj.dtype.str, "v": self.encode(obj.item())}
        if kind is np.random.Generator:
            self._remember(obj)
            bits = obj.bit_generator
            return {"$": "g", "bg": type(bits).__name__, "s": self.encode(bits.state)}
        if kind is random.Random:
            self._remember(obj)
            return {"$": "r", "s": self.encode(obj.getstate())}
        if isinstance(obj, PurePath):
            return {"$": "p", "v": str(obj)}
        return self._object(obj)

    def _object(self, obj: Any) -> Any:
        cls = type(obj)
        if self._plugins is None:
            self._plugins = _plugin_modules()
        if not _allowed(cls.__module__, cls.__qualname__, self._plugins):
            raise StateError(f"{_class_name(cls)} is not part of a run's state")
        self._remember(obj)
        if isinstance(obj, BaseModel):
            state: Any = obj.__getstate__()
        elif "__getstate__" in _own(cls):
            state = obj.__getstate__()
            if type(state) is not dict:
                raise StateError(f"{_class_name(cls)} gives a state that is not a dict")
        else:
            state = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
            for name in _slots(cls):
                if hasattr(obj, name):
                    state[name] = getattr(obj, name)
        if not isinstance(obj, BaseModel):
            state = {k: None if k in _SKIPPED else v for k, v in state.items()}
        return {"$": "o", "c": _class_name(cls), "s": self.encode(state)}


def _slots(cls: type) -> list[str]:
    """Slot names declared along `cls`'s bases (besides ``__dict__`` and ``__weakref__``)."""
    names: list[str] = []
    for klass in cls.__mro__:
        declared = vars(klass).get("__slots__", ())
        names += [declared] if isinstance(declared, str) else list(declared)
    return [n for n in names if n not in ("__dict__", "__weakref__")]


def _own(cls: type) -> set[str]:
    """Names defined by `cls` and its bases other than ``object``."""
    return {name for klass in cls.__mro__[:-1] for name in vars(klass)}


class Decoder:
    """Reads a tree written by :class:`Encoder` back, with its arrays and set-up objects."""

    def __init__(self, arrays: Callable[[int], np.ndarray], shared: Callable[[str], Any]) -> None:
        self.arrays = arrays
        self.shared = shared
        self._memo: list[Any] = []
        self._plugins: set[str] | None = None

    def decode(self, node: Any) -> Any:
        """The object the tree `node` stands for."""
        kind = type(node)
        if node is None or kind is bool or kind is int or kind is str:
            return node
        if kind is float:
            return node
        if kind is list:
            out: list = []
            self._memo.append(out)
            out.extend(self.decode(v) for v in node)
            return out
        if kind is not dict:
            raise StateError(f"unknown value of type {kind.__name__}")
        tag = node.get("$")
        if tag is None:
            plain: dict = {}
            self._memo.append(plain)
            for k, v in node.items():
                plain[k] = self.decode(v)
            return plain
        method = _TAGS.get(tag) if isinstance(tag, str) else None
        if method is None:
            raise StateError(f"unknown entry {str(tag)[:40]!r}")
        return method(self, node)

    def _field(self, node: dict, key: str, kind: type) -> Any:
        value = node.get(key)
        if type(value) is not kind:
            raise StateError(f"entry {node.get('$')!r} lacks {key!r}")
        return value

    def _dict(self, node: dict) -> dict:
        out: dict = {}
        self._memo.append(out)
        return self._fill(out, node)

    def _fill(self, out: dict, node: dict) -> dict:
        """`out` with the node's key-value pairs decoded into it."""
        for pair in self._field(node, "i", list):
            if type(pair) is not list or len(pair) != 2:
                raise StateError("a dict entry is not a key and a value")
            out[self.decode(pair[0])] = self.decode(pair[1])
        return out

    def _mapping(self, node: dict) -> dict:
        tag = node["$"]
        if tag == "dd":
            factory = _FACTORIES.get(node.get("f"))  # type: ignore[arg-type]
            if factory is None:
                raise StateError("a defaultdict's factory is not a built-in container")
            out: dict = defaultdict(factory)
        else:
            out = _MAPPINGS[tag]()
        self._memo.append(out)
        return self._fill(out, node)

    def _deque(self, node: dict) -> deque:
        maxlen = node.get("m")
        if maxlen is not None and (type(maxlen) is not int or maxlen < 0):
            raise StateError("a deque's length is not a count")
        out: deque = deque(maxlen=maxlen)
        self._memo.append(out)
        out.extend(self.decode(v) for v in self._field(node, "i", list))
        return out

    def _tuple(self, node: dict) -> tuple:
        return tuple(self.decode(v) for v in self._field(node, "i", list))

    def _set(self, node: dict) -> set:
        out: set = set()
        self._memo.append(out)
        out.update(self.decode(v) for v in self._field(node, "i", list))
        return out

    def _frozenset(self, node: dict) -> frozenset:
        return frozenset(self.decode(v) for v in self._field(node, "i", list))

    def _bytes(self, node: dict) -> bytes:
        return base64.b64decode(self._field(node, "v", str), validate=True)

    def _float(self, node: dict) -> float:
        text = self._field(node, "v", str)
        if text not in ("nan", "inf", "-inf"):
            raise StateError(f"{text[:20]!r} is not a float")
        return float(text)

    def _array(self, node: dict) -> np.ndarray:
        array = self.arrays(self._field(node, "k", int))
        if array.dtype.kind not in _KINDS:
            raise StateError(f"an array of {array.dtype} is not state")
        self._memo.append(array)
        return array

    def _scalar(self, node: dict) -> Any:
        dtype = np.dtype(_dtype(self._field(node, "t", str)))
        return dtype.type(self.decode(node.get("v")))

    def _generator(self, node: dict) -> np.random.Generator:
        name = self._field(node, "bg", str)
        if name not in _BIT_GENERATORS:
            raise StateError(f"{name[:40]!r} is not a numpy bit generator")
        generator = np.random.Generator(getattr(np.random, name)())
        self._memo.append(generator)
        try:
            generator.bit_generator.state = self.decode(node.get("s"))
        except (TypeError, ValueError, KeyError) as exc:
            raise StateError(f"a {name} state does not read ({exc})") from None
        return generator

    def _random(self, node: dict) -> random.Random:
        generator = random.Random()
        self._memo.append(generator)
        try:
            generator.setstate(self.decode(node.get("s")))
        except (TypeError, ValueError) as exc:
            raise StateError(f"a random.Random state does not read ({exc})") from None
        return generator

    def _path(self, node: dict) -> Path:
        return Path(self._field(node, "v", str))

    def _shared(self, node: dict) -> Any:
        return self.shared(self._field(node, "n", str))

    def _ref(self, node: dict) -> Any:
        index = self._field(node, "i", int)
        if not 0 <= index < len(self._memo):
            raise StateError(f"reference {index} points at nothing")
        return self._memo[index]

    def _object(self, node: dict) -> Any:
        cls = self._class(self._field(node, "c", str))
        obj = object.__new__(cls)
        self._memo.append(obj)
        state = self.decode(node.get("s"))
        if issubclass(cls, BaseModel):
            if type(state) is not dict or set(state) - _PYDANTIC_STATE:
                raise StateError(f"the state of {_class_name(cls)} is not a pydantic model's")
            BaseModel.__setstate__(obj, state)
        elif "__setstate__" in _own(cls) and type(state) is dict:
            try:
                obj.__setstate__(state)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise StateError(f"the state of {_class_name(cls)} does not read") from exc
        elif type(state) is dict and all(type(k) is str for k in state):
            for name, value in state.items():
                object.__setattr__(obj, name, value)
        else:
            raise StateError(f"the state of {_class_name(cls)} is not a dict of attributes")
        return obj

    def _class(self, name: str) -> type:
        name = current_class(name)  # a checkpoint written before its module or class moved
        module, _, qualname = name.partition(":")
        if self._plugins is None:
            self._plugins = _plugin_modules()
        loaded = sys.modules.get(module)
        if loaded is None or not _allowed(module, qualname, self._plugins):
            raise StateError(f"{name[:80]!r} is not part of a run's state")
        cls = _nested(loaded, qualname)
        if (
            not isinstance(cls, type)
            or cls.__new__ is not object.__new__
            and not (issubclass(cls, BaseModel))
        ):
            raise StateError(f"{name[:80]!r} is not a class of a run's state")
        if cls.__module__ != module:
            raise StateError(f"{name[:80]!r} is not defined where it is named")
        return cls


def _nested(module: Any, qualname: str) -> Any:
    """The class a qualified name (``Outer.Inner``) names in `module`, one class at a time
    (None unless every step is a class of that module, named as it calls itself)."""
    found: Any = module
    for part in qualname.split("."):
        found = vars(found).get(part)
        if not isinstance(found, type) or found.__module__ != module.__name__:
            return None
    return found if found.__qualname__ == qualname else None


_PYDANTIC_STATE = {
    "__dict__",
    "__pydantic_extra__",
    "__pydantic_fields_set__",
    "__pydantic_private__",
}


def _dtype(text: str) -> str:
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise StateError(f"{text[:20]!r} is not a dtype") from None
    if dtype.kind not in _KINDS or dtype.hasobject:
        raise StateError(f"{text[:20]!r} is not a dtype of state")
    return text


_TAGS: dict[str, Callable[[Decoder, dict], Any]] = {
    "d": Decoder._dict,
    "t": Decoder._tuple,
    "dd": Decoder._mapping,
    "od": Decoder._mapping,
    "ct": Decoder._mapping,
    "dq": Decoder._deque,
    "s": Decoder._set,
    "fs": Decoder._frozenset,
    "b": Decoder._bytes,
    "f": Decoder._float,
    "a": Decoder._array,
    "n": Decoder._scalar,
    "g": Decoder._generator,
    "r": Decoder._random,
    "p": Decoder._path,
    "x": Decoder._shared,
    "ref": Decoder._ref,
    "o": Decoder._object,
}

__all__ = ["STATE_CLASSES", "STATE_PACKAGES", "Decoder", "Encoder", "StateError"]
