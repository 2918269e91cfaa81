"""Pydantic models built from values socialsim made or checked already, without validating again.

The step loop makes a few models per LLM call (an observation, a message, a decision, a
persona read from its compact columns) from values that are of the right types by
construction. Validating them again costs more than the rest of their making;
:func:`trusted` builds the same object (the same ``__dict__`` in field order, the same
fields set, defaults filled as validation fills them) without it. Never use it for what a
model answered or a user gave: validate those.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

M = TypeVar("M", bound=BaseModel)

_setattr = object.__setattr__
_Plan = tuple[
    dict[str, Any] | None, tuple[tuple[str, Callable[[], Any]], ...], dict[str, Any] | None
]
_PLANS: dict[tuple[Any, ...], _Plan] = {}


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """``cls(**values)`` for values already of the field types, without validating them.

    Only for models whose validators check and never transform, and for values socialsim
    made itself or validated before (a nested model given as an instance of its class).
    `values` becomes the model's own (not to be changed after).
    """
    key = (cls, *values)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _plan(cls, key[1:])
    template, fresh, private = plan
    given = set(values)
    if template is not None:  # some fields not given: every field, in declaration order
        values = {**template, **values}
        for name, make in fresh:
            values[name] = make()
    obj = cls.__new__(cls)
    _setattr(obj, "__dict__", values)
    _setattr(obj, "__pydantic_fields_set__", given)
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None if private is None else private.copy())
    return obj


def _plan(cls: type[BaseModel], given: tuple[str, ...]) -> _Plan:
    """How to build `cls` from these keys: every field with its default, in order (None when
    the keys are every field in order), the defaults to make anew, the private defaults."""
    own_post_init = cls.__pydantic_post_init__ is not None and not _init_private_only(cls)
    if cls.model_config.get("extra") == "allow" or own_post_init or cls.__pydantic_root_model__:
        raise TypeError(f"trusted: {cls.__name__} has extra fields or its own post-init")
    unknown = set(given) - set(cls.model_fields)
    if unknown:
        raise TypeError(f"trusted: {cls.__name__} has no field {sorted(unknown)[0]!r}")
    template: dict[str, Any] = {}
    fresh: list[tuple[str, Callable[[], Any]]] = []
    for name, info in cls.model_fields.items():
        template[name] = None if info.default is PydanticUndefined else info.default
        if name in given:
            continue
        if info.default_factory is not None:
            fresh.append((name, info.default_factory))  # type: ignore[arg-type]
        elif info.default is PydanticUndefined:
            raise TypeError(f"trusted: {cls.__name__}: field {name!r} is required")
        elif type(info.default) not in _IMMUTABLE:
            fresh.append((name, functools.partial(copy.deepcopy, info.default)))
    private = cls.__private_attributes__
    defaults = {name: attr.get_default() for name, attr in private.items()} if private else None
    if defaults and any(type(v) not in _IMMUTABLE for v in defaults.values()):
        raise TypeError(f"trusted: {cls.__name__} has a private attribute with a mutable default")
    whole = given == tuple(template)
    plan = _PLANS[(cls, *given)] = (None if whole else template, tuple(fresh), defaults)
    return plan


def _init_private_only(cls: type[BaseModel]) -> bool:
    """True when the model's post-init is pydantic's own setting of private attributes."""
    return getattr(cls.model_post_init, "__name__", "") == "init_private_attributes"


_IMMUTABLE = (type(None), bool, int, float, str, tuple, frozenset)
