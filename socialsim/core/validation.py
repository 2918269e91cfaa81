"""One line for a pydantic validation error: where, the bad value, what is allowed.

Every user-facing validation message in socialsim (configs, parameters, personas, data
files) is made here, so they all read alike::

    agents.params.epsilon: -0.2 must be >= 0
    network.params.k: unknown parameter; allowed: k, p
    scenario.kind: 'foo' is not one of misinformation, norms, ...
"""

from __future__ import annotations

import difflib
import math
import re
import types
import typing
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator

from socialsim.core.errors import DataFileError

Entry = TypeVar("Entry", bound=BaseModel)

_SHAPES = {
    "string_type": "a string (quote it)",
    "list_type": "a list, e.g. [a, b]",
    "tuple_type": "a list, e.g. [a, b]",
    "dict_type": "a mapping, e.g. {key: value}",
    "model_type": "a mapping, e.g. {key: value}",
    "model_attributes_type": "a mapping, e.g. {key: value}",
}
# the parts of an error's location that name a validator or a member of a union, not a field
_UNION_TAG = re.compile(r"^(function-|model-|str$|int$|float$|bool$|none$|[a-z]+\[)")

_BOUNDS = {
    "greater_than": "> {gt}",
    "greater_than_equal": ">= {ge}",
    "less_than": "< {lt}",
    "less_than_equal": "<= {le}",
}


def describe_error(
    exc: ValidationError, where: str = "", model: type[BaseModel] | None = None, owner: str = ""
) -> str:
    """The first error of `exc` as one line, its location prefixed by `where`.

    With `model`, an unknown key lists the keys that model allows; `owner` names what the
    keys belong to (``"policy deffuant"``).
    """
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not _UNION_TAG.match(str(p)))
    path = ".".join(p for p in (where, loc) if p)
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    msg = str(err["msg"]).removeprefix("Value error, ")
    head = f"{path}: " if path else ""
    if kind == "literal_error":
        allowed = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"{head}{shown(value)} is not one of {choices(allowed.split(', '), value)}"
    if kind == "extra_forbidden":
        fields = _allowed(model, err["loc"][:-1])
        allowed = f"; allowed: {choices(fields, err['loc'][-1])}" if fields is not None else ""
        if owner:
            return f"{head}unknown parameter of {owner}{allowed}"
        return f"{head}unknown key; remove it or check its spelling{allowed}"
    if kind == "missing":
        return f"{head}required field is missing"
    if kind in _BOUNDS:
        return f"{head}{shown(value)} must be {_BOUNDS[kind].format(**ctx)}"
    if kind == "string_pattern_mismatch":
        return f"{head}{shown(value)} {_pattern_rule(str(ctx.get('pattern', '')))}"
    if kind in ("finite_number",):
        return f"{head}{shown(value)} must be a finite number"
    if kind == "value_error" or kind == "assertion_error":
        return f"{head}{msg}"
    if kind.startswith(("float", "int")):
        whole = "whole " if kind.startswith("int") else ""
        return f"{head}{shown(value)} must be a {whole}number"
    if kind.startswith("bool"):
        return f"{head}{shown(value)} must be true or false"
    if kind in _SHAPES:
        return f"{head}{shown(value)} must be {_SHAPES[kind]}"
    echoed = "" if isinstance(value, dict | list) or value is None else f"{shown(value)} "
    return f"{head}{echoed}{msg[:1].lower()}{clip(msg[1:], 200)}"


def parse_entries(entries: Any, source: str, model: type[Entry], what: str) -> list[Entry]:
    """A data file's list of `what` (``"claims"``) validated against `model`, in order.

    :class:`DataFileError` names the source, the entry (with its id) and the field at fault;
    two entries with the same ``id`` are refused, since one would silently replace the other.
    """
    if not isinstance(entries, list):
        raise DataFileError(f"{source}: expected a list of {what}, got {type(entries).__name__}")
    out: list[Entry] = []
    first: dict[str, int] = {}
    for i, entry in enumerate(entries):
        try:
            item = model.model_validate(entry)
        except ValidationError as exc:
            name = entry.get("id") if isinstance(entry, dict) else None
            label = f"entry {i}" + (f" ({clip(str(name), 80)})" if name else "")
            raise DataFileError(f"{source}: {label}: {describe_error(exc)}") from None
        key = item.id  # type: ignore[attr-defined]
        if key in first:
            raise DataFileError(
                f"{source}: entry {i}: id {key!r} is already used by entry {first[key]}; "
                f"give each of the {what} its own id"
            )
        first[key] = i
        out.append(item)
    return out


