"""Sampled populations: seeded personas from the built-in distributions, kept as columns.

``sample_personas(n, rng, spec)`` draws every field from ``rng`` alone, so a seed reproduces
the population; ``sample_population`` returns the same draws as a :class:`SampledPersonas`,
which builds each persona on access. The built-in tables and the ``spec`` that overrides them
(the ``population.personas`` mapping of a config) are described in
:mod:`socialsim.agents.sampling_spec`; the draws of single fields are in
:mod:`socialsim.agents.sampling_draws`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from copy import copy
from typing import Any, overload

import numpy as np
from pydantic import ValidationError

from socialsim.agents.sampling_backstory import TEMPLATES, backstory
from socialsim.agents.sampling_columns import CodedColumn, TupleColumn
from socialsim.agents.sampling_draws import (
    cap_education,
    choose,
    choose_k,
    default_occupations,
    sample_names,
)
from socialsim.agents.sampling_spec import (
    LEANINGS,
    SPEC_KEYS,
    TRAITS,
    WHERE,
    builtin_tables,
    check_spec,
    list_spec,
    numeric,
    weights,
)
from socialsim.core.errors import ConfigError
from socialsim.core.persona import BigFive, Persona
from socialsim.core.trusted import trusted
from socialsim.core.validation import describe_error

__all__ = [
    "LEANINGS",
    "SPEC_KEYS",
    "TRAITS",
    "SampledPersonas",
    "sample_personas",
    "sample_population",
]

_DRAWN = (
    "age", "gender", "country", "education", "occupation", "political_leaning",
    "communication_style", "credulity", "stubbornness", "activity_rate",
)  # fmt: skip


def sample_personas(n: int, rng: np.random.Generator, spec: dict | None = None) -> list[Persona]:
    """Draw n personas (ids 0..n-1) from the built-in distributions, overridden by `spec`."""
    return list(sample_population(n, rng, spec))


def sample_population(
    n: int, rng: np.random.Generator, spec: dict | None = None
) -> SampledPersonas:
    """The same draws as :func:`sample_personas`, kept as columns; personas built on access."""
    if n < 0:
        raise ConfigError(f"population.size: must be >= 0, got {n}")
    spec = check_spec(spec or {})
    dist = builtin_tables()[0]
    fixed = spec.get("fixed", {})
    if "country" in fixed:
        spec = {k: v for k, v in spec.items() if k != "countries"}
    spec = {**spec, **{k: v for k, v in fixed.items() if k in _DRAWN}}  # fixed values drive draws

    def category(key: str, default: Any) -> CodedColumn:
        return choose(rng, n, *weights(key, spec.get(key, default)))

    ages_spec = spec.get("age", {"normal": [42, 16], "min": 18, "max": 88})
    ages = _whole_ages(ages_spec, numeric("age", ages_spec, ("normal", "uniform")), rng, n)
    genders = category("gender", dist["gender"])
    country_key = "countries" if "countries" in spec else "country"
    default_countries = {c: t["weight"] for c, t in dist["countries"].items()}
    countries = choose(rng, n, *weights(country_key, spec.get(country_key, default_countries)))
    if "education" in spec:
        education = category("education", None)
    else:
        education = cap_education(category("education", dist["education"]), ages)
    if "occupation" in spec:
        occupations = category("occupation", None)
    else:
        occupations = default_occupations(rng, education, ages)
    leanings = category("political_leaning", dist["political_leaning"])
    styles = category("communication_style", dist["communication_styles"])
    lists = {
        key: choose_k(rng, n, *list_spec(key, spec.get(key, dist[key]), k))
        for key, k in (("values", (2, 3)), ("interests", (2, 4)))
    }
    five = spec.get("big_five", {"beta": [5, 5]})
    if not isinstance(five, dict):
        raise ConfigError(f"{WHERE}.big_five: expected {{'beta': [a, b]}} or {{trait: ...}}")
    if set(five) <= set(TRAITS):
        traits = {
            t: numeric(f"big_five.{t}", five.get(t, {"beta": [5, 5]}), ("beta", "uniform"))
            for t in TRAITS
        }
    else:
        shared = numeric("big_five", five, ("beta", "uniform"))
        traits = dict.fromkeys(TRAITS, shared)
    big_five = {t: draw(rng, n) for t, draw in traits.items()}
    scalars = {
        key: numeric(key, spec.get(key, default), kinds)(rng, n)
        for key, default, kinds in (
            ("credulity", {"beta": [2, 3]}, ("beta", "uniform")),
            ("stubbornness", {"beta": [2, 5]}, ("beta", "uniform")),
            ("activity_rate", {"lognormal": [0.0, 0.5]}, ("lognormal", "uniform")),
        )
    }
    if "names" in spec:
        pool, _ = weights("names", spec["names"])
        picks = rng.choice(len(pool), size=n, replace=n > len(pool))
        pool = [str(v) for v in pool]
        names = [pool[i] for i in picks.tolist()]
    else:
        names = sample_names(rng, countries, genders)
    templates = rng.integers(0, len(TEMPLATES), n).tolist()
    # drawn only when given, from a stream of their own (a jump ahead of `rng`, which is left
    # where it was), so that giving them changes no other draw of the run: the personas, and
    # after them the placement, groups and initial credences, stay as they were
    side = (
        np.random.Generator(rng.bit_generator.jumped())
        if SUSCEPTIBILITIES[0] in spec or (SUSCEPTIBILITIES[1] in spec)
        else rng
    )
    for key in SUSCEPTIBILITIES:
        given = key in spec
        scalars[key] = (
            numeric(key, spec[key], ("beta", "uniform"))(side, n) if given else np.zeros(n)
        )

    columns: dict[str, Any] = {
        "name": names,
        "age": ages,
        "gender": genders,
        "country": countries,
        "occupation": occupations,
        "education": education,
        "political_leaning": leanings,
        "values": lists["values"],
        "interests": lists["interests"],
        "communication_style": styles,
        **{f"big_five.{t}": v for t, v in big_five.items()},
        **scalars,
    }
    return SampledPersonas(columns, np.asarray(templates, dtype=np.int8), fixed)


class SampledPersonas(Sequence[Persona]):
    """Sampled personas kept as compact columns; ``[i]`` builds persona i anew.

    Numbers are numpy arrays, repeated strings and value lists are codes into small
    tables, and the backstory is rebuilt from its template number, so a persona costs
    about 150 bytes plus its name instead of a pydantic object of some kilobytes; a
    100,000-agent population never holds its personas as objects all at once.
    ``column(field)`` reads one field for everyone (``"big_five.openness"`` for a trait);
    fixed fields apply to both. Persona i has id i; :meth:`take` reorders.
    """

    _checked: dict[str, Any] | None = None  # the fixed fields' validated values, once checked
    _rows: np.ndarray | None = None  # the number columns, a row per persona

    def __init__(
        self, columns: dict[str, Any], templates: np.ndarray, fixed: dict[str, Any]
    ) -> None:
        self._n = len(templates)
        self._columns: dict[str, Any] = {}
        for key, values in columns.items():
            if isinstance(values, CodedColumn | TupleColumn):
                self._columns[key] = values
            elif key == "name":
                self._columns[key] = list(values)
            elif key in ("values", "interests"):
                self._columns[key] = CodedColumn([tuple(v) for v in values])
            elif isinstance(values, np.ndarray):
                self._columns[key] = values.astype(np.int64 if key == "age" else np.float64)
            else:
                self._columns[key] = CodedColumn(list(values))
        self._templates = templates
        self._fixed = fixed
        self._tuples: dict[str, list[tuple]] = {}
        self._rows = self._pack(self._columns)
        self._check()

    @staticmethod
    def _pack(columns: dict[str, Any]) -> np.ndarray | None:
        """The number columns as one row per persona (columns kept as views into it), so that
        a persona's numbers are read in one go; None when a number column is not an array."""
        cols = [columns.get(key) for key in _NUMBERS]
        if not all(isinstance(c, np.ndarray) and c.dtype == np.float64 for c in cols):
            return None
        rows = np.column_stack(cols)
        for j, key in enumerate(_NUMBERS):
            columns[key] = rows[:, j]
        return rows

    def _check(self) -> None:
        """Validate now what validating every persona would find, without building them all.

        Numbers are range-checked as arrays against the Persona fields' bounds; one persona
        per distinct coded value is built, which covers the rest. The first failing persona
        raises its own error.
        """
        self._checked = None
        if not self._n:
            self._checked = {}
            return
        suspects = {0}
        for key, col in self._columns.items():
            if isinstance(col, TupleColumn | CodedColumn):
                suspects.update(col.first_rows())
            elif isinstance(col, np.ndarray):
                low, high, open_low = _BOUNDS.get(key.split(".")[0], (0.0, 1.0, False))
                bad = ~np.isfinite(col) | (col > high) | ((col <= low) if open_low else (col < low))
                if bad.any():
                    suspects.add(int(np.argmax(bad)))
        for i in sorted(suspects):
            persona = self.get(i)
            if i == 0:  # the fixed fields' values as validation made them, for every persona
                fixed = {key: getattr(persona, key) for key in self._fixed}
        self._checked = fixed

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> Persona: ...

    @overload
    def __getitem__(self, index: slice) -> list[Persona]: ...

    def __getitem__(self, index: int | slice) -> Persona | list[Persona]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        if not -self._n <= index < self._n:
            raise IndexError(f"persona {index} of {self._n}")
        return self.get(index % self._n)

    def column(self, field: str) -> list[Any]:
        """One field of every persona, in order."""
        fixed = self._fixed_value(field)
        if fixed is not _UNSET:
            return [fixed] * self._n
        values = self._columns[field]
        if field in ("values", "interests"):
            return [list(v) for v in values.tolist()]
        return list(values) if isinstance(values, list) else values.tolist()

    def array(self, field: str) -> np.ndarray | None:
        """One field of every persona as the array it is held in (numbers as they are, free
        text such as names as objects), without a Python object per number; None for a
        fixed field or one held as codes (:meth:`column`, :meth:`coded`)."""
        if self._fixed_value(field) is not _UNSET:
            return None
        values = self._columns.get(field)
        if isinstance(values, list):
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return out
        return values if isinstance(values, np.ndarray) else None

    def coded(self, field: str) -> tuple[np.ndarray, list[Any]]:
        """One field of every persona as (codes, table): persona i holds ``table[codes[i]]``.

        Lists (values, interests) come as tuples. Much cheaper than :meth:`column` for a
        large population: ``[";".join(t) for t in table]`` then indexed by the codes gives
        the joined lists without building a list per persona.
        """
        fixed = self._fixed_value(field)
        if fixed is not _UNSET:
            value = tuple(fixed) if field in ("values", "interests") else fixed
            return np.zeros(self._n, dtype=np.int32), [value]
        col = self._columns[field]
        if isinstance(col, CodedColumn):
            return col.codes, col.table
        if isinstance(col, TupleColumn):
            return col.codes, self._table(field)
        coded = CodedColumn(col.tolist() if isinstance(col, np.ndarray) else col)
        return coded.codes, coded.table

    def _fixed_value(self, field: str) -> Any:
        """The value every persona holds in a fixed field (a big-five trait fixed on its
        own included), or _UNSET where the field was drawn."""
        fixed = self._fixed.get(field, _UNSET)
        top, _, trait = field.partition(".")
        if top == "big_five" and isinstance(self._fixed.get("big_five"), dict):
            fixed = self._fixed["big_five"].get(trait, fixed)
        return fixed

    def take(self, order: Sequence[int]) -> SampledPersonas:
        """The personas reordered: persona i of the result is persona ``order[i]`` here."""
        idx = np.asarray(order, dtype=np.int64)
        out = SampledPersonas.__new__(SampledPersonas)
        out._n = len(idx)
        packed = _NUMBERS if self._rows is not None else ()  # (taken with the rows below)
        out._columns = {
            key: [col[i] for i in idx.tolist()] if isinstance(col, list) else col.take(idx)
            if isinstance(col, CodedColumn | TupleColumn) else col if key in packed else col[idx]
            for key, col in self._columns.items()
        }  # fmt: skip
        if self._rows is not None:
            out._rows = self._rows[idx]
            for j, key in enumerate(_NUMBERS):
                out._columns[key] = out._rows[:, j]
        else:
            out._rows = None
        out._templates = self._templates[idx]
        out._fixed = self._fixed
        out._tuples = self._tuples
        out._checked = self._checked
        return out

    def get(self, i: int) -> Persona:
        """Persona i (a new object each time)."""
        cols = self._columns
        if self._rows is not None:
            numbers = self._rows[i].tolist()  # the traits, then _FLOATS
        else:
            numbers = [float(cols[key][i]) for key in _NUMBERS]
        fields: dict[str, Any] = {
            "id": int(i),
            "name": cols["name"][i],
            "age": int(cols["age"][i]),
            "big_five": dict(zip(TRAITS, numbers, strict=False)),
            "values": list(self._tuple("values", i)),
            "interests": list(self._tuple("interests", i)),
        }
        for key in _CODED:
            fields[key] = cols[key][i]
        fields.update(zip(_FLOATS, numbers[len(TRAITS) :], strict=True))
        fields.update(self._fixed)
        if "backstory" not in self._fixed:
            fields["backstory"] = backstory(int(self._templates[i]), fields["name"], fields)
        checked = self._checked
        if checked is None:  # not checked yet (while _check runs): validate
            try:
                return Persona.model_validate(fields)
            except ValidationError as exc:
                raise ConfigError(
                    f"{WHERE}: sampled persona is invalid: {describe_error(exc)}"
                ) from None
        # every column was checked (_check), and the fixed values were validated once: the
        # persona is built as validating these fields would build it, without doing so
        fields["big_five"] = trusted(BigFive, fields["big_five"])
        for key, value in checked.items():
            fields[key] = value.model_copy() if isinstance(value, BigFive) else copy(value)
        return trusted(Persona, fields)

    def _tuple(self, key: str, i: int) -> tuple:
        """Row i of a column of tuples (values, interests), through its table of distinct
        tuples (made on first use after the check, which reads a few rows only)."""
        col = self._columns[key]
        if not isinstance(col, TupleColumn) or self._checked is None:
            return col[i]
        return self._table(key)[col.codes[i]]

    def _table(self, key: str) -> list[tuple]:
        """The distinct tuples of a column of tuples, made once."""
        table = self._tuples.get(key)
        if table is None:
            table = self._tuples[key] = self._columns[key].table()
        return table


def _whole_ages(spec: Any, draw: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    """Ages in whole years. ``{uniform: [lo, hi]}`` gives every whole age from lo to hi
    equally often (a continuous draw rounded would give lo and hi half as often); a normal
    draw is rounded to the nearest year."""
    if isinstance(spec, dict) and "uniform" in spec:
        draw(rng, 0)  # the spec's own checks
        lo, hi = (float(v) for v in spec["uniform"])
        if math.ceil(lo) <= math.floor(hi):
            return rng.integers(math.ceil(lo), math.floor(hi) + 1, n)
    return np.rint(draw(rng, n)).astype(int)


_UNSET = object()
_CODED = (
    "gender", "country", "occupation", "education", "political_leaning", "communication_style",
)  # fmt: skip
SUSCEPTIBILITIES = ("framing_susceptibility", "source_susceptibility")
_FLOATS = ("credulity", "stubbornness", "activity_rate", *SUSCEPTIBILITIES)
_NUMBERS = (*(f"big_five.{t}" for t in TRAITS), *_FLOATS)  # the packed number columns
_BOUNDS = {"age": (13, 110, False), "activity_rate": (0.0, np.inf, True)}  # (low, high, low open)
