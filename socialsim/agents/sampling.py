"""Sampling personas from the built-in distributions, seeded.

``sample_personas(n, rng, spec)`` draws every field from ``rng`` alone, so a seed reproduces
the population. The built-in tables live in ``socialsim/agents/data/`` (names by region,
22 countries, 42 occupations, 22 values, 42 interests, 10 communication styles). A ``spec``
(the ``population.personas`` mapping of a config) overrides them; its keys:

- ``generator``: ``"default"`` (the only generator).
- ``names``: a list of full names to draw from instead of the regional name tables.
- ``age``: a number, ``{"normal": [mean, sd], "min": 18, "max": 90}`` or ``{"uniform": [lo, hi]}``.
- ``gender``, ``country`` (or ``countries``), ``occupation``, ``education``,
  ``political_leaning``, ``communication_style``: ``{value: weight}``, a list of values
  (equal weights) or one value. The default occupations follow education and age
  (the young are mostly students, the old mostly retired); overriding them turns this off.
- ``values``, ``interests``: a list or ``{value: weight}`` of options, or
  ``{"options": <list or weights>, "k": [lo, hi]}`` to pick between lo and hi of them.
- ``credulity``, ``stubbornness``: a number, ``{"beta": [a, b]}`` or ``{"uniform": [lo, hi]}``.
- ``big_five``: ``{"beta": [a, b]}`` for every trait, or ``{trait: <number or beta>}``.
- ``activity_rate``: a number, ``{"lognormal": [mu, sigma]}`` or ``{"uniform": [lo, hi]}``.
- ``fixed``: ``{field: value}`` set on every persona (e.g. ``{"occupation": "teacher"}``);
  fixed demographics steer the other draws (names follow a fixed country).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, get_args, overload

import numpy as np
from pydantic import ValidationError

from socialsim.agents.persona import BigFive, Leaning, Persona
from socialsim.errors import ConfigError

_DATA = Path(__file__).parent / "data"
_WHERE = "population.personas"
SPEC_KEYS = (
    "generator", "names", "age", "gender", "country", "countries", "occupation", "education",
    "political_leaning", "communication_style", "values", "interests", "credulity",
    "stubbornness", "big_five", "activity_rate", "fixed",
)  # fmt: skip
LEANINGS: tuple[str, ...] = get_args(Leaning)
TRAITS = tuple(BigFive.model_fields)
_VOWELS = frozenset("aeiou")
_DRAWN = (
    "age", "gender", "country", "education", "occupation", "political_leaning",
    "communication_style", "credulity", "stubbornness", "activity_rate",
)  # fmt: skip


@cache
def _tables() -> tuple[dict[str, Any], dict[str, Any]]:
    with open(_DATA / "distributions.json", encoding="utf-8") as f:
        dist = json.load(f)
    with open(_DATA / "names.json", encoding="utf-8") as f:
        names = json.load(f)
    return dist, names


# --- spec parsing ----------------------------------------------------------------------------


def _weights(key: str, value: Any) -> tuple[list[Any], np.ndarray]:
    """Options and normalised probabilities from a weights dict, a list, or one value."""
    if isinstance(value, dict):
        options, weights = list(value), list(value.values())
    elif isinstance(value, list):
        options, weights = list(value), [1.0] * len(value)
    else:
        options, weights = [value], [1.0]
    try:
        p = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{_WHERE}.{key}: weights must be numbers, got {weights!r}") from None
    if not options or (p < 0).any() or not p.sum() > 0:
        raise ConfigError(f"{_WHERE}.{key}: needs at least one option and positive weights")
    return options, p / p.sum()


def _pair(key: str, value: Any, kind: str) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise ConfigError(f"{_WHERE}.{key}: {kind} takes two numbers, got {value!r}")
    try:
        return float(value[0]), float(value[1])
    except (TypeError, ValueError):
        raise ConfigError(f"{_WHERE}.{key}: {kind} takes two numbers, got {value!r}") from None


def _numeric(key: str, value: Any, kinds: tuple[str, ...]):
    """A sampler `(rng, n) -> array` from a number or a one-key distribution dict."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return lambda rng, n: np.full(n, float(value))
    if isinstance(value, dict) and value:
        kind = next(iter(value))
        if kind in kinds:
            a, b = _pair(key, value[kind], kind)
            extra = set(value) - {kind} - ({"min", "max"} if kind == "normal" else set())
            if not extra:
                return _sampler(key, kind, a, b, value.get("min"), value.get("max"))
    forms = ", ".join(f"{{{k!r}: [a, b]}}" for k in kinds)
    raise ConfigError(f"{_WHERE}.{key}: expected a number or one of {forms}, got {value!r}")