def shown(value: Any, limit: int = 80) -> str:
    """A value as a message echoes it: its repr cut at `limit` characters (a cut text keeps
    its closing quote, so it still reads as one value), NaN as NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    text = repr(value)
    if isinstance(value, str) and len(text) > limit:
        return clip(text[:-1], limit - 1) + text[-1]
    return clip(text, limit)


def choices(names: list[str] | tuple[str, ...], given: Any = None, limit: int = 100) -> str:
    """The allowed `names` as an error lists them, cut at whole names near `limit` characters
    with a count of those left out, and the one closest to `given` (``did you mean ...``)
    when one is close. ``none`` when there are none."""
    names = [str(n) for n in names]
    if not names:
        return "none"
    if len(", ".join(names)) <= limit + 40:  # a few more names are shorter than a count
        limit += 40
    listed: list[str] = []
    width = 0
    for name in names:
        if listed and width + len(name) + 2 > limit:
            break
        listed.append(name)
        width += len(name) + 2
    text = ", ".join(listed)
    if len(listed) < len(names):
        text += f", ... ({len(names) - len(listed)} more)"
    close = difflib.get_close_matches(given, names, n=1) if isinstance(given, str) else []
    return f"{text} (did you mean {close[0]!r}?)" if close else text


def clip(text: str, limit: int = 80) -> str:
    """`text` cut at `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class BoolsAreNotNumbers(BaseModel):
    """A model whose number fields refuse true/false and whose true/false fields refuse numbers.

    Pydantic reads ``true`` as 1 for an int field and ``1`` as true for a bool field; a
    config that says either means something else, so it is refused, naming the field.
    """

    @field_validator("*", mode="before")
    @classmethod
    def _bools_are_not_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None:
            return value
        sort = _scalar_sort(field.annotation)
        if sort == "number" and isinstance(value, bool):
            raise ValueError(f"{str(value).lower()} is not a number; give a number")
        if sort == "bool" and value is not None and not _is_bool(value):
            raise ValueError(f"{shown(value)} must be true or false")
        return value


def plain(value: Any) -> Any:
    """`value` with NumPy scalars and arrays (``np.int64(3)``, ``np.arange(2)``) made Python
    numbers and lists, in nested dicts, lists and tuples too: a config given from Python
    (``mesa.batch_run``, a sweep grid from ``np.arange``) validates and dumps as written."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(plain(v) for v in value)
    if type(value).__module__ == "numpy":
        tolist = getattr(value, "tolist", None)
        return tolist() if tolist is not None else value
    return value


def _is_bool(value: Any) -> bool:
    """True for Python's and NumPy's booleans."""
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


@cache
def _scalar_sort(annotation: Any) -> str:
    """ "number" for an int/float field (optional or not), "bool" for a bool one, else ""."""
    kinds = set(_leaf_types(annotation))
    if bool in kinds and not kinds & {int, float, str}:
        return "bool"
    if kinds & {int, float} and bool not in kinds:
        return "number"
    return ""


def _leaf_types(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _leaf_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _leaf_types(arg)]
    if origin is Literal:
        return [type(a) for a in typing.get_args(annotation)]
    return [annotation]


def _allowed(model: type[BaseModel] | None, loc: tuple) -> list[str] | None:
    """The keys the (nested) model at `loc` accepts, when it can be found."""
    node: Any = model
    for part in loc:
        if not (isinstance(node, type) and issubclass(node, BaseModel)):
            return None
        field = node.model_fields.get(str(part))
        if field is None:
            return None
        node = field.annotation
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return None


def _pattern_rule(pattern: str) -> str:
    """What a name pattern of the project asks, in words (``^[A-Za-z0-9][A-Za-z0-9_.\\-]{0,99}$``:
    an ASCII letter or digit first, then up to 99 of those or '_', '-', '.')."""
    if pattern.startswith("^[A-Za-z0-9][A-Za-z0-9_.\\-]{0,"):
        most = int(pattern.split("{0,")[1].split("}")[0]) + 1
        return (
            f"must start with a letter or digit and hold at most {most} characters, each an "
            "ASCII letter, a digit, '_', '-' or '.' (no path), e.g. 'run_1'"
        )
    return f"must match the pattern {pattern} (ASCII letters, digits and the marks it names)"
