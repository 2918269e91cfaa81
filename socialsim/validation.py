"""One line for a pydantic validation error: where, the bad value, what is allowed.

Every user-facing validation message in socialsim (configs, parameters, personas, data
files) is made here, so they all read alike::

    agents.params.epsilon: -0.2 must be >= 0
    network.params.k: unknown parameter; allowed: k, p
    scenario.kind: 'foo' is not one of misinformation, norms, ...
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

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
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("function-", "model-")))
    path = ".".join(p for p in (where, loc) if p)
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    msg = str(err["msg"]).removeprefix("Value error, ")
    head = f"{path}: " if path else ""
    if kind == "literal_error":
        allowed = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"{head}{value!r} is not one of {allowed}"
    if kind == "extra_forbidden":
        fields = _allowed(model, err["loc"][:-1])
        allowed = f"; allowed: {', '.join(fields) or 'none'}" if fields is not None else ""
        if owner:
            return f"{head}unknown parameter of {owner}{allowed}"
        return f"{head}unknown key; remove it or check its spelling{allowed}"
    if kind == "missing":
        return f"{head}required field is missing"
    if kind in _BOUNDS:
        return f"{head}{value!r} must be {_BOUNDS[kind].format(**ctx)}"
    if kind == "string_pattern_mismatch":
        return f"{head}{value!r} may hold only letters, digits, '_', '-' and '.' (no path)"
    if kind in ("finite_number",):
        return f"{head}{value!r} must be a finite number"
    if kind == "value_error" or kind == "assertion_error":
        return f"{head}{msg}"
    if kind.startswith(("float", "int")) and not isinstance(value, dict | list):
        return f"{head}{value!r} must be a {'whole ' if kind.startswith('int') else ''}number"
    if kind.startswith("bool"):
        return f"{head}{value!r} must be true or false"
    shown = "" if isinstance(value, dict | list) or value is None else f"{value!r} "
    return f"{head}{shown}{msg[:1].lower()}{msg[1:]}"


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