def _sampler(key: str, kind: str, a: float, b: float, lo: Any, hi: Any):
    if kind == "beta":
        if a <= 0 or b <= 0:
            raise ConfigError(f"{_WHERE}.{key}: beta parameters must be > 0, got [{a}, {b}]")
        return lambda rng, n: rng.beta(a, b, n)
    if kind == "uniform":
        if a > b:
            raise ConfigError(f"{_WHERE}.{key}: uniform needs lo <= hi, got [{a}, {b}]")
        return lambda rng, n: rng.uniform(a, b, n)
    if kind == "lognormal":
        return lambda rng, n: rng.lognormal(a, b, n)
    low = float(lo) if lo is not None else -np.inf
    high = float(hi) if hi is not None else np.inf
    if b < 0 or low >= high:
        raise ConfigError(f"{_WHERE}.{key}: normal needs sd >= 0 and min < max")
    return lambda rng, n: _truncated_normal(rng, n, a, b, low, high)


def _truncated_normal(rng, n: int, mean: float, sd: float, low: float, high: float) -> np.ndarray:
    out = rng.normal(mean, sd, n)
    for _ in range(100):
        bad = (out < low) | (out > high)
        if not bad.any():
            return out
        out[bad] = rng.normal(mean, sd, int(bad.sum()))
    return np.clip(out, low, high)


def _list_spec(key: str, value: Any, default_k: tuple[int, int]):
    if isinstance(value, dict) and set(value) & {"options", "k"}:
        if set(value) - {"options", "k"}:
            raise ConfigError(f"{_WHERE}.{key}: allowed keys are 'options' and 'k'")
        options, p = _weights(key, value.get("options", _tables()[0][key]))
        k = value.get("k", list(default_k))
        k = [k, k] if isinstance(k, int) else k
        lo, hi = (int(x) for x in _pair(key, k, "k"))
        if not 0 <= lo <= hi:
            raise ConfigError(f"{_WHERE}.{key}.k: needs 0 <= lo <= hi, got {k!r}")
        return options, p, (lo, hi)
    options, p = _weights(key, value)
    return options, p, default_k


def _check_spec(spec: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise ConfigError(f"{_WHERE}: expected 'default', a file path or a mapping, got {spec!r}")
    for key in spec:
        if key not in SPEC_KEYS:
            allowed = ", ".join(SPEC_KEYS)
            raise ConfigError(f"{_WHERE}.{key}: unknown key; allowed keys are {allowed}")
    if spec.get("generator", "default") != "default":
        raise ConfigError(f"{_WHERE}.generator: {spec['generator']!r} is unknown; use 'default'")
    if "country" in spec and "countries" in spec:
        raise ConfigError(f"{_WHERE}: give 'country' or 'countries', not both")
    fixed = spec.get("fixed", {})
    if not isinstance(fixed, dict):
        raise ConfigError(f"{_WHERE}.fixed: expected a mapping of persona fields to values")
    for field in fixed:
        if field not in Persona.model_fields or field == "id":
            raise ConfigError(f"{_WHERE}.fixed.{field}: not a persona field that can be fixed")
    if "political_leaning" in spec:
        for value in _weights("political_leaning", spec["political_leaning"])[0]:
            if value not in LEANINGS:
                raise ConfigError(
                    f"{_WHERE}.political_leaning: {value!r} is not one of {', '.join(LEANINGS)}"
                )
    return spec


# --- sampling --------------------------------------------------------------------------------


def _choose(rng, n: int, options: list[Any], p: np.ndarray) -> _Coded:
    """n weighted draws of the options, as codes into `options`."""
    return _Coded.of(rng.choice(len(options), size=n, p=p), list(options))


def _choose_k(rng, n: int, options: list[Any], p: np.ndarray, k: tuple[int, int]) -> _Tuples:
    """n weighted samples without replacement of lo..hi options each (Gumbel top-k).

    Each row keeps its draws in order of decreasing key.
    """
    hi = min(k[1], int((p > 0).sum()))
    counts = rng.integers(min(k[0], hi), hi + 1, size=n)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    top = np.full((n, hi), -1, dtype=np.int64)
    for start in range(0, n, 50_000):
        m = min(n, start + 50_000) - start
        keys = -(logp + rng.gumbel(size=(m, len(options))))
        if hi:
            best = np.argpartition(keys, hi - 1, axis=1)[:, :hi]
            order = np.argsort(np.take_along_axis(keys, best, axis=1), axis=1)
            top[start : start + m] = np.take_along_axis(best, order, axis=1)
    top[np.arange(hi)[None, :] >= counts[:, None]] = -1
    return _Tuples.of(top, list(options))


def _rows_by(codes: np.ndarray, table: list[Any]) -> list[tuple[Any, np.ndarray]]:
    """(value, rows holding it in increasing order) for each value present, values sorted."""
    present = np.unique(codes)
    return sorted(((table[c], np.flatnonzero(codes == c)) for c in present.tolist()), key=_first)


def _first(item: tuple[Any, np.ndarray]) -> Any:
    return item[0]


_MIDDLE = [""] + [f" {chr(64 + i)}." for i in range(1, 27)]  # no initial, or one of A..Z


def _sample_names(rng, countries: _Coded, genders: _Coded) -> list[str]:
    """Region-appropriate names, unique in the population while combinations last.

    Once a region's first x last combinations run out, middle initials widen the pool.
    """
    dist, tables = _tables()
    known = dist["countries"]
    n = len(countries.codes)
    regions = sorted(tables)
    region_of = np.zeros(n, dtype=np.int64)
    for code, rows in _rows_by(countries.codes, countries.table):
        mix = known[code]["names"] if code in known else dict.fromkeys(regions, 1.0)
        drawn = _choose(rng, len(rows), *_weights("names", mix))
        region_of[rows] = np.asarray([regions.index(r) for r in drawn.table])[drawn.codes]
    sexes = ("any", "female", "male")
    sex_of = np.asarray([sexes.index(g) if g in sexes[1:] else 0 for g in genders.table])
    pair = region_of * 3 + sex_of[genders.codes]
    labels = [(r, x) for r in regions for x in sexes]
    names: list[str] = [""] * n
    seen: set[str] = set()
    for (region, sex), rows in _rows_by(pair, labels):
        table = tables[region]
        firsts = table["female"] + table["male"] if sex == "any" else table[sex]
        lasts = table["last"]
        combos = len(firsts) * len(lasts)
        space = combos * 27

        def name(code: int, firsts=firsts, lasts=lasts, combos=combos) -> str:
            initial, c = divmod(code, combos)
            return f"{firsts[c // len(lasts)]}{_MIDDLE[initial]} {lasts[c % len(lasts)]}"

        plain = rng.choice(combos, size=min(len(rows), combos), replace=False)
        wide = rng.choice(
            space - combos, size=min(len(rows) - len(plain), space - combos), replace=False
        )
        rest = rng.integers(0, space, len(rows) - len(plain) - len(wide))
        codes = rng.permutation(np.concatenate([plain, wide + combos, rest]))
        initial, c = np.divmod(codes, combos)
        first, last = np.divmod(c, len(lasts))
        drawn = [
            f"{firsts[a]}{_MIDDLE[b]} {lasts[d]}"
            for a, b, d in zip(first.tolist(), initial.tolist(), last.tolist(), strict=True)
        ]
        collided = []
        for i, drawn_name in zip(rows.tolist(), drawn, strict=True):
            names[i] = drawn_name
            if drawn_name in seen:
                collided.append(i)
            else:
                seen.add(drawn_name)
        if collided and len(rows) < space:
            for i, tries in zip(
                collided, rng.integers(0, space, (len(collided), 8)).tolist(), strict=True
            ):
                fresh = next((n for n in map(name, tries) if n not in seen), None)
                if fresh is not None:
                    names[i] = fresh
                    seen.add(fresh)
    return names


def _default_occupations(rng, education: _Coded, ages: np.ndarray) -> _Coded:
    """Occupations compatible with each education level; students young, retirees old."""
    dist = _tables()[0]
    levels = list(dist["education"])
    rank = {e: i for i, e in enumerate(levels)}
    table = dist["occupations"]
    names = list(table) + [o for o in ("student", "retired") if o not in table]
    level_of = np.asarray([rank.get(e, len(levels) - 1) for e in education.table])
    level_of = level_of[education.codes] if len(education.table) else education.codes
    out = np.zeros(len(education.codes), dtype=np.int64)
    for level in np.unique(level_of).tolist():
        rows = np.flatnonzero(level_of == level)
        fits = {o: t["weight"] for o, t in table.items() if rank[t["min_education"]] <= level}
        drawn = _choose(rng, len(rows), *_weights("occupation", fits))
        out[rows] = np.asarray([names.index(o) for o in drawn.table])[drawn.codes]
    u = rng.random(len(education.codes))
    out[(ages < 23) & (u < 0.6)] = names.index("student")
    out[(ages >= 67) & (u < 0.85)] = names.index("retired")
    return _Coded.of(out, names)


def _cap_education(education: _Coded, ages: np.ndarray) -> _Coded:
    """Education no higher than the age allows: secondary under 21, bachelor's under 23,
    master's under 26."""
    caps = ((21, "secondary"), (23, "bachelor's"), (26, "master's"))
    order = list(_tables()[0]["education"])
    table = list(education.table) + [cap for _, cap in caps if cap not in education.table]
    rank = np.asarray([order.index(e) if e in order else -1 for e in table])
    codes = education.codes.copy()
    done = np.zeros(len(codes), dtype=bool)
    for age, cap in caps:
        hit = ~done & (ages < age) & (rank[codes] > order.index(cap))
        codes[hit] = table.index(cap)
        done |= hit
    return _Coded.of(codes, table)


_TEMPLATES = (
    "{first} {role} in {place} and spends free time on {i1} and {i2}.",
    "{first} {role} in {place}, has {edu}, and cares most about {v1}.",
    "Raised in {place}, {first} {role} and is passionate about {i1}.",
    "{first} {role} in {place}, is known among friends for a love of {i1}, and values {v1}.",
)


_ROLES = {"retired": "is retired", "unemployed": "is between jobs", "student": "is a student"}


def _backstory(template: int, name: str, fields: dict[str, Any]) -> str:
    """One sentence assembled from the persona's own fields."""
    dist = _tables()[0]
    occupation = fields["occupation"]
    role = _ROLES.get(occupation)
    if role is None:
        vowel = occupation[:1].lower() in _VOWELS and not occupation.startswith(("uni", "eu"))
        role = f"works as {'an' if vowel else 'a'} {occupation}"
    country = dist["countries"].get(fields["country"], {}).get("name", fields["country"])
    education = fields["education"]
    interests = fields["interests"] + ["their hobbies", "their friends"]
    return _TEMPLATES[template].format(
        first=name.split()[0], role=role, place=country,
        edu=dist["education_phrases"].get(education, f"{education} education"),
        i1=interests[0], i2=interests[1], v1=(fields["values"] or ["their family"])[0],
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
    spec = _check_spec(spec or {})
    dist = _tables()[0]
    fixed = spec.get("fixed", {})
    if "country" in fixed:
        spec = {k: v for k, v in spec.items() if k != "countries"}
    spec = {**spec, **{k: v for k, v in fixed.items() if k in _DRAWN}}  # fixed values drive draws

    def category(key: str, default: Any) -> _Coded:
        return _choose(rng, n, *_weights(key, spec.get(key, default)))

    ages_spec = spec.get("age", {"normal": [42, 16], "min": 18, "max": 88})
    ages = np.rint(_numeric("age", ages_spec, ("normal", "uniform"))(rng, n)).astype(int)
    genders = category("gender", dist["gender"])
    country_key = "countries" if "countries" in spec else "country"
    default_countries = {c: t["weight"] for c, t in dist["countries"].items()}
    countries = _choose(rng, n, *_weights(country_key, spec.get(country_key, default_countries)))
    if "education" in spec:
        education = category("education", None)
    else:
        education = _cap_education(category("education", dist["education"]), ages)
    if "occupation" in spec:
        occupations = category("occupation", None)
    else:
        occupations = _default_occupations(rng, education, ages)
    leanings = category("political_leaning", dist["political_leaning"])
    styles = category("communication_style", dist["communication_styles"])
    lists = {
        key: _choose_k(rng, n, *_list_spec(key, spec.get(key, dist[key]), k))
        for key, k in (("values", (2, 3)), ("interests", (2, 4)))
    }
    five = spec.get("big_five", {"beta": [5, 5]})
    if not isinstance(five, dict):
        raise ConfigError(f"{_WHERE}.big_five: expected {{'beta': [a, b]}} or {{trait: ...}}")
    if set(five) <= set(TRAITS):
        traits = {
            t: _numeric(f"big_five.{t}", five.get(t, {"beta": [5, 5]}), ("beta", "uniform"))
            for t in TRAITS
        }
    else:
        shared = _numeric("big_five", five, ("beta", "uniform"))
        traits = dict.fromkeys(TRAITS, shared)
    big_five = {t: draw(rng, n) for t, draw in traits.items()}
    scalars = {
        key: _numeric(key, spec.get(key, default), kinds)(rng, n)
        for key, default, kinds in (
            ("credulity", {"beta": [2, 3]}, ("beta", "uniform")),
            ("stubbornness", {"beta": [2, 5]}, ("beta", "uniform")),
            ("activity_rate", {"lognormal": [0.0, 0.5]}, ("lognormal", "uniform")),
        )
    }
    if "names" in spec:
        pool, _ = _weights("names", spec["names"])
        picks = rng.choice(len(pool), size=n, replace=n > len(pool))
        pool = [str(v) for v in pool]
        names = [pool[i] for i in picks.tolist()]
    else:
        names = _sample_names(rng, countries, genders)
    templates = rng.integers(0, len(_TEMPLATES), n).tolist()

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


class _Coded:
    """A column of repeated values as int32 codes into a table of the distinct values."""

    __slots__ = ("codes", "table")

    def __init__(self, values: list[Any]) -> None:
        index: dict[Any, int] = {}
        codes = [index.setdefault(v, len(index)) for v in values]
        self.codes = np.asarray(codes, dtype=np.int32)
        self.table = list(index)

    @classmethod
    def of(cls, codes: np.ndarray, table: list[Any]) -> _Coded:
        """A column from codes into `table` (kept as int32)."""
        out = cls.__new__(cls)
        out.codes, out.table = np.asarray(codes, dtype=np.int32), table
        return out

    def __getitem__(self, i: int) -> Any:
        return self.table[self.codes[i]]

    def take(self, order: np.ndarray) -> _Coded:
        out = _Coded.__new__(_Coded)
        out.codes, out.table = self.codes[order], self.table
        return out

    def tolist(self) -> list[Any]:
        table = self.table
        return [table[c] for c in self.codes.tolist()]


class _Tuples:
    """A column of short tuples of options: per row a code into distinct rows of option indices."""

    __slots__ = ("codes", "rows", "options")

    @classmethod
    def of(cls, picks: np.ndarray, options: list[Any]) -> _Tuples:
        """From an (n, k) array of option indices per row, -1 past each row's end."""
        out = cls.__new__(cls)
        out.options = options
        base = len(options) + 1
        if picks.shape[1] and base ** picks.shape[1] < 2**62:
            weights = base ** np.arange(picks.shape[1], dtype=np.int64)
            keys, codes = np.unique((picks + 1) @ weights, return_inverse=True)
            out.rows = (keys[:, None] // weights % base) - 1
        else:
            out.rows, codes = np.unique(picks, axis=0, return_inverse=True)
        out.codes = codes.reshape(-1).astype(np.int32)
        return out

    def __getitem__(self, i: int) -> tuple:
        options = self.options
        return tuple(options[j] for j in self.rows[self.codes[i]].tolist() if j >= 0)

    def take(self, order: np.ndarray) -> _Tuples:
        """The rows reordered."""
        out = _Tuples.__new__(_Tuples)
        out.codes, out.rows, out.options = self.codes[order], self.rows, self.options
        return out

    def table(self) -> list[tuple]:
        """The distinct tuples, indexed by the codes."""
        options = self.options
        return [tuple(options[j] for j in row if j >= 0) for row in self.rows.tolist()]

    def tolist(self) -> list[tuple]:
        """Every row's tuple, in order."""
        table = self.table()
        return [table[c] for c in self.codes.tolist()]

    def first_rows(self) -> list[int]:
        """The first row holding each option that occurs."""
        held = self.rows[self.codes]
        values, first = np.unique(held.reshape(-1), return_index=True)
        return (first[values >= 0] // max(held.shape[1], 1)).tolist()


class SampledPersonas(Sequence[Persona]):
    """Sampled personas kept as compact columns; ``[i]`` builds persona i anew.

    Numbers are numpy arrays, repeated strings and value lists are codes into small
    tables, and the backstory is rebuilt from its template number, so a persona costs
    about 150 bytes plus its name instead of a pydantic object of some kilobytes; a
    100,000-agent population never holds its personas as objects all at once.
    ``column(field)`` reads one field for everyone (``"big_five.openness"`` for a trait);
    fixed fields apply to both. Persona i has id i; :meth:`take` reorders.
    """

    def __init__(
        self, columns: dict[str, Any], templates: np.ndarray, fixed: dict[str, Any]
    ) -> None:
        self._n = len(templates)
        self._columns: dict[str, Any] = {}
        for key, values in columns.items():
            if isinstance(values, _Coded | _Tuples):
                self._columns[key] = values
            elif key == "name":
                self._columns[key] = list(values)
            elif key in ("values", "interests"):
                self._columns[key] = _Coded([tuple(v) for v in values])
            elif isinstance(values, np.ndarray):
                self._columns[key] = values.astype(np.int64 if key == "age" else np.float64)
            else:
                self._columns[key] = _Coded(list(values))
        self._templates = templates
        self._fixed = fixed
        self._check()

    def _check(self) -> None:
        """Validate now what validating every persona would find, without building them all.

        Numbers are range-checked as arrays against the Persona fields' bounds; one persona
        per distinct coded value is built, which covers the rest. The first failing persona
        raises its own error.
        """
        if not self._n:
            return
        suspects = {0}
        for key, col in self._columns.items():
            if isinstance(col, _Tuples):
                suspects.update(col.first_rows())
            elif isinstance(col, _Coded):
                suspects.update(np.unique(col.codes, return_index=True)[1].tolist())
            elif isinstance(col, np.ndarray):
                low, high, open_low = _BOUNDS.get(key.split(".")[0], (0.0, 1.0, False))
                bad = ~np.isfinite(col) | (col > high) | ((col <= low) if open_low else (col < low))
                if bad.any():
                    suspects.add(int(np.argmax(bad)))
        for i in sorted(suspects):
            self.get(i)

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
        if field in self._fixed:
            return [self._fixed[field]] * self._n
        top, _, trait = field.partition(".")
        if top == "big_five" and isinstance(self._fixed.get("big_five"), dict):
            if trait in self._fixed["big_five"]:
                return [self._fixed["big_five"][trait]] * self._n
        values = self._columns[field]
        if field in ("values", "interests"):
            return [list(v) for v in values.tolist()]
        return list(values) if isinstance(values, list) else values.tolist()

    def coded(self, field: str) -> tuple[np.ndarray, list[Any]]:
        """One field of every persona as (codes, table): persona i holds ``table[codes[i]]``.

        Lists (values, interests) come as tuples. Much cheaper than :meth:`column` for a
        large population: ``[";".join(t) for t in table]`` then indexed by the codes gives
        the joined lists without building a list per persona.
        """
        fixed = self._fixed.get(field, _UNSET)
        top, _, trait = field.partition(".")
        if top == "big_five" and isinstance(self._fixed.get("big_five"), dict):
            fixed = self._fixed["big_five"].get(trait, fixed)
        if fixed is not _UNSET:
            value = tuple(fixed) if field in ("values", "interests") else fixed
            return np.zeros(self._n, dtype=np.int32), [value]
        col = self._columns[field]
        if isinstance(col, _Coded):
            return col.codes, col.table
        if isinstance(col, _Tuples):
            return col.codes, col.table()
        coded = _Coded(col.tolist() if isinstance(col, np.ndarray) else col)
        return coded.codes, coded.table

    def take(self, order: Sequence[int]) -> SampledPersonas:
        """The personas reordered: persona i of the result is persona ``order[i]`` here."""
        idx = np.asarray(order, dtype=np.int64)
        out = SampledPersonas.__new__(SampledPersonas)
        out._n = len(idx)
        out._columns = {
            key: [col[i] for i in idx.tolist()] if isinstance(col, list) else col.take(idx)
            if isinstance(col, _Coded | _Tuples) else col[idx]
            for key, col in self._columns.items()
        }  # fmt: skip
        out._templates = self._templates[idx]
        out._fixed = self._fixed
        return out

    def get(self, i: int) -> Persona:
        """Persona i (a new object each time)."""
        cols = self._columns
        fields: dict[str, Any] = {
            "id": i,
            "name": cols["name"][i],
            "age": int(cols["age"][i]),
            "big_five": {t: float(cols[f"big_five.{t}"][i]) for t in TRAITS},
            "values": list(cols["values"][i]),
            "interests": list(cols["interests"][i]),
        }
        for key in _CODED:
            fields[key] = cols[key][i]
        for key in _FLOATS:
            fields[key] = float(cols[key][i])
        fields.update(self._fixed)
        if "backstory" not in self._fixed:
            fields["backstory"] = _backstory(int(self._templates[i]), fields["name"], fields)
        try:
            return Persona.model_validate(fields)
        except ValidationError as exc:
            raise ConfigError(
                f"{_WHERE}: sampled persona is invalid: {_first_error(exc)}"
            ) from None


_UNSET = object()
_CODED = (
    "gender", "country", "occupation", "education", "political_leaning", "communication_style",
)  # fmt: skip
_FLOATS = ("credulity", "stubbornness", "activity_rate")
_BOUNDS = {"age": (13, 110, False), "activity_rate": (0.0, np.inf, True)}  # (low, high, low open)


def _first_error(exc: ValidationError) -> str:
    """'field <name>: <message>' for the first problem of a persona validation error."""
    err = exc.errors()[0]
    field = ".".join(str(x) for x in err["loc"]) or "persona"
    return f"field {field!r}: {err['msg']}"
